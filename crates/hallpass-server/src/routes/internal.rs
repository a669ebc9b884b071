//! The service-to-service bridge: `GET /internal/user`. A service behind the site (the chatbot)
//! forwards the reader's `Cookie` or `Authorization` header, or names a user by `?id=` or
//! `?email=`, and gets the user, the profile and (when identified by one) the live session.
//!
//! Every call needs `X-Internal-Secret` equal to `HALLPASS_INTERNAL_SECRET`, compared in constant
//! time. Without a configured secret the bridge does not exist (404). Wrong secrets are counted
//! per client address: after a few in a minute that address is refused (429) without even
//! comparing, so the secret cannot be guessed at speed. With `HALLPASS_INTERNAL_LISTEN` the bridge
//! is served on a listener of its own and not on the public one.

use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::routes::models::User;
use crate::routes::{json_with, no_store};
use crate::state::AppState;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use hallpass_core::DomainError;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Wrong secrets allowed per client address and window before it is refused.
const MAX_FAILURES: u32 = 5;
/// The window.
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most (the map is emptied beyond; a flood of addresses gains nothing but
/// a fresh count, each still limited).
const MAX_TRACKED: usize = 10_000;

/// The routes, under `/internal`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(user))
}

/// A user, and the session that identified them (null when named by id or email).
#[derive(ToSchema)]
pub struct InternalUserResponse {
    /// The user with the profile.
    pub user: User,
    /// The reader's live session, without its token.
    #[schema(required = true)]
    pub session: Option<InternalSession>,
}

/// A session as the bridge shows it: without the token.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct InternalSession {
    /// 32-character id (a JWT's `sid`).
    pub id: String,
    /// The owner's id.
    pub user_id: String,
    /// When the session stops being valid.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// When the session was created.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the session was last extended.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Client IP, or `""` when unknown.
    pub ip_address: String,
    /// Client user agent, or `""`.
    pub user_agent: String,
}

/// Failed attempts per client address.
#[derive(Default)]
pub struct SecretGuard {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl SecretGuard {
    /// Reserves one comparison for this address, or refuses when its window's budget of wrong
    /// secrets is spent. Checking and counting under one lock keeps concurrent guesses within
    /// the budget too.
    fn reserve(&self, ip: IpAddr) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED && !map.contains_key(&ip) {
            map.clear();
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        if entry.0 >= MAX_FAILURES {
            return false;
        }
        entry.0 += 1;
        true
    }

    /// Gives back a reserved comparison that found the right secret.
    fn release(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = map.get_mut(&ip) {
            entry.0 = entry.0.saturating_sub(1);
        }
    }
}

/// Checks `X-Internal-Secret`: 404 when the bridge is off, 429 for an address that failed too
/// often, 401 for a wrong or missing secret.
fn authorize(state: &AppState, headers: &HeaderMap, ext: &Extensions) -> ApiResult<()> {
    let Some(secret) = &state.config.internal_secret else {
        return Err(ApiError::not_found());
    };
    let ip = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    if !state.internal_guard.reserve(ip) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many wrong internal secrets. Please try again later.",
        ));
    }
    let presented = headers
        .get("x-internal-secret")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if secret.matches(presented) {
        state.internal_guard.release(ip);
        return Ok(());
    }
    tracing::warn!(%ip, "wrong internal secret");
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "INVALID_INTERNAL_SECRET",
        "Missing or wrong X-Internal-Secret",
    ))
}

/// The session as the bridge shows it: without the token, which the caller does not need.
fn session_json(session: &hallpass_core::Session) -> Value {
    let mut v = session.to_json();
    if let Value::Object(m) = &mut v {
        m.remove("token");
    }
    v
}

/// The user a forwarded credential identifies (the reader's `Cookie` or `Authorization: Bearer`,
/// a session token or a hallpass JWT), or the user named by `id` or `email`.
#[utoipa::path(
    get,
    path = "/user",
    tag = crate::openapi::tag::INTERNAL,
    params(
        ("id" = Option<String>, Query, description = "A user id; wins over `email`"),
        ("email" = Option<String>, Query, description = "A user's email address"),
    ),
    security(
        ("internal_secret" = []),
        ("internal_secret" = [], "bearer" = []),
        ("internal_secret" = [], "session_cookie" = []),
    ),
    responses(
        (status = 200, description = "The user (and the session, when identified by one)", body = InternalUserResponse,
            headers(("cache-control" = String, description = "`no-store`"))),
        (status = 400, description = "Nothing identifies a user, or a malformed email: VALIDATION_ERROR, INVALID_EMAIL", body = ErrorBody),
        (status = 401, description = "A missing or wrong secret (INVALID_INTERNAL_SECRET), or a forwarded credential that is not valid (UNAUTHORIZED)", body = ErrorBody),
        (status = 404, description = "No internal secret is configured (NOT_FOUND), or no user has this id or email (USER_NOT_FOUND)", body = ErrorBody),
        (status = 429, description = "Too many wrong secrets from this address in a minute: TOO_MANY_REQUESTS", body = ErrorBody),
    ),
)]
async fn user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: Extensions,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    authorize(&state, &headers, &ext)?;
    let mut out = HeaderMap::new();
    no_store(&mut out);
    let by_id = query.get("id").filter(|v| !v.is_empty());
    let by_email = query.get("email").filter(|v| !v.is_empty());
    let user = match (by_id, by_email) {
        (Some(id), _) => state.auth.user_by_id(id).await,
        (None, Some(email)) => state.auth.user_by_email(email).await,
        (None, None) => {
            if !headers.contains_key("cookie") && !headers.contains_key("authorization") {
                return Err(ApiError::validation(
                    "forward the reader's Cookie or Authorization header, or give id or email",
                ));
            }
            let found = state.reader(&headers).await?;
            let body =
                json!({"user": found.user.to_json(), "session": session_json(&found.session)});
            return Ok(json_with(&body, out));
        }
    };
    let user = user.map_err(|e| match e {
        DomainError::UserNotFound => {
            ApiError::new(StatusCode::NOT_FOUND, "USER_NOT_FOUND", "User not found")
        }
        other => other.into(),
    })?;
    Ok(json_with(
        &json!({"user": user.to_json(), "session": Value::Null}),
        out,
    ))
}

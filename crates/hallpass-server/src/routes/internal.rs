//! The service-to-service bridge: `GET /internal/user`. A service behind the site (the chatbot)
//! forwards the reader's `Cookie` or `Authorization` header, or names a user by `?id=` or
//! `?email=`, and gets the user, the profile and (when identified by one) the live session.
//!
//! Every call needs `X-Internal-Secret` equal to `HALLPASS_INTERNAL_SECRET`, compared in constant
//! time. Without a configured secret the bridge does not exist (404). Wrong secrets are counted
//! per client address: after a few in a minute that address is refused (429) without even
//! comparing, so the secret cannot be guessed at speed. With `HALLPASS_INTERNAL_LISTEN` the bridge
//! is served on a listener of its own and not on the public one.

use crate::http::error::{ApiError, ApiResult};
use crate::routes::{json_with, no_store};
use crate::state::AppState;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use hallpass_core::DomainError;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong secrets allowed per client address and window before it is refused.
const MAX_FAILURES: u32 = 5;
/// The window.
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most (the map is emptied beyond; a flood of addresses gains nothing but
/// a fresh count, each still limited).
const MAX_TRACKED: usize = 10_000;

/// The routes, under `/internal`.
pub fn router() -> Router<AppState> {
    Router::new().route("/user", get(user))
}

/// Failed attempts per client address.
#[derive(Default)]
pub struct SecretGuard {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl SecretGuard {
    fn locked_out(&self, ip: IpAddr) -> bool {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip)
            .is_some_and(|(n, since)| *n >= MAX_FAILURES && since.elapsed() < WINDOW)
    }

    fn failed(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED {
            map.clear();
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
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
    if state.internal_guard.locked_out(ip) {
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
        return Ok(());
    }
    state.internal_guard.failed(ip);
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

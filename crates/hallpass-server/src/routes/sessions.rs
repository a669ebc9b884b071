//! Sessions: `GET /get-session`, `POST /sign-out`, `GET /list-sessions`, `POST /revoke-session`,
//! `/revoke-sessions`, `/revoke-other-sessions` (reference, 2.3 and 3).

use crate::http::body::{Fields, JsonBody};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::origin::check_callback;
use crate::routes::models::{Session, SessionAndUser, StatusBody, SuccessBody};
use crate::routes::{json_with, no_store};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use hallpass_core::service::{ReadOptions, SessionRead};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_session, get_session_post))
        .routes(routes!(sign_out))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(revoke_sessions))
        .routes(routes!(revoke_other_sessions))
}

/// The optional sign-out body.
#[derive(ToSchema)]
pub struct SignOutBody {
    /// A trusted origin or a safe relative path (checked, otherwise unused).
    #[schema(required = false, rename = "callbackURL")]
    pub callback_url: String,
}

/// The revoke-session body.
#[derive(ToSchema)]
pub struct RevokeSessionBody {
    /// The token of the session to end; one that is not the caller's changes nothing.
    pub token: String,
}

/// An optional body with nothing in it (Better Auth's clients send `{}`).
#[derive(ToSchema)]
pub struct EmptyBody {}

/// zod's `z.coerce.boolean()`: any non-empty string is true.
fn flag(query: &HashMap<String, String>, key: &str) -> bool {
    query.get(key).is_some_and(|v| !v.is_empty())
}

/// The session of the request with its user, extended when due (sliding expiry); `null` when
/// there is none.
#[utoipa::path(
    get,
    path = "/api/auth/get-session",
    tag = crate::openapi::tag::BETTER_AUTH,
    params(
        ("disableRefresh" = Option<String>, Query, description = "Any non-empty value: do not extend the session"),
        ("disableCookieCache" = Option<String>, Query, description = "Accepted for Better Auth clients; hallpass keeps no cookie cache"),
    ),
    security((), ("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The session and user, or `null` without a valid session", body = Option<SessionAndUser>,
            headers(
                ("cache-control" = String, description = "`no-store`"),
                ("set-auth-jwt" = String, description = "A JWT about the session's user (not with `[jwt] header = false`)"),
                ("set-cookie" = String, description = "Re-issued when the session was extended, expired when it is gone"),
            )),
    ),
)]
// The whole request, not the `HeaderMap` and `Query` extractors: they copy the headers and parse
// the query on every check, and the common case, an answer from memory, needs neither copy.
async fn get_session(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    let headers = req.headers();
    let mut out = HeaderMap::new();
    no_store(&mut out);
    let Some(token) = state.token(headers) else {
        return Ok(json_with(&Value::Null, out));
    };
    // The common case, a session checked again within seconds: the answer rendered last time,
    // with the same JWT, straight from memory.
    if let Some(answer) = state.auth.cached_answer(&token) {
        return Ok(session_answer(out, answer.body, &answer.jwt));
    }
    // As the `Query` extractor reads it (form_urlencoded, lossy: it cannot fail).
    let query: HashMap<String, String> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let no_refresh = flag(&query, "disableRefresh") || state.dont_remember(headers);
    let found = match state
        .auth
        .session(
            &token,
            ReadOptions {
                no_refresh,
                from_store: false,
            },
        )
        .await?
    {
        SessionRead::Missing | SessionRead::Expired => {
            state.expire_session_cookie(&mut out);
            return Ok(json_with(&Value::Null, out));
        }
        SessionRead::Valid(s) => s,
        SessionRead::Refreshed(s) => {
            state.set_session_cookie(&mut out, &s.session.token, true);
            s
        }
    };
    // Signing is most of what a check read from the database costs: skipped when switched off.
    let (jwt, body) = state
        .auth
        .render_answer(&found, state.config.jwt_header)
        .await?;
    Ok(session_answer(out, body, &jwt))
}

/// A get-session answer: the rendered session and user, with the JWT in `set-auth-jwt` (none
/// when `jwt` is empty: the header is switched off).
fn session_answer(mut headers: HeaderMap, body: Arc<[u8]>, jwt: &str) -> Response {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if jwt.is_empty() {
        // No header to expose.
    } else if let Ok(v) = HeaderValue::from_str(jwt) {
        headers.insert("set-auth-jwt", v);
        crate::http::cookies::expose(&mut headers, "set-auth-jwt");
    }
    let mut res = Response::new(Body::from(Bytes::from_owner(body)));
    *res.headers_mut() = headers;
    res
}

/// Better Auth answers POST only with `deferSessionRefresh`, which hallpass does not use.
#[utoipa::path(
    post,
    path = "/api/auth/get-session",
    tag = crate::openapi::tag::BETTER_AUTH,
    responses(
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
        (status = 405, description = "Always: METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", body = ErrorBody),
    ),
)]
async fn get_session_post() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
        "POST method requires deferSessionRefresh to be enabled in session config",
    )
}

/// Ends the session of the request, if any, and expires the cookies.
#[utoipa::path(
    post,
    path = "/api/auth/sign-out",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = Option<SignOutBody>, content_type = "application/json"),
    security((), ("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Signed out (also without a session)", body = SuccessBody,
            headers(("set-cookie" = String, description = "The session cookies, expired"))),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON)", body = ErrorBody),
        (status = 403, description = "Cookies without a trusted origin, or a bad callback: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN, INVALID_CALLBACK_URL", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ),
)]
async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut f = Fields::optional_object(body)?;
    let callback = f.opt_string("callbackURL");
    f.finish()?;
    check_callback(&state.trusted, callback.as_deref())?;
    if let Some(token) = state.token(&headers) {
        state.auth.sign_out(&token).await?;
    }
    let mut out = HeaderMap::new();
    state.expire_session_cookie(&mut out);
    Ok(json_with(&json!({"success": true}), out))
}

/// The user's unexpired sessions; needs a fresh session (younger than a day by default).
#[utoipa::path(
    get,
    path = "/api/auth/list-sessions",
    tag = crate::openapi::tag::BETTER_AUTH,
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The sessions, with their tokens", body = Vec<Session>),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "The session is too old: SESSION_NOT_FRESH", body = ErrorBody),
    ),
)]
async fn list_sessions(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let current = state.current_from_store(&headers).await?;
    let sessions = state.auth.list_sessions(&current.session).await?;
    let list: Vec<Value> = sessions.iter().map(|s| s.to_json()).collect();
    Ok(json_with(&Value::Array(list), HeaderMap::new()))
}

/// Ends one of the user's sessions; always `{"status": true}`.
#[utoipa::path(
    post,
    path = "/api/auth/revoke-session",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = RevokeSessionBody, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Done (a token that is not the caller's changes nothing)", body = StatusBody,
            headers(("set-cookie" = String, description = "The session cookies, expired, when the caller revoked its own session"))),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON)", body = ErrorBody),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ),
)]
async fn revoke_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let current = state.current_from_store(&headers).await?;
    let mut f = Fields::object(body)?;
    let token = f.string("token");
    f.finish()?;
    state.auth.revoke_session(&current.user.id, &token).await?;
    let mut out = HeaderMap::new();
    if token == current.session.token {
        state.expire_session_cookie(&mut out);
    }
    Ok(json_with(&json!({"status": true}), out))
}

/// Ends every session of the user, this one included.
#[utoipa::path(
    post,
    path = "/api/auth/revoke-sessions",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = Option<EmptyBody>, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Done", body = StatusBody,
            headers(("set-cookie" = String, description = "The session cookies, expired"))),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON)", body = ErrorBody),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ),
)]
async fn revoke_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let current = state.current_from_store(&headers).await?;
    // Better Auth takes no body here and ignores whatever JSON comes.
    let _ = body;
    state.auth.revoke_sessions(&current.user.id, None).await?;
    let mut out = HeaderMap::new();
    state.expire_session_cookie(&mut out);
    Ok(json_with(&json!({"status": true}), out))
}

/// Ends every session of the user but this one.
#[utoipa::path(
    post,
    path = "/api/auth/revoke-other-sessions",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = Option<EmptyBody>, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Done", body = StatusBody),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON)", body = ErrorBody),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ),
)]
async fn revoke_other_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let current = state.current_from_store(&headers).await?;
    // Better Auth takes no body here and ignores whatever JSON comes.
    let _ = body;
    state
        .auth
        .revoke_sessions(&current.user.id, Some(&current.session.token))
        .await?;
    Ok(json_with(&json!({"status": true}), HeaderMap::new()))
}

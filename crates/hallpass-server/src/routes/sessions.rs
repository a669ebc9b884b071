//! Sessions: `GET /get-session`, `POST /sign-out`, `GET /list-sessions`, `POST /revoke-session`,
//! `/revoke-sessions`, `/revoke-other-sessions` (reference, 2.3 and 3).

use crate::http::body::{Fields, JsonBody};
use crate::http::error::{ApiError, ApiResult};
use crate::http::origin::check_callback;
use crate::routes::{json_with, no_store};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use hallpass_core::service::{ReadOptions, SessionRead};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/get-session", get(get_session).post(get_session_post))
        .route("/sign-out", post(sign_out))
        .route("/list-sessions", get(list_sessions))
        .route("/revoke-session", post(revoke_session))
        .route("/revoke-sessions", post(revoke_sessions))
        .route("/revoke-other-sessions", post(revoke_other_sessions))
}

/// zod's `z.coerce.boolean()`: any non-empty string is true.
fn flag(query: &HashMap<String, String>, key: &str) -> bool {
    query.get(key).is_some_and(|v| !v.is_empty())
}

async fn get_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let mut out = HeaderMap::new();
    no_store(&mut out);
    let Some(token) = state.token(&headers) else {
        return Ok(json_with(&Value::Null, out));
    };
    let no_refresh = flag(&query, "disableRefresh") || state.dont_remember(&headers);
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
    let jwt = state.auth.issue_jwt(&found).await?;
    if let Ok(v) = HeaderValue::from_str(&jwt) {
        out.insert("set-auth-jwt", v);
        crate::http::cookies::expose(&mut out, "set-auth-jwt");
    }
    Ok(json_with(&found.to_json(), out))
}

/// Better Auth answers POST only with `deferSessionRefresh`, which hallpass does not use.
async fn get_session_post() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
        "POST method requires deferSessionRefresh to be enabled in session config",
    )
}

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

async fn list_sessions(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let current = state.current_from_store(&headers).await?;
    let sessions = state.auth.list_sessions(&current.session).await?;
    let list: Vec<Value> = sessions.iter().map(|s| s.to_json()).collect();
    Ok(json_with(&Value::Array(list), HeaderMap::new()))
}

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

async fn revoke_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let current = state.current_from_store(&headers).await?;
    Fields::optional_object(body)?.finish()?;
    state.auth.revoke_sessions(&current.user.id, None).await?;
    let mut out = HeaderMap::new();
    state.expire_session_cookie(&mut out);
    Ok(json_with(&json!({"status": true}), out))
}

async fn revoke_other_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let current = state.current_from_store(&headers).await?;
    Fields::optional_object(body)?.finish()?;
    state
        .auth
        .revoke_sessions(&current.user.id, Some(&current.session.token))
        .await?;
    Ok(json_with(&json!({"status": true}), HeaderMap::new()))
}

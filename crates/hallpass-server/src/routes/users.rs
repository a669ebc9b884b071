//! The signed-in user: `POST /update-user` and `POST /change-password` (reference, 2.3).

use crate::http::body::{Fields, JsonBody};
use crate::http::error::{ApiError, ApiResult};
use crate::routes::json_with;
use crate::state::{client_info, AppState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/update-user", post(update_user))
        .route("/change-password", post(change_password))
}

async fn update_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let current = state.current(&headers).await?;
    let Some(Value::Object(body)) = body else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "BODY_MUST_BE_AN_OBJECT",
            "Body must be an object",
        ));
    };
    state.auth.update_user(&current.user.id, &body).await?;
    let mut out = HeaderMap::new();
    let remember = !state.dont_remember(&headers);
    state.set_session_cookie(&mut out, &current.session.token, remember);
    Ok(json_with(&json!({"status": true}), out))
}

async fn change_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let current = state.current_from_store(&headers).await?;
    let mut f = Fields::object(body)?;
    let new = f.string("newPassword");
    let old = f.string("currentPassword");
    let revoke = f.opt_bool("revokeOtherSessions").unwrap_or(false);
    f.finish()?;
    let new_session = state
        .auth
        .change_password(&current.user, &old, &new, revoke, &client_info(&headers))
        .await?;
    let mut out = HeaderMap::new();
    let token = match &new_session {
        Some(s) => {
            state.set_session_cookie(&mut out, &s.token, true);
            json!(s.token)
        }
        None => Value::Null,
    };
    Ok(json_with(
        &json!({"token": token, "user": current.user.to_json()}),
        out,
    ))
}

//! The signed-in user: `POST /update-user` and `POST /change-password` (reference, 2.3).

use crate::http::body::{Fields, JsonBody};
use crate::http::error::{ApiResult, ErrorBody};
use crate::routes::json_with;
use crate::routes::models::{StatusBody, User};
use crate::state::{client_info, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update_user))
        .routes(routes!(change_password))
}

/// A partial update of the user: only the keys present change. The configured profile fields
/// (those clients may set) are added to this schema when the document is built; `email` is refused.
#[derive(ToSchema)]
pub struct UpdateUserBody {
    /// New display name.
    #[schema(required = false, max_length = 256)]
    pub name: String,
    /// New picture URL; null clears it.
    #[schema(required = false, max_length = 2048)]
    pub image: Option<String>,
}

/// The change-password body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ChangePasswordBody {
    /// The new password (configured lengths apply).
    pub new_password: String,
    /// The password in use now.
    pub current_password: String,
    /// true: end every session of the user and answer a new one. Default false.
    #[schema(required = false)]
    pub revoke_other_sessions: bool,
}

/// The user after a password change.
#[derive(ToSchema)]
pub struct ChangePasswordResponse {
    /// The new session's token when other sessions were revoked, else null.
    #[schema(required = true)]
    pub token: Option<String>,
    /// The user.
    pub user: User,
}

/// Changes the name, picture and profile fields of the signed-in user.
#[utoipa::path(
    post,
    path = "/api/auth/update-user",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = UpdateUserBody, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = StatusBody,
            headers(("set-cookie" = String, description = "The session cookie, re-set"))),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON), EMAIL_CAN_NOT_BE_UPDATED, FIELD_NOT_ALLOWED, USER_NOT_FOUND, or no code for \"No fields to update\"", body = ErrorBody),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ),
)]
async fn update_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let current = state.current(&headers).await?;
    let body = Fields::record(body)?.finish()?;
    state.auth.update_user(&current.user.id, &body).await?;
    let mut out = HeaderMap::new();
    let remember = !state.dont_remember(&headers);
    state.set_session_cookie(&mut out, &current.session.token, remember);
    Ok(json_with(&json!({"status": true}), out))
}

/// Changes the password after checking the current one.
#[utoipa::path(
    post,
    path = "/api/auth/change-password",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = ChangePasswordBody, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Changed", body = ChangePasswordResponse,
            headers(("set-cookie" = String, description = "The new session's cookie, when other sessions were revoked"))),
        (status = 400, description = "Invalid body or password: VALIDATION_ERROR, BAD_REQUEST (malformed JSON), PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG, INVALID_PASSWORD, CREDENTIAL_ACCOUNT_NOT_FOUND", body = ErrorBody),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 429, description = "Password hashing is saturated: TOO_MANY_REQUESTS", body = ErrorBody),
    ),
)]
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

//! The account lifecycle (reference, 2.3): password reset, email verification, change of address,
//! account deletion, and the small core endpoints `/verify-password`, `/list-accounts`,
//! `/update-session`. Mail leaves through [`crate::mail::Mailer`], off the request path.

use crate::http::body::{Fields, JsonBody};
use crate::http::cookies::encode_uri_component;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::origin::check_callback;
use crate::mail::{Kind, Mail};
use crate::routes::json_with;
use crate::routes::models::StatusBody;
use crate::state::{client_info, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hallpass_core::{DomainError, User};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_password_reset))
        .routes(routes!(reset_password_link))
        .routes(routes!(reset_password))
        .routes(routes!(send_verification_email))
        .routes(routes!(verify_email))
        .routes(routes!(change_email))
        .routes(routes!(delete_user))
        .routes(routes!(verify_password))
        .routes(routes!(list_accounts))
        .routes(routes!(update_session))
}

/// `{base}/api/auth`: where the links point.
fn api_base(state: &AppState) -> String {
    format!(
        "{}/api/auth",
        state.config.base_url.as_str().trim_end_matches('/')
    )
}

fn minutes(seconds: i64) -> i64 {
    (seconds + 59) / 60
}

fn mail(state: &AppState, kind: Kind, user: &User, to: &str, link: String, ttl: i64) {
    state.mailer.send(Mail {
        kind,
        to: to.to_owned(),
        name: user.name.clone(),
        link,
        valid_minutes: minutes(ttl),
    });
}

/// A 302 to `location`.
fn redirect(location: &str) -> Response {
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `url` with a query parameter appended as it is written (Better Auth's verify-email redirects
/// keep relative callbacks relative).
fn append_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={}", encode_uri_component(value))
}

/// A query parameter that zod would have required.
fn required_query(key: &str) -> ApiError {
    ApiError::validation(format!(
        "[query.{key}] Invalid input: expected string, received undefined"
    ))
}

/// `callbackURL` resolved against the base URL, with a query parameter added.
fn with_param(state: &AppState, callback: &str, key: &str, value: &str) -> String {
    match state.config.base_url.join(callback) {
        Ok(mut u) => {
            u.query_pairs_mut().append_pair(key, value);
            u.to_string()
        }
        Err(_) => format!("/?{key}={}", encode_uri_component(value)),
    }
}

// ---- password reset ------------------------------------------------------------------------

/// The request-password-reset body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RequestResetBody {
    /// The account's address.
    #[schema(schema_with = crate::routes::models::email_address)]
    pub email: String,
    /// Where the mailed link leads (with `?token=`): a trusted origin or a safe relative path.
    #[schema(required = false)]
    pub redirect_to: String,
}

/// The answer to a reset request, the same whether or not the address has an account.
#[derive(ToSchema)]
pub struct RequestResetResponse {
    /// Always true.
    pub status: bool,
    /// "If this email exists in our system, check your email for the reset link".
    pub message: String,
}

/// Mails a password-reset link when the address has an account; answers the same either way.
#[utoipa::path(
    post,
    path = "/api/auth/request-password-reset",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = RequestResetBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Requested (whether or not the address has an account)", body = RequestResetResponse),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON)", body = ErrorBody),
        (status = 403, description = "redirectTo not trusted: INVALID_REDIRECT_URL; origin refused", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 429, description = "Rate limited (3 per 60 s per client when limits are on)", body = ErrorBody),
    ),
)]
async fn request_password_reset(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut f = Fields::object(body)?;
    let email = f.email("email");
    let redirect_to = f.opt_string("redirectTo");
    f.finish()?;
    if let Some(r) = &redirect_to {
        if !state.trusted.allows_callback(r) {
            return Err(ApiError::forbidden(
                "INVALID_REDIRECT_URL",
                "Invalid redirectURL",
            ));
        }
    }
    if let Some(found) = state.auth.request_password_reset(&email).await? {
        let link = format!(
            "{}/reset-password/{}?callbackURL={}",
            api_base(&state),
            found.token,
            encode_uri_component(redirect_to.as_deref().unwrap_or(""))
        );
        let ttl = state.auth.email_policy().reset_ttl;
        mail(
            &state,
            Kind::ResetPassword,
            &found.user,
            &found.user.email,
            link,
            ttl,
        );
    }
    Ok(json_with(
        &json!({"status": true, "message": "If this email exists in our system, check your email for the reset link"}),
        HeaderMap::new(),
    ))
}

/// The query of a mailed link.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// Where to go next: a trusted origin or a safe relative path.
    #[serde(rename = "callbackURL")]
    #[param(rename = "callbackURL")]
    pub callback_url: Option<String>,
}

/// The mailed reset link: redirects to `callbackURL?token=…` while the token is live, else to
/// `callbackURL?error=INVALID_TOKEN`.
#[utoipa::path(
    get,
    path = "/api/auth/reset-password/{token}",
    tag = crate::openapi::tag::BETTER_AUTH,
    params(("token" = String, Path, description = "The mailed token"), CallbackQuery),
    responses(
        (status = 302, description = "To callbackURL with ?token= or ?error=INVALID_TOKEN"),
        (status = 400, description = "No callbackURL: VALIDATION_ERROR", body = ErrorBody),
        (status = 403, description = "callbackURL not trusted: INVALID_CALLBACK_URL", body = ErrorBody),
    ),
)]
async fn reset_password_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let Some(callback) = q.callback_url else {
        return Err(required_query("callbackURL"));
    };
    if callback.is_empty() {
        // Better Auth sends an empty callback to its error page.
        return Ok(redirect(&format!(
            "{}/error?error=INVALID_TOKEN",
            api_base(&state)
        )));
    }
    check_callback(&state.trusted, Some(&callback))?;
    let live = state.auth.reset_token_is_live(&token).await?;
    Ok(redirect(&if live {
        with_param(&state, &callback, "token", &token)
    } else {
        with_param(&state, &callback, "error", "INVALID_TOKEN")
    }))
}

/// The reset-password body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ResetPasswordBody {
    /// The new password (configured lengths apply).
    pub new_password: String,
    /// The mailed token (or `?token=`).
    #[schema(required = false)]
    pub token: String,
}

/// The token query of `/reset-password`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token, when the body has none.
    pub token: Option<String>,
}

/// Sets a new password with a mailed token (once); ends the user's sessions.
#[utoipa::path(
    post,
    path = "/api/auth/reset-password",
    tag = crate::openapi::tag::BETTER_AUTH,
    params(TokenQuery),
    request_body(content = ResetPasswordBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Password changed; no session is opened", body = StatusBody),
        (status = 400, description = "INVALID_TOKEN (unknown, used or expired), PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG, USER_NOT_FOUND, VALIDATION_ERROR", body = ErrorBody),
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 429, description = "Password hashing is saturated, or rate limited", body = ErrorBody),
    ),
)]
async fn reset_password(
    State(state): State<AppState>,
    Query(q): Query<TokenQuery>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut f = Fields::object(body)?;
    let new_password = f.string("newPassword");
    let token = f.opt_string("token");
    f.finish()?;
    let Some(token) = token.or(q.token) else {
        return Err(DomainError::InvalidToken.into());
    };
    state.auth.reset_password(&token, &new_password).await?;
    Ok(json_with(&json!({"status": true}), HeaderMap::new()))
}

// ---- email verification and change of address ----------------------------------------------

/// The send-verification-email body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SendVerificationBody {
    /// The address to verify (the session's, when signed in).
    #[schema(schema_with = crate::routes::models::email_address)]
    pub email: String,
    /// Where the link leads after verifying.
    #[schema(required = false, rename = "callbackURL")]
    pub callback_url: String,
}

/// Mails a verification link. Signed in: for the session's address; otherwise the answer is the
/// same (and takes at least 500 ms) whether or not the address has an account.
#[utoipa::path(
    post,
    path = "/api/auth/send-verification-email",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = SendVerificationBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Sent (or nothing to send)", body = StatusBody),
        (status = 400, description = "EMAIL_MISMATCH, EMAIL_ALREADY_VERIFIED (signed in), VALIDATION_ERROR", body = ErrorBody),
        (status = 403, description = "callbackURL not trusted: INVALID_CALLBACK_URL; origin refused", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 429, description = "Rate limited (3 per 60 s per client when limits are on)", body = ErrorBody),
    ),
)]
async fn send_verification_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let started = Instant::now();
    let mut f = Fields::object(body)?;
    let email = f.email("email");
    let callback = f.opt_string("callbackURL");
    f.finish()?;
    check_callback(&state.trusted, callback.as_deref())?;
    let session = match state.token(&headers) {
        Some(_) => state.current(&headers).await.ok(),
        None => None,
    };
    let found = state
        .auth
        .verification_request(session.as_ref().map(|s| &s.user), &email)
        .await?;
    if let Some((user, token)) = found {
        send_verification(
            &state,
            &user,
            &user.email,
            Kind::VerifyEmail,
            &token,
            callback.as_deref(),
        );
    }
    if session.is_none() {
        // Enumeration: an unknown address must not answer faster than a known one.
        let floor = Duration::from_millis(500);
        if let Some(rest) = floor.checked_sub(started.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
    Ok(json_with(&json!({"status": true}), HeaderMap::new()))
}

/// Mails a verify-email link to `to`.
pub fn send_verification(
    state: &AppState,
    user: &User,
    to: &str,
    kind: Kind,
    token: &str,
    callback: Option<&str>,
) {
    let link = format!(
        "{}/verify-email?token={token}&callbackURL={}",
        api_base(state),
        encode_uri_component(callback.unwrap_or("/"))
    );
    let ttl = state.auth.email_policy().verification_ttl;
    mail(state, kind, user, to, link, ttl);
}

/// The verify-email query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// The mailed token.
    pub token: Option<String>,
    /// Where to go after verifying (with `?error=` on failure).
    #[serde(rename = "callbackURL")]
    #[param(rename = "callbackURL")]
    pub callback_url: Option<String>,
}

/// The mailed verification link: verifies the address (or moves the account to a new one).
#[utoipa::path(
    get,
    path = "/api/auth/verify-email",
    tag = crate::openapi::tag::BETTER_AUTH,
    params(VerifyQuery),
    responses(
        (status = 200, description = "Verified: {status: true, user: null}, or the user after a change of address"),
        (status = 302, description = "To callbackURL (with ?error=CODE on failure)"),
        (status = 400, description = "No token: VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "INVALID_TOKEN, TOKEN_EXPIRED, USER_NOT_FOUND, INVALID_USER (a change opened in another user's session)", body = ErrorBody),
        (status = 403, description = "callbackURL not trusted: INVALID_CALLBACK_URL", body = ErrorBody),
    ),
)]
async fn verify_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<VerifyQuery>,
) -> ApiResult<Response> {
    let Some(token) = q.token else {
        return Err(required_query("token"));
    };
    let callback = q.callback_url.filter(|c| !c.is_empty());
    check_callback(&state.trusted, callback.as_deref())?;
    let session = match state.token(&headers) {
        Some(_) => state.current(&headers).await.ok(),
        None => None,
    };
    let verified = match state
        .auth
        .verify_email(&token, session.as_ref().map(|s| &s.user))
        .await
    {
        Ok(v) => v,
        Err(e) => {
            let code = match e {
                DomainError::TokenExpired => "TOKEN_EXPIRED",
                DomainError::UserNotFound => "USER_NOT_FOUND",
                DomainError::InvalidUser => "INVALID_USER",
                DomainError::InvalidToken | DomainError::UserAlreadyExists => "INVALID_TOKEN",
                other => return Err(other.into()),
            };
            if let Some(cb) = &callback {
                return Ok(redirect(&append_param(cb, "error", code)));
            }
            let message = match code {
                "TOKEN_EXPIRED" => "Token expired",
                "USER_NOT_FOUND" => "User not found",
                "INVALID_USER" => "Invalid user",
                _ => "Invalid token",
            };
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, code, message));
        }
    };
    let mut out = HeaderMap::new();
    match &session {
        // The session of the user whose address changed: its cookie again, as Better Auth does.
        Some(s) if verified.changed_email && s.user.id == verified.user.id => {
            let remember = !state.dont_remember(&headers);
            state.set_session_cookie(&mut out, &s.session.token, remember);
        }
        _ if state.auth.email_policy().auto_sign_in_after_verification
            && !verified.changed_email =>
        {
            let session = state
                .auth
                .open_session(&verified.user, &client_info(&headers))
                .await?;
            state.set_session_cookie(&mut out, &session.token, true);
        }
        _ => {}
    }
    if let Some(cb) = &callback {
        let mut res = redirect(cb);
        res.headers_mut().extend(out);
        return Ok(res);
    }
    let user = if verified.changed_email {
        verified.user.to_json()
    } else {
        Value::Null
    };
    Ok(json_with(&json!({"status": true, "user": user}), out))
}

/// The change-email body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ChangeEmailBody {
    /// The new address; a link is mailed to it, and the change happens when it is followed.
    #[schema(schema_with = crate::routes::models::email_address)]
    pub new_email: String,
    /// Where the link leads after confirming.
    #[schema(required = false, rename = "callbackURL")]
    pub callback_url: String,
}

/// Starts a change of address: mails a confirmation link to the new address. A taken address
/// answers the same and changes nothing.
#[utoipa::path(
    post,
    path = "/api/auth/change-email",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = ChangeEmailBody, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Confirmation mailed (or the address is taken)", body = StatusBody),
        (status = 400, description = "VALIDATION_ERROR, CHANGE_EMAIL_DISABLED, or no code for \"Email is the same\"", body = ErrorBody),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "Origin or callback refused", body = ErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s per client when limits are on)", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ),
)]
async fn change_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    if !state.config.email.allow_change {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "CHANGE_EMAIL_DISABLED",
            "Change email is disabled",
        ));
    }
    let current = state.current_from_store(&headers).await?;
    let mut f = Fields::object(body)?;
    let new_email = f.email("newEmail");
    let callback = f.opt_string("callbackURL");
    f.finish()?;
    check_callback(&state.trusted, callback.as_deref())?;
    if let Some(token) = state.auth.change_email(&current.user, &new_email).await? {
        let to = new_email.trim().to_lowercase();
        send_verification(
            &state,
            &current.user,
            &to,
            Kind::ChangeEmail,
            &token,
            callback.as_deref(),
        );
    }
    Ok(json_with(&json!({"status": true}), HeaderMap::new()))
}

// ---- deletion and the small core endpoints ---------------------------------------------------

/// The delete-user body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DeleteUserBody {
    /// The password; without it the session must be younger than `fresh_age` (a day).
    #[schema(required = false)]
    pub password: String,
    /// Where the client goes next.
    #[schema(required = false, rename = "callbackURL")]
    pub callback_url: String,
}

/// The answer to a deletion.
#[derive(ToSchema)]
pub struct DeleteUserResponse {
    /// true.
    pub success: bool,
    /// "User deleted".
    pub message: String,
}

/// Deletes the signed-in user with their sessions and accounts.
#[utoipa::path(
    post,
    path = "/api/auth/delete-user",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = DeleteUserBody, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Deleted; the session cookies are expired", body = DeleteUserResponse),
        (status = 400, description = "INVALID_PASSWORD, CREDENTIAL_ACCOUNT_NOT_FOUND, SESSION_EXPIRED (no password and an old session), VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "Origin or callback refused", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 429, description = "Password hashing is saturated: TOO_MANY_REQUESTS", body = ErrorBody),
        (status = 404, description = "A deletion token (never issued here): INVALID_TOKEN; with deletion turned off, an empty body", body = ErrorBody),
    ),
)]
async fn delete_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    if !state.config.email.allow_delete {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let current = state.current_from_store(&headers).await?;
    let mut f = Fields::optional_object(body)?;
    let password = f.opt_string("password");
    let token = f.opt_string("token");
    let callback = f.opt_string("callbackURL");
    f.finish()?;
    check_callback(&state.trusted, callback.as_deref())?;
    if token.is_some() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "INVALID_TOKEN",
            "Invalid token",
        ));
    }
    state
        .auth
        .delete_account(&current.user, &current.session, password.as_deref())
        .await?;
    let mut out = HeaderMap::new();
    state.expire_session_cookie(&mut out);
    Ok(json_with(
        &json!({"success": true, "message": "User deleted"}),
        out,
    ))
}

/// The verify-password body.
#[derive(ToSchema)]
pub struct VerifyPasswordBody {
    /// The password to check.
    pub password: String,
}

/// Checks the signed-in user's password.
#[utoipa::path(
    post,
    path = "/api/auth/verify-password",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = VerifyPasswordBody, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The password is right", body = StatusBody),
        (status = 400, description = "INVALID_PASSWORD, CREDENTIAL_ACCOUNT_NOT_FOUND, VALIDATION_ERROR", body = ErrorBody),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "Origin refused", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 429, description = "Password hashing is saturated: TOO_MANY_REQUESTS", body = ErrorBody),
    ),
)]
async fn verify_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let current = state.current(&headers).await?;
    let mut f = Fields::object(body)?;
    let password = f.string("password");
    f.finish()?;
    state.auth.verify_password(&current.user, &password).await?;
    Ok(json_with(&json!({"status": true}), HeaderMap::new()))
}

/// An account as `/list-accounts` shows it.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AccountBody {
    /// Account id.
    pub id: String,
    /// `credential` for email and password.
    pub provider_id: String,
    /// The user id, for a credential account.
    pub account_id: String,
    /// The owner.
    pub user_id: String,
    /// ISO 8601 with milliseconds.
    pub created_at: String,
    /// ISO 8601 with milliseconds.
    pub updated_at: String,
    /// OAuth scopes (none for a credential account).
    pub scopes: Vec<String>,
}

/// The signed-in user's sign-in methods.
#[utoipa::path(
    get,
    path = "/api/auth/list-accounts",
    tag = crate::openapi::tag::BETTER_AUTH,
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The accounts", body = Vec<AccountBody>),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
    ),
)]
async fn list_accounts(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let current = state.current(&headers).await?;
    let accounts = state.auth.list_accounts(&current.user.id).await?;
    let list: Vec<Value> = accounts
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "providerId": a.provider_id,
                "accountId": a.account_id,
                "userId": a.user_id,
                "createdAt": hallpass_core::clock::to_iso(&a.created_at),
                "updatedAt": hallpass_core::clock::to_iso(&a.updated_at),
                "scopes": [],
            })
        })
        .collect();
    Ok(json_with(&Value::Array(list), HeaderMap::new()))
}

/// Changes the session's own additional fields. hallpass sessions have none, so every update has
/// nothing to change.
#[utoipa::path(
    post,
    path = "/api/auth/update-session",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(content = Object, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 400, description = "No code for \"No fields to update\"; VALIDATION_ERROR for a body that is not an object, BAD_REQUEST (malformed JSON)", body = ErrorBody),
        (status = 401, description = "No valid session: UNAUTHORIZED", body = ErrorBody),
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "A body that is not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ),
)]
async fn update_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    state.current(&headers).await?;
    Fields::record(body)?.finish()?;
    Err(DomainError::NoFieldsToUpdate.into())
}

//! `POST /api/auth/sign-up/email` (reference, 2.3).

use crate::http::body::{Fields, FormOrJsonBody};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::origin::check_callback;
use crate::routes::json_with;
use crate::routes::models::{email_address, User};
use crate::state::{client_info, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use hallpass_core::email::Email;
use hallpass_core::service::SignUp;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sign_up))
}

/// The sign-up body (zod's, extra keys allowed). The configured profile fields are added to this
/// schema when the document is built.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SignUpBody {
    /// Display name; `""` is accepted.
    #[schema(max_length = 256)]
    pub name: String,
    /// The address to sign in with (stored lower-cased).
    #[schema(schema_with = email_address)]
    pub email: String,
    /// Its length is checked in UTF-16 code units, as JavaScript counts (the configured limits
    /// are added to this schema when the document is built).
    pub password: String,
    /// Picture URL.
    #[schema(required = false, max_length = 2048)]
    pub image: String,
    /// Must be a trusted origin or a safe relative path; it has no other use here.
    #[schema(required = false, rename = "callbackURL")]
    pub callback_url: String,
    /// false: a one-day session and a browser-session cookie. Default true.
    #[schema(required = false)]
    pub remember_me: bool,
}

/// A new user, signed in.
#[derive(ToSchema)]
pub struct SignUpResponse {
    /// The 32-character session token (also in the session cookie).
    pub token: String,
    /// The new user.
    pub user: User,
}

/// Creates a user with a password and signs them in.
#[utoipa::path(
    post,
    path = "/api/auth/sign-up/email",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(
        content = SignUpBody,
        content_type = "application/json",
        description = "JSON. An `application/x-www-form-urlencoded` form with the same fields is accepted too; its values are strings, so `rememberMe` (a boolean) cannot be sent that way",
    ),
    responses(
        (status = 200, description = "Signed up and signed in", body = SignUpResponse,
            headers(
                ("set-cookie" = String, description = "The signed session cookie"),
                ("set-auth-token" = String, description = "The signed session token, for `Authorization: Bearer`"),
            )),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON), INVALID_EMAIL, PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG, MISSING_FIELD, FIELD_NOT_ALLOWED", body = ErrorBody),
        (status = 403, description = "Origin or callback refused: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN, CROSS_SITE_NAVIGATION_LOGIN_BLOCKED, INVALID_CALLBACK_URL", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "Content-Type missing or not JSON or a form: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 422, description = "The email is taken: USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", body = ErrorBody),
        (status = 429, description = "Password hashing is saturated: TOO_MANY_REQUESTS; retry after `Retry-After` seconds", body = ErrorBody),
    ),
)]
async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJsonBody(body): FormOrJsonBody,
) -> ApiResult<Response> {
    let email_is_string = matches!(&body, Some(serde_json::Value::Object(o)) if o.get("email").is_some_and(serde_json::Value::is_string));
    let mut f = Fields::object_and_record(body)?;
    let name = f.string("name");
    let email = f.string("email");
    if email_is_string && Email::parse(&email).is_none() {
        f.push("[body.email] Invalid email address".into());
    }
    let password = f.non_empty("password");
    let image = f.opt_string("image");
    let callback = f.opt_string("callbackURL");
    let remember = f.opt_bool("rememberMe").unwrap_or(true);
    let fields = f.finish()?;
    check_callback(&state.trusted, callback.as_deref())?;

    let (name_for_reply, email_for_reply) = (name.clone(), email.clone());
    let req = SignUp {
        name,
        email,
        password,
        image,
        remember,
        fields,
    };
    if state.auth.email_policy().require_verification {
        // requireEmailVerification: no session until the address is verified, and a taken address
        // answers like a new one (with a made-up user), as Better Auth does.
        let user = match state.auth.sign_up_unverified(req).await {
            Ok(u) => u,
            Err(hallpass_core::DomainError::UserAlreadyExists) => {
                let now = hallpass_core::clock::to_iso(&hallpass_core::clock::now());
                let made_up = json!({
                    "id": hallpass_core::id::new_id(),
                    "name": name_for_reply,
                    "email": email_for_reply.trim().to_lowercase(),
                    "emailVerified": false,
                    "image": null,
                    "createdAt": now,
                    "updatedAt": now,
                });
                return Ok(json_with(
                    &json!({"token": null, "user": made_up}),
                    HeaderMap::new(),
                ));
            }
            Err(e) => return Err(e.into()),
        };
        mail_verification_on_sign_up(&state, &user, callback.as_deref())?;
        return Ok(json_with(
            &json!({"token": null, "user": user.to_json()}),
            HeaderMap::new(),
        ));
    }
    let created = state.auth.sign_up(req, &client_info(&headers)).await?;
    mail_verification_on_sign_up(&state, &created.user, callback.as_deref())?;
    let mut out = HeaderMap::new();
    state.set_session_cookie(&mut out, &created.session.token, remember);
    Ok(json_with(
        &json!({"token": created.session.token, "user": created.user.to_json()}),
        out,
    ))
}

/// Mails a verification link to a new user when `[email] send_on_sign_up` says so.
fn mail_verification_on_sign_up(
    state: &AppState,
    user: &hallpass_core::User,
    callback: Option<&str>,
) -> ApiResult<()> {
    if state.config.email.send_on_sign_up {
        let token = state.auth.email_token(user, None)?;
        crate::routes::lifecycle::send_verification(
            state,
            user,
            &user.email,
            crate::mail::Kind::VerifyEmail,
            &token,
            callback,
        );
    }
    Ok(())
}

//! `POST /api/auth/sign-in/email` (reference, 2.3).

use crate::http::body::{Fields, FormOrJsonBody};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::origin::check_callback;
use crate::routes::json_with;
use crate::routes::models::{email_address, User};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sign_in))
}

/// The sign-in body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SignInBody {
    /// The address signed up with (any case).
    #[schema(schema_with = email_address)]
    pub email: String,
    /// The password.
    pub password: String,
    /// Where the client goes next: a trusted origin or a safe relative path. Echoed as `url` and
    /// `Location`; the status stays 200.
    #[schema(required = false, rename = "callbackURL")]
    pub callback_url: String,
    /// false: a one-day session and a browser-session cookie. Default true.
    #[schema(required = false)]
    pub remember_me: bool,
}

/// A signed-in user.
#[derive(ToSchema)]
pub struct SignInResponse {
    /// Whether a `callbackURL` was given.
    pub redirect: bool,
    /// The 32-character session token (also in the session cookie).
    pub token: String,
    /// The `callbackURL`, when one was given.
    #[schema(required = false)]
    pub url: String,
    /// The user.
    pub user: User,
}

/// Checks an email and password and opens a session.
#[utoipa::path(
    post,
    path = "/api/auth/sign-in/email",
    tag = crate::openapi::tag::BETTER_AUTH,
    request_body(
        content = SignInBody,
        content_type = "application/json",
        description = "JSON. An `application/x-www-form-urlencoded` form with the same fields is accepted too; its values are strings, so `rememberMe` (a boolean) cannot be sent that way",
    ),
    responses(
        (status = 200, description = "Signed in", body = SignInResponse,
            headers(
                ("set-cookie" = String, description = "The signed session cookie"),
                ("set-auth-token" = String, description = "The signed session token, for `Authorization: Bearer`"),
                ("location" = String, description = "The `callbackURL`, when one was given"),
            )),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON), INVALID_EMAIL, PASSWORD_TOO_LONG", body = ErrorBody),
        (status = 401, description = "Wrong email or password: INVALID_EMAIL_OR_PASSWORD", body = ErrorBody),
        (status = 403, description = "Origin or callback refused: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN, CROSS_SITE_NAVIGATION_LOGIN_BLOCKED, INVALID_CALLBACK_URL", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "Content-Type missing or not JSON or a form: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 429, description = "Rate limited (3 sign-ins per 10 s per client address when limits are on), too many failed sign-ins for this account, or password hashing saturated (TOO_MANY_REQUESTS); `X-Retry-After` gives the seconds to wait", body = ErrorBody,
            headers(("x-retry-after" = String, description = "Seconds until a new attempt may succeed"))),
    ),
)]
async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJsonBody(body): FormOrJsonBody,
) -> ApiResult<Response> {
    let mut f = Fields::object(body)?;
    let email = f.string("email");
    let password = f.string("password");
    let callback = f.opt_string("callbackURL");
    let remember = f.opt_bool("rememberMe").unwrap_or(true);
    f.finish()?;
    check_callback(&state.trusted, callback.as_deref())?;

    let mut out = HeaderMap::new();
    let signed_in = state
        .sign_in(&headers, &mut out, &email, &password, remember)
        .await?;
    let mut body = Map::new();
    body.insert("redirect".into(), json!(callback.is_some()));
    body.insert("token".into(), json!(signed_in.session.token));
    if let Some(url) = &callback {
        body.insert("url".into(), json!(url));
        if let Ok(v) = HeaderValue::from_str(url) {
            out.insert(header::LOCATION, v);
        }
    }
    body.insert("user".into(), signed_in.user.to_json());
    Ok(json_with(&Value::Object(body), out))
}

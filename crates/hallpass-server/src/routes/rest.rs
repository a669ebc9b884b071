//! Plain REST for simple clients (scripts, the Python bridge): `POST /auth/register`,
//! `POST /auth/login`, `POST /auth/logout`, `GET /auth/me`, `PUT /auth/profile`, and
//! `GET /auth/profile-schema`. The same `AuthService` calls, validation and `{"message","code"}`
//! errors as `/api/auth`; the reader is identified by `Authorization: Bearer` (a session token or
//! a hallpass JWT) or the session cookie, and cookie-carrying writes pass the same origin checks.

use crate::http::body::{Fields, JsonBody};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::routes::json_with;
use crate::routes::models::{email_address, SuccessBody, User};
use crate::state::{client_info, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hallpass_core::email::Email;
use hallpass_core::profile::FieldType;
use hallpass_core::service::SignUp;
use hallpass_core::SessionWithUser;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes, under `/auth`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(update_profile))
        .routes(routes!(profile_schema))
}

/// The register body. The configured profile fields are added to this schema when the document
/// is built.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RegisterBody {
    /// The address to sign in with (stored lower-cased).
    #[schema(schema_with = email_address)]
    pub email: String,
    /// Its length is checked in UTF-16 code units, as JavaScript counts (the configured limits
    /// are added to this schema when the document is built).
    pub password: String,
    /// Display name; empty unless given.
    #[schema(required = false, max_length = 256)]
    pub name: String,
    /// Picture URL.
    #[schema(required = false, max_length = 2048)]
    pub image: String,
    /// false: a one-day session and a browser-session cookie. Default true.
    #[schema(required = false)]
    pub remember_me: bool,
}

/// The login body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct LoginBody {
    /// The address registered with (any case).
    #[schema(schema_with = email_address)]
    pub email: String,
    /// The password.
    pub password: String,
    /// false: a one-day session and a browser-session cookie. Default true.
    #[schema(required = false)]
    pub remember_me: bool,
}

/// A signed-in user with both credentials.
#[derive(ToSchema)]
pub struct AuthResponse {
    /// The user with the profile.
    pub user: User,
    /// The 32-character session token (for `Authorization: Bearer`; also in the cookie).
    pub token: String,
    /// A JWT about the user, naming the session in `sid`.
    pub jwt: String,
}

/// `{"user": …}`.
#[derive(ToSchema)]
pub struct UserResponse {
    /// The user with the profile.
    pub user: User,
}

/// A partial update: only the keys present change. The configured profile fields (those clients
/// may set) are added to this schema when the document is built; `email` is refused.
#[derive(ToSchema)]
pub struct UpdateProfileBody {
    /// New display name.
    #[schema(required = false, max_length = 256)]
    pub name: String,
    /// New picture URL; null clears it.
    #[schema(required = false, max_length = 2048)]
    pub image: Option<String>,
}

/// The profile questions, in order.
#[derive(ToSchema)]
pub struct ProfileSchemaResponse {
    /// One entry per configured field.
    pub fields: Vec<ProfileFieldInfo>,
}

/// The value type of a profile field.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ProfileFieldKind {
    /// Free text.
    String,
    /// A whole number.
    Number,
    /// true or false.
    Boolean,
    /// One of `values`.
    Enum,
}

/// One profile question.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ProfileFieldInfo {
    /// The JSON key on the user.
    pub key: String,
    /// The value type.
    #[schema(rename = "type")]
    pub kind: ProfileFieldKind,
    /// A human label (the key when none is configured).
    pub label: String,
    /// An enum's allowed values, in display order.
    pub values: Vec<String>,
    /// Labels for the values (same order), possibly empty.
    pub labels: Vec<String>,
    /// Whether registration must give a value.
    pub required: bool,
    /// Whether clients may set it.
    pub input: bool,
    /// Longest accepted string, when configured.
    #[schema(required = true)]
    pub max_length: Option<u64>,
}

/// 401 with `WWW-Authenticate: Bearer`, as HTTP wants for a missing or bad credential.
fn challenge(e: ApiError) -> Response {
    let unauthorized = e.status == StatusCode::UNAUTHORIZED;
    let mut res = e.into_response();
    if unauthorized {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

async fn reader(state: &AppState, headers: &HeaderMap) -> Result<SessionWithUser, Response> {
    state.reader(headers).await.map_err(challenge)
}

/// `{user, token, jwt}` with the session cookie and `set-auth-token`.
async fn signed_in(
    state: &AppState,
    found: &SessionWithUser,
    remember: bool,
    status: StatusCode,
) -> ApiResult<Response> {
    let jwt = state.auth.issue_jwt(found).await?;
    let mut out = HeaderMap::new();
    state.set_session_cookie(&mut out, &found.session.token, remember);
    let body = json!({"user": found.user.to_json(), "token": found.session.token, "jwt": jwt});
    let mut res = json_with(&body, out);
    *res.status_mut() = status;
    Ok(res)
}

/// Creates a user with a password and signs them in.
#[utoipa::path(
    post,
    path = "/auth/register",
    tag = crate::openapi::tag::REST,
    request_body(content = RegisterBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered and signed in", body = AuthResponse,
            headers(
                ("set-cookie" = String, description = "The signed session cookie"),
                ("set-auth-token" = String, description = "The signed session token"),
            )),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON), INVALID_EMAIL, PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG, MISSING_FIELD, FIELD_NOT_ALLOWED", body = ErrorBody),
        (status = 403, description = "Origin refused: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN, CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "Content-Type missing or not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 422, description = "The email is taken: USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", body = ErrorBody),
        (status = 429, description = "Password hashing is saturated: TOO_MANY_REQUESTS", body = ErrorBody),
    ),
)]
async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let email_is_string =
        matches!(&body, Some(Value::Object(o)) if o.get("email").is_some_and(Value::is_string));
    let mut f = Fields::object(body)?;
    let email = f.string("email");
    if email_is_string && Email::parse(&email).is_none() {
        f.push("[body.email] Invalid email address".into());
    }
    let password = f.non_empty("password");
    let name = f.opt_string("name").unwrap_or_default();
    let image = f.opt_string("image");
    let remember = f.opt_bool("rememberMe").unwrap_or(true);
    let fields = f.finish()?;
    let req = SignUp {
        name,
        email,
        password,
        image,
        remember,
        fields,
    };
    let created = state.auth.sign_up(req, &client_info(&headers)).await?;
    signed_in(&state, &created, remember, StatusCode::CREATED).await
}

/// Checks an email and password and opens a session.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = crate::openapi::tag::REST,
    request_body(content = LoginBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in", body = AuthResponse,
            headers(
                ("set-cookie" = String, description = "The signed session cookie"),
                ("set-auth-token" = String, description = "The signed session token"),
            )),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON), INVALID_EMAIL, PASSWORD_TOO_LONG", body = ErrorBody),
        (status = 401, description = "Wrong email or password: INVALID_EMAIL_OR_PASSWORD", body = ErrorBody),
        (status = 403, description = "Origin refused: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN, CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "Content-Type missing or not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
        (status = 429, description = "Password hashing is saturated: TOO_MANY_REQUESTS", body = ErrorBody),
    ),
)]
async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut f = Fields::object(body)?;
    let email = f.string("email");
    let password = f.string("password");
    let remember = f.opt_bool("rememberMe").unwrap_or(true);
    f.finish()?;
    let mut out = HeaderMap::new();
    let found = state
        .sign_in(&headers, &mut out, &email, &password, remember)
        .await?;
    let jwt = state.auth.issue_jwt(&found).await?;
    let body = json!({"user": found.user.to_json(), "token": found.session.token, "jwt": jwt});
    Ok(json_with(&body, out))
}

/// Ends the session the request presents (the one a JWT's `sid` names, for a JWT).
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = crate::openapi::tag::REST,
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "Signed out", body = SuccessBody,
            headers(("set-cookie" = String, description = "The session cookies, expired"))),
        (status = 401, description = "No valid session or JWT: UNAUTHORIZED (with `WWW-Authenticate: Bearer`)", body = ErrorBody,
            headers(("www-authenticate" = String, description = "`Bearer`"))),
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
    ),
)]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let current = match reader(&state, &headers).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    if let Err(e) = state.auth.sign_out(&current.session.token).await {
        return ApiError::from(e).into_response();
    }
    let mut out = HeaderMap::new();
    state.expire_session_cookie(&mut out);
    json_with(&json!({"success": true}), out)
}

/// The reader with the profile.
#[utoipa::path(
    get,
    path = "/auth/me",
    tag = crate::openapi::tag::REST,
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The user", body = UserResponse),
        (status = 401, description = "No valid session or JWT: UNAUTHORIZED (with `WWW-Authenticate: Bearer`)", body = ErrorBody,
            headers(("www-authenticate" = String, description = "`Bearer`"))),
    ),
)]
async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match reader(&state, &headers).await {
        Ok(found) => json_with(&json!({"user": found.user.to_json()}), HeaderMap::new()),
        Err(res) => res,
    }
}

/// A partial update of the name and profile fields; answers the updated user.
#[utoipa::path(
    put,
    path = "/auth/profile",
    tag = crate::openapi::tag::REST,
    request_body(content = UpdateProfileBody, content_type = "application/json"),
    security(("bearer" = []), ("session_cookie" = [])),
    responses(
        (status = 200, description = "The updated user", body = UserResponse),
        (status = 400, description = "Invalid body: VALIDATION_ERROR, BAD_REQUEST (malformed JSON), BODY_MUST_BE_AN_OBJECT, EMAIL_CAN_NOT_BE_UPDATED, FIELD_NOT_ALLOWED, USER_NOT_FOUND, or no code for \"No fields to update\"", body = ErrorBody),
        (status = 401, description = "No valid session or JWT: UNAUTHORIZED (with `WWW-Authenticate: Bearer`)", body = ErrorBody,
            headers(("www-authenticate" = String, description = "`Bearer`"))),
        (status = 403, description = "Cookies without a trusted origin: MISSING_OR_NULL_ORIGIN, INVALID_ORIGIN", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB: PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "Content-Type missing or not JSON: UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ),
)]
async fn update_profile(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Response {
    let current = match reader(&state, &headers).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(Value::Object(body)) = body else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "BODY_MUST_BE_AN_OBJECT",
            "Body must be an object",
        )
        .into_response();
    };
    match state.auth.update_user(&current.user.id, &body).await {
        Ok(user) => json_with(&json!({"user": user.to_json()}), HeaderMap::new()),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The profile questions, so front ends render them without knowing the configuration.
#[utoipa::path(
    get,
    path = "/auth/profile-schema",
    tag = crate::openapi::tag::REST,
    responses(
        (status = 200, description = "The configured profile fields", body = ProfileSchemaResponse,
            headers(("cache-control" = String, description = "`public, max-age=60`"))),
    ),
)]
async fn profile_schema(State(state): State<AppState>) -> Response {
    let fields: Vec<Value> = state
        .auth
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let kind = match f.kind {
                FieldType::String => "string",
                FieldType::Number => "number",
                FieldType::Boolean => "boolean",
                FieldType::Enum => "enum",
            };
            json!({
                "key": f.key,
                "type": kind,
                "label": f.label.clone().unwrap_or_else(|| f.key.clone()),
                "values": f.values,
                "labels": f.labels,
                "required": f.required,
                "input": f.input,
                "maxLength": f.max_length,
            })
        })
        .collect();
    let mut out = HeaderMap::new();
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    json_with(&json!({ "fields": fields }), out)
}

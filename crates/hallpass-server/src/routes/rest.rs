//! Plain REST for simple clients (scripts, the Python bridge): `POST /auth/register`,
//! `POST /auth/login`, `POST /auth/logout`, `GET /auth/me`, `PUT /auth/profile`, and
//! `GET /auth/profile-schema`. The same `AuthService` calls, validation and `{"message","code"}`
//! errors as `/api/auth`; the reader is identified by `Authorization: Bearer` (a session token or
//! a hallpass JWT) or the session cookie, and cookie-carrying writes pass the same origin checks.

use crate::http::body::{Fields, JsonBody};
use crate::http::error::{ApiError, ApiResult};
use crate::routes::json_with;
use crate::state::{client_info, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use hallpass_core::email::Email;
use hallpass_core::profile::FieldType;
use hallpass_core::service::SignUp;
use hallpass_core::SessionWithUser;
use serde_json::{json, Value};

/// The routes, under `/auth`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/profile", put(update_profile))
        .route("/profile-schema", get(profile_schema))
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
    let found = state
        .auth
        .sign_in(&email, &password, remember, &client_info(&headers))
        .await?;
    signed_in(&state, &found, remember, StatusCode::OK).await
}

/// Ends the session the request presents (the one a JWT's `sid` names, for a JWT).
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

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match reader(&state, &headers).await {
        Ok(found) => json_with(&json!({"user": found.user.to_json()}), HeaderMap::new()),
        Err(res) => res,
    }
}

/// A partial update of the name and profile fields; answers the updated user.
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

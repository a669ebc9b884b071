//! `POST /api/auth/sign-in/email` (reference, 2.3).

use crate::http::body::{Fields, FormOrJsonBody};
use crate::http::error::ApiResult;
use crate::http::origin::check_callback;
use crate::routes::json_with;
use crate::state::{client_info, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Map, Value};

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/sign-in/email", post(sign_in))
}

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

    let signed_in = state
        .auth
        .sign_in(&email, &password, remember, &client_info(&headers))
        .await?;
    let mut out = HeaderMap::new();
    state.set_session_cookie(&mut out, &signed_in.session.token, remember);
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

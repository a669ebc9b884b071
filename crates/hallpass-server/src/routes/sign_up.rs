//! `POST /api/auth/sign-up/email` (reference, 2.3).

use crate::http::body::{Fields, FormOrJsonBody};
use crate::http::error::ApiResult;
use crate::http::origin::check_callback;
use crate::routes::json_with;
use crate::state::{client_info, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use hallpass_core::email::Email;
use hallpass_core::service::SignUp;
use serde_json::json;

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/sign-up/email", post(sign_up))
}

async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJsonBody(body): FormOrJsonBody,
) -> ApiResult<Response> {
    let email_is_string = matches!(&body, Some(serde_json::Value::Object(o)) if o.get("email").is_some_and(serde_json::Value::is_string));
    let mut f = Fields::object(body)?;
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

    let req = SignUp {
        name,
        email,
        password,
        image,
        remember,
        fields,
    };
    let created = state.auth.sign_up(req, &client_info(&headers)).await?;
    let mut out = HeaderMap::new();
    state.set_session_cookie(&mut out, &created.session.token, remember);
    Ok(json_with(
        &json!({"token": created.session.token, "user": created.user.to_json()}),
        out,
    ))
}

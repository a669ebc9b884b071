//! JWTs for other services: `GET /token` and `GET /jwks` (reference, 9.2).

use crate::http::error::ApiResult;
use crate::routes::json_with;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/token", get(token))
        .route("/jwks", get(jwks))
}

async fn token(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let current = state.current(&headers).await?;
    let jwt = state.auth.issue_jwt(&current).await?;
    Ok(json_with(&json!({"token": jwt}), HeaderMap::new()))
}

async fn jwks(State(state): State<AppState>) -> ApiResult<Response> {
    let keys = state.auth.jwks().await?;
    let mut out = HeaderMap::new();
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(json_with(&keys, out))
}

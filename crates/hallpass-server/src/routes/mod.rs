//! The Better Auth compatible API under `/api/auth`, one module per resource, and health checks.
//! Each module's `router()` registers its handlers through `utoipa_axum::routes!`, so the path and
//! method a handler is served at and the OpenAPI operation that describes it are one attribute.

pub mod health;
pub mod internal;
pub mod jwt;
pub mod lifecycle;
pub mod models;
pub mod rest;
pub mod sessions;
pub mod sign_in;
pub mod sign_up;
pub mod users;

use crate::state::AppState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;

/// Every `/api/auth` route, with its OpenAPI description.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(sign_up::router())
        .merge(sign_in::router())
        .merge(sessions::router())
        .merge(users::router())
        .merge(lifecycle::router())
        .merge(jwt::router())
        .merge(health::api_router())
}

/// A JSON answer with extra headers (cookies, tokens).
pub fn json_with(value: &Value, headers: HeaderMap) -> Response {
    let mut res = (StatusCode::OK, axum::Json(value)).into_response();
    res.headers_mut().extend(headers);
    res
}

/// `cache-control: no-store` and `pragma: no-cache`, as get-session sends.
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

//! CORS for trusted origins, with credentials, so a site on another port or subdomain can call the
//! API from the browser. Better Auth leaves this to the host framework; hallpass does it itself.
//! The allowed origin is always the exact request origin, never `*`.

use super::error::ApiError;
use super::origin::TrustedOrigins;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

const EXPOSED: &str = "set-auth-token, set-auth-jwt, x-retry-after";

/// Middleware: answers preflights and adds CORS headers for trusted origins.
pub async fn cors(
    State(trusted): State<Arc<TrustedOrigins>>,
    req: Request,
    next: Next,
) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_trusted = origin.as_deref().is_some_and(|o| trusted.contains(o));
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        if !is_trusted {
            return ApiError::forbidden("INVALID_ORIGIN", "Invalid origin").into_response();
        }
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
        let asked = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            asked.unwrap_or_else(|| HeaderValue::from_static("content-type, authorization")),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        allow(&mut res, origin.as_deref());
        return res;
    }
    let mut res = next.run(req).await;
    if is_trusted {
        allow(&mut res, origin.as_deref());
        let h = res.headers_mut();
        for name in EXPOSED.split(", ") {
            super::cookies::expose(h, name);
        }
    }
    res
}

fn allow(res: &mut Response, origin: Option<&str>) {
    let h = res.headers_mut();
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}

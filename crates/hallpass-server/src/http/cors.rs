//! CORS for trusted origins, with credentials, so a site on another port or subdomain can call the
//! API from the browser. Better Auth leaves this to the host framework; hallpass does it itself.
//! The allowed origin is always the exact request origin, never `*`.

use super::around::Around;
use super::error::ApiError;
use super::origin::TrustedOrigins;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

const EXPOSED: &str = "set-auth-token, set-auth-jwt, x-retry-after";

/// The middleware: answers preflights and adds CORS headers for trusted origins.
#[derive(Clone)]
pub struct Cors(pub Arc<TrustedOrigins>);

impl Around for Cors {
    /// The request's origin, when it is trusted.
    type Carry = Option<HeaderValue>;

    fn before(&self, req: &mut Request) -> Result<Option<HeaderValue>, Response> {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .filter(|v| v.to_str().is_ok_and(|o| self.0.contains(o)));
        let preflight = req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if !preflight {
            return Ok(origin.cloned());
        }
        let Some(origin) = origin.cloned() else {
            return Err(ApiError::forbidden("INVALID_ORIGIN", "Invalid origin").into_response());
        };
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
        allow(&mut res, origin);
        Err(res)
    }

    fn after(origin: Option<HeaderValue>, res: &mut Response) {
        if let Some(origin) = origin {
            allow(res, origin);
            let h = res.headers_mut();
            for name in EXPOSED.split(", ") {
                super::cookies::expose(h, name);
            }
        }
    }
}

fn allow(res: &mut Response, origin: HeaderValue) {
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}

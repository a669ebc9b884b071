//! The headers every page and asset carries: a Content-Security-Policy that lets scripts and styles
//! come only from this origin (nothing inline, so injected markup cannot run), no framing, no
//! referrer to other origins, no MIME sniffing, and `no-store` unless the handler chose caching.

use axum::http::{header, HeaderValue};
use axum::response::Response;

/// Scripts, styles, fetches and form posts only to this origin; no plugins, no framing, no `<base>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers to a page or asset answer.
pub async fn protect(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: with `no-referrer` a browser sends `Origin: null` on the
    // pages' own POSTs, which the API's origin check refuses.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        crate::routes::no_store(h);
    }
    res
}

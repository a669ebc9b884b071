//! The pages' static files, compiled into the binary: the script, the stylesheet and the icon.
//! Pages link them with `?v=<content hash>`, so a versioned URL is cached for a year and a new
//! build is fetched at once; an unversioned request is cached briefly.

use crate::state::AppState;
use axum::extract::Query;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::LazyLock;

const SCRIPT: &str = include_str!("../../assets/hallpass.js");
const STYLES: &str = include_str!("../../assets/hallpass.css");
const ICON: &str = include_str!("../../assets/icon.svg");

/// A short hash of every asset, for cache-busting links (FNV-1a: stable across builds and Rust
/// versions, unlike `DefaultHasher`).
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in [SCRIPT, STYLES, ICON].iter().flat_map(|s| s.bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h & 0xffff_ffff_ffff)
});

/// `/assets/hallpass.js`, `/assets/hallpass.css`, `/assets/icon.svg`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/assets/hallpass.js",
            get(|q| asset(q, SCRIPT, "text/javascript; charset=utf-8")),
        )
        .route(
            "/assets/hallpass.css",
            get(|q| asset(q, STYLES, "text/css; charset=utf-8")),
        )
        .route("/assets/icon.svg", get(|q| asset(q, ICON, "image/svg+xml")))
}

async fn asset(
    Query(query): Query<HashMap<String, String>>,
    body: &'static str,
    content_type: &'static str,
) -> Response {
    let cache = if query.get("v") == Some(&*VERSION) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

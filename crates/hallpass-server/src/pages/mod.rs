//! The built-in pages: `/`, `/sign-in`, `/sign-up` and `/profile` for sites that bring no front end
//! of their own, the account lifecycle's `/forgot-password`, `/reset-password`, `/verify-email`
//! and `/email-verified`, and Better Auth's `GET /api/auth/error` page.
//!
//! Pages are rendered on the server from the templates under `templates/` (askama: compiled into
//! the binary, HTML-escaped by default). No JavaScript framework: `/assets/hallpass.js` posts JSON
//! to the `/api/auth` endpoints from the same origin and shows the server's messages next to the
//! fields. Every page goes out with a strict Content-Security-Policy (scripts from this origin
//! only, nothing inline), no framing and `cache-control: no-store`.

mod account;
mod assets;
mod error_page;
mod headers;
mod lifecycle;
mod views;

use crate::http::error::ApiError;
use crate::http::origin::TrustedOrigins;
use crate::state::AppState;
use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::map_response;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use hallpass_core::SessionWithUser;

/// The pages, at the root, when `enabled` (`[pages] enabled`); their assets always, since the
/// error page under `/api/auth` uses them too.
pub fn router(enabled: bool) -> Router<AppState> {
    let mut router = assets::router();
    if enabled {
        router = router
            .route("/", get(account::home))
            .route("/sign-in", get(account::sign_in))
            .route("/sign-up", get(account::sign_up))
            .route("/profile", get(account::profile))
            .route("/forgot-password", get(lifecycle::forgot_password))
            .route("/reset-password", get(lifecycle::reset_password))
            .route("/verify-email", get(lifecycle::verify_email))
            .route("/email-verified", get(lifecycle::email_verified));
    }
    router.layer(map_response(headers::protect))
}

/// `GET /error` under `/api/auth`: part of Better Auth's API, so served even when the pages are off.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/error", get(error_page::show))
        .layer(map_response(headers::protect))
}

/// What the layout of every page needs.
pub struct Page {
    /// The document title, before " · hallpass".
    pub title: &'static str,
    /// The assets' version, for their URLs.
    pub assets: &'static str,
}

impl Page {
    fn new(title: &'static str) -> Page {
        Page {
            title,
            assets: assets::VERSION.as_str(),
        }
    }
}

/// A template as an HTML answer; a template that cannot render is a logged 500.
fn render(template: &impl Template) -> Response {
    render_with(StatusCode::OK, template)
}

fn render_with(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => ApiError::internal(&format!("page template: {e}")).into_response(),
    }
}

/// The session of the request, `None` when there is none or it has ended. Other failures (the
/// database) are answered with an error page.
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SessionWithUser>, Response> {
    match state.current(headers).await {
        Ok(current) => Ok(Some(current)),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => Ok(None),
        Err(e) => Err(error_page::for_api_error(state, e)),
    }
}

/// `callbackURL` as a page may use it: kept only when the API would accept it (a safe path on this
/// server, or a URL on a trusted origin; reference, 8.2), so nothing else ever reaches a page.
fn vetted_callback(trusted: &TrustedOrigins, raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    let acceptable = !raw.is_empty() && raw.len() <= 2048 && trusted.allows_callback(raw);
    acceptable.then(|| raw.to_owned())
}

/// A page path with `callbackURL` carried along, query-encoded.
fn with_callback(path: &str, callback: Option<&str>) -> String {
    match callback {
        Some(c) => {
            let encoded: String = url::form_urlencoded::byte_serialize(c.as_bytes()).collect();
            format!("{path}?callbackURL={encoded}")
        }
        None => path.to_owned(),
    }
}

/// A 303 to another page; it depends on the session, so it is not stored either.
fn see_other(location: &str) -> Response {
    let mut res = Redirect::to(location).into_response();
    crate::routes::no_store(res.headers_mut());
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted() -> TrustedOrigins {
        TrustedOrigins::new(
            "http://localhost:4000",
            &["http://localhost:3000".to_owned()],
        )
    }

    #[test]
    fn only_callbacks_the_api_accepts_reach_a_page() {
        let t = trusted();
        assert_eq!(
            vetted_callback(&t, Some("/docs/intro")).as_deref(),
            Some("/docs/intro")
        );
        assert_eq!(
            vetted_callback(&t, Some("http://localhost:3000/docs")).as_deref(),
            Some("http://localhost:3000/docs")
        );
        for bad in [
            "http://evil.example/",
            "//evil.example",
            "javascript:alert(1)",
            "",
            "   ",
        ] {
            assert_eq!(vetted_callback(&t, Some(bad)), None, "{bad}");
        }
        assert_eq!(vetted_callback(&t, None), None);
        let long = format!("/{}", "a".repeat(3000));
        assert_eq!(vetted_callback(&t, Some(&long)), None);
    }

    #[test]
    fn callbacks_are_query_encoded_in_links() {
        assert_eq!(
            with_callback("/sign-up", Some("http://localhost:3000/a?b=c&d")),
            "/sign-up?callbackURL=http%3A%2F%2Flocalhost%3A3000%2Fa%3Fb%3Dc%26d"
        );
        assert_eq!(with_callback("/sign-up", None), "/sign-up");
    }
}

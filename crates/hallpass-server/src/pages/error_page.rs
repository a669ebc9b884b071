//! Better Auth's error page, `GET /api/auth/error?error=CODE&error_description=…` (reference,
//! "GET /error"): where flows that cannot answer JSON send the browser. The code is shown only when
//! it matches Better Auth's pattern (`UNKNOWN` otherwise), and everything is HTML-escaped, so
//! nothing from the query can become markup. hallpass's page is its own (Better Auth's
//! "customized" case), so it renders in production too instead of redirecting to `/?error=`.

use super::{render_with, Page};
use crate::http::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;

/// Longest description shown; longer ones are cut.
const MAX_DESCRIPTION: usize = 500;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    code: String,
    headline: &'static str,
    description: Option<String>,
    home_href: &'static str,
    home_label: &'static str,
}

/// Better Auth's rule: `^['A-Za-z0-9_-]+$`, else `UNKNOWN`.
pub(super) fn sanitize_code(raw: Option<&str>) -> String {
    match raw {
        Some(c)
            if !c.is_empty()
                && c.len() <= 100
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '\'' | '_' | '-')) =>
        {
            c.to_owned()
        }
        _ => "UNKNOWN".to_owned(),
    }
}

/// A sentence for the codes people meet most; the code itself is always shown too.
fn headline(code: &str) -> &'static str {
    match code.to_ascii_uppercase().as_str() {
        "INVALID_CALLBACK_URL" | "INVALID_REDIRECT_URL" => {
            "The link you followed points somewhere this server does not trust."
        }
        "INVALID_TOKEN" | "TOKEN_EXPIRED" => "This link has expired or was already used.",
        "UNAUTHORIZED" | "SESSION_EXPIRED" => "Your session has ended. Please sign in again.",
        "ACCESS_DENIED" => "Access was denied.",
        "INTERNAL_SERVER_ERROR" => "Something went wrong on our side. Please try again.",
        _ => "Something went wrong while signing you in.",
    }
}

fn page(state: &AppState, code: String, description: Option<String>) -> ErrorPage {
    let (home_href, home_label) = if state.config.pages_enabled {
        ("/sign-in", "Back to sign in")
    } else {
        ("/", "Go home")
    };
    ErrorPage {
        page: Page::new("Something went wrong"),
        headline: headline(&code),
        code,
        description,
        home_href,
        home_label,
    }
}

/// `GET /api/auth/error`.
pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = sanitize_code(query.get("error").map(String::as_str));
    let description = query
        .get("error_description")
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .map(|d| d.chars().take(MAX_DESCRIPTION).collect());
    render_with(StatusCode::OK, &page(&state, code, description))
}

/// A page for an API failure met while rendering another page (the database is down): the
/// status and code of the error, no internals.
pub fn for_api_error(state: &AppState, e: ApiError) -> Response {
    let code = e.code.unwrap_or("INTERNAL_SERVER_ERROR").to_owned();
    render_with(e.status, &page(state, code, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_better_auths_pattern() {
        assert_eq!(
            sanitize_code(Some("invalid_callback-url")),
            "invalid_callback-url"
        );
        assert_eq!(sanitize_code(Some("it's")), "it's");
        assert_eq!(sanitize_code(Some("<script>alert(1)</script>")), "UNKNOWN");
        assert_eq!(sanitize_code(Some("a b")), "UNKNOWN");
        assert_eq!(sanitize_code(Some("")), "UNKNOWN");
        assert_eq!(sanitize_code(None), "UNKNOWN");
    }
}

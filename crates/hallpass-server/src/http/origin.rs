//! Origin and callback URL checks as Better Auth's `originCheckMiddleware` and `formCsrfMiddleware`
//! do them (reference, 8.2): a state-changing request that carries cookies must come from a trusted
//! origin; sign-in and sign-up are checked whenever the browser says where they come from; callback
//! URLs must be trusted origins or safe relative paths.

use super::around::Around;
use super::error::{ApiError, ApiResult};
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;
use std::sync::Arc;

/// The set of trusted origins: exact origins, and wildcard hosts (`https://*.example.com`, `*.example.com`).
#[derive(Clone, Debug)]
pub struct TrustedOrigins {
    exact: Vec<String>,
    wildcard: Vec<(Option<String>, String)>,
}

impl TrustedOrigins {
    /// The base URL's origin plus the configured ones.
    pub fn new(base_origin: &str, configured: &[String]) -> TrustedOrigins {
        let mut exact = vec![base_origin.to_owned()];
        let mut wildcard = Vec::new();
        for o in configured {
            let o = o.trim_end_matches('/');
            if let Some((scheme, host)) = o.split_once("://*.") {
                wildcard.push((
                    Some(scheme.to_ascii_lowercase()),
                    format!(".{}", host.to_ascii_lowercase()),
                ));
            } else if let Some(host) = o.strip_prefix("*.") {
                wildcard.push((None, format!(".{}", host.to_ascii_lowercase())));
            } else if let Ok(u) = url::Url::parse(o) {
                exact.push(u.origin().ascii_serialization());
            }
        }
        TrustedOrigins { exact, wildcard }
    }

    /// Whether an origin (`scheme://host[:port]`) is trusted.
    pub fn contains(&self, origin: &str) -> bool {
        let Ok(u) = url::Url::parse(origin) else {
            return false;
        };
        let normalized = u.origin().ascii_serialization();
        if self.exact.contains(&normalized) {
            return true;
        }
        let Some(host) = u.host_str() else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        // The labels the wildcard stands for must be hostname labels (an origin `https://*.x` is
        // not a subdomain of `x`).
        self.wildcard.iter().any(|(scheme, suffix)| {
            scheme.as_deref().is_none_or(|s| s == u.scheme())
                && host.strip_suffix(suffix.as_str()).is_some_and(|labels| {
                    !labels.is_empty()
                        && labels.split('.').all(|l| {
                            !l.is_empty()
                                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        })
                })
        })
    }

    /// Whether a callback URL is acceptable: a trusted origin, or a safe relative path
    /// (one leading `/`, no `\`, no encoded slashes, no control characters, plain or encoded).
    pub fn allows_callback(&self, url: &str) -> bool {
        if url.starts_with('/') {
            let lower = url.to_ascii_lowercase();
            return !url.starts_with("//")
                && !url.contains('\\')
                && !lower.contains("%2f")
                && !lower.contains("%5c")
                && !url.chars().any(char::is_control)
                && !encodes_a_control_character(&lower);
        }
        url::Url::parse(url).is_ok_and(|u| self.contains(&u.origin().ascii_serialization()))
    }
}

/// Whether a (lower-cased) URL holds `%00`-`%1f` or `%7f`: decoded by the next hop, a tab or a
/// newline can turn a relative path into something else.
fn encodes_a_control_character(lower: &str) -> bool {
    lower.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && (matches!(w[1], b'0' | b'1') && w[2].is_ascii_hexdigit() || w[1..] == *b"7f")
    })
}

fn request_origin(headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match origin {
        Some(o) => Some(o.to_owned()),
        None => {
            let referer = headers.get(header::REFERER)?.to_str().ok()?;
            url::Url::parse(referer)
                .ok()
                .map(|u| u.origin().ascii_serialization())
        }
    }
}

/// Better Auth's `validateOrigin`: Origin (or Referer) must be present and trusted.
fn validate_origin(headers: &HeaderMap, trusted: &TrustedOrigins) -> ApiResult<()> {
    match request_origin(headers).as_deref() {
        None | Some("null") => Err(ApiError::forbidden(
            "MISSING_OR_NULL_ORIGIN",
            "Missing or null Origin",
        )),
        Some(o) if trusted.contains(o) => Ok(()),
        Some(_) => Err(ApiError::forbidden("INVALID_ORIGIN", "Invalid origin")),
    }
}

/// The checks for one request: method, path (without `/api/auth`) and headers.
pub fn check_request(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    trusted: &TrustedOrigins,
) -> ApiResult<()> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if headers.contains_key(header::COOKIE) {
        return validate_origin(headers, trusted);
    }
    if !matches!(path, "/sign-in/email" | "/sign-up/email") {
        return Ok(());
    }
    let fetch = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let site = fetch("sec-fetch-site");
    let mode = fetch("sec-fetch-mode");
    if site.is_some() || mode.is_some() || headers.contains_key("sec-fetch-dest") {
        if site.as_deref() == Some("cross-site") && mode.as_deref() == Some("navigate") {
            return Err(ApiError::forbidden(
                "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
                "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
            ));
        }
        return validate_origin(headers, trusted);
    }
    if headers.contains_key(header::ORIGIN) || headers.contains_key(header::REFERER) {
        return validate_origin(headers, trusted);
    }
    Ok(())
}

/// The middleware over the Better Auth routes (and the plain REST ones).
#[derive(Clone)]
pub struct Guard(pub Arc<TrustedOrigins>);

impl Around for Guard {
    type Carry = ();

    fn before(&self, req: &mut Request) -> Result<(), Response> {
        let full = req.uri().path();
        // The plain REST sign-in and sign-up get the same login-CSRF checks as Better Auth's.
        let path = match full {
            "/auth/login" => "/sign-in/email",
            "/auth/register" => "/sign-up/email",
            other => other.strip_prefix("/api/auth").unwrap_or(other),
        };
        check_request(req.method(), path, req.headers(), &self.0)
            .map_err(axum::response::IntoResponse::into_response)
    }

    fn after((): (), _: &mut Response) {}
}

/// Checks a `callbackURL` (403 INVALID_CALLBACK_URL when it is neither trusted nor a safe path).
pub fn check_callback(trusted: &TrustedOrigins, url: Option<&str>) -> ApiResult<()> {
    match url {
        Some(u) if !trusted.allows_callback(u) => Err(ApiError::forbidden(
            "INVALID_CALLBACK_URL",
            "Invalid callbackURL",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn trusted() -> TrustedOrigins {
        TrustedOrigins::new(
            "http://localhost:4000",
            &[
                "http://localhost:3000".into(),
                "https://*.example.com".into(),
            ],
        )
    }

    #[test]
    fn origins_match_exactly_or_by_wildcard() {
        let t = trusted();
        assert!(t.contains("http://localhost:4000"));
        assert!(t.contains("http://localhost:3000"));
        assert!(t.contains("https://docs.example.com"));
        assert!(!t.contains("http://docs.example.com"));
        assert!(!t.contains("http://localhost:3001"));
        assert!(!t.contains("http://evil.example"));
        assert!(!t.contains("https://example.com.evil.net"));
    }

    #[test]
    fn callbacks_are_trusted_origins_or_safe_paths() {
        let t = trusted();
        for ok in [
            "/docs/intro",
            "/",
            "http://localhost:3000/after",
            "https://a.example.com/x?y=1",
        ] {
            assert!(t.allows_callback(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil",
            "/%2F%2Fevil",
            "http://evil.example/",
            "javascript:alert(1)",
            "/a\nb",
            "relative",
        ] {
            assert!(!t.allows_callback(bad), "{bad}");
        }
    }

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn cookie_requests_need_a_trusted_origin() {
        let t = trusted();
        let code = |r: ApiResult<()>| r.err().and_then(|e| e.code);
        assert_eq!(
            code(check_request(
                &Method::POST,
                "/update-user",
                &h(&[("cookie", "a=b")]),
                &t
            )),
            Some("MISSING_OR_NULL_ORIGIN")
        );
        assert_eq!(
            code(check_request(
                &Method::POST,
                "/update-user",
                &h(&[("cookie", "a=b"), ("origin", "null")]),
                &t
            )),
            Some("MISSING_OR_NULL_ORIGIN")
        );
        assert_eq!(
            code(check_request(
                &Method::POST,
                "/update-user",
                &h(&[("cookie", "a=b"), ("origin", "http://evil.example")]),
                &t
            )),
            Some("INVALID_ORIGIN")
        );
        assert_eq!(
            code(check_request(
                &Method::POST,
                "/update-user",
                &h(&[("cookie", "a=b"), ("referer", "http://evil.example/page")]),
                &t
            )),
            Some("INVALID_ORIGIN")
        );
        assert!(check_request(
            &Method::POST,
            "/update-user",
            &h(&[("cookie", "a=b"), ("origin", "http://localhost:3000")]),
            &t
        )
        .is_ok());
        assert!(check_request(&Method::GET, "/get-session", &h(&[("cookie", "a=b")]), &t).is_ok());
        assert!(check_request(
            &Method::POST,
            "/update-user",
            &h(&[("authorization", "Bearer x")]),
            &t
        )
        .is_ok());
    }

    #[test]
    fn sign_in_checks_origin_without_cookies() {
        let t = trusted();
        let code = |r: ApiResult<()>| r.err().and_then(|e| e.code);
        assert_eq!(
            code(check_request(
                &Method::POST,
                "/sign-in/email",
                &h(&[("origin", "http://evil.example")]),
                &t
            )),
            Some("INVALID_ORIGIN")
        );
        assert_eq!(
            code(check_request(
                &Method::POST,
                "/sign-up/email",
                &h(&[
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "navigate")
                ]),
                &t
            )),
            Some("CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
        );
        assert_eq!(
            code(check_request(
                &Method::POST,
                "/sign-in/email",
                &h(&[("sec-fetch-site", "same-site")]),
                &t
            )),
            Some("MISSING_OR_NULL_ORIGIN")
        );
        assert!(check_request(&Method::POST, "/sign-in/email", &h(&[]), &t).is_ok());
        assert!(check_request(
            &Method::POST,
            "/sign-out",
            &h(&[("origin", "http://evil.example")]),
            &t
        )
        .is_ok());
    }
}

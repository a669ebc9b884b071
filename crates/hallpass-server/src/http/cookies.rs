//! Cookies and bearer tokens as Better Auth makes and reads them (reference, 4.1, 4.2 and 9.1):
//! `better-auth.session_token` holds `token.base64(HMAC)`, URL-encoded; `Authorization: Bearer`
//! takes the signed or the raw token; responses that set the cookie also send `set-auth-token`.

use axum::http::{header, HeaderMap, HeaderValue};
use hallpass_core::secret::Secret;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What JavaScript's `encodeURIComponent` leaves alone.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// JavaScript's `encodeURIComponent`.
pub fn encode_uri_component(s: &str) -> String {
    utf8_percent_encode(s, URI_COMPONENT).to_string()
}

/// Cookie names and attributes for this deployment.
#[derive(Clone, Debug)]
pub struct CookieConfig {
    /// `better-auth.session_token`, with `__Secure-` on https.
    pub session: String,
    /// `better-auth.session_data` (expired with the session; hallpass keeps no cookie cache).
    pub data: String,
    /// `better-auth.dont_remember`.
    pub dont_remember: String,
    /// `hallpass.known_device`: set on a successful sign-in, it names (by a digest) the account
    /// this browser signed in to, so the per-account lock on failed sign-ins does not lock out
    /// its owner on a browser they used before.
    pub known_device: String,
    /// Whether cookies are `Secure`.
    pub secure: bool,
    /// Max-Age of a remembered session cookie.
    pub max_age: i64,
}

impl CookieConfig {
    /// Names for a base URL scheme: https gets the `__Secure-` prefix and `Secure`.
    pub fn new(https: bool, max_age: i64) -> CookieConfig {
        let prefix = if https {
            "__Secure-better-auth"
        } else {
            "better-auth"
        };
        CookieConfig {
            session: format!("{prefix}.session_token"),
            data: format!("{prefix}.session_data"),
            dont_remember: format!("{prefix}.dont_remember"),
            known_device: if https {
                "__Secure-hallpass.known_device".into()
            } else {
                "hallpass.known_device".into()
            },
            secure: https,
            max_age,
        }
    }

    fn attrs(&self, max_age: Option<i64>) -> String {
        let mut a = String::new();
        if let Some(m) = max_age {
            a.push_str(&format!("; Max-Age={m}"));
        }
        a.push_str("; Path=/; HttpOnly");
        if self.secure {
            a.push_str("; Secure");
        }
        a.push_str("; SameSite=Lax");
        a
    }
}

/// The value of a cookie in a request: the first occurrence wins; values with `%` are decoded.
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    for line in headers.get_all(header::COOKIE) {
        let Ok(line) = line.to_str() else { continue };
        for pair in line.split(';') {
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            if k.trim() != name {
                continue;
            }
            let v = v.trim().trim_matches('"');
            return Some(if v.contains('%') {
                percent_decode_str(v).decode_utf8().ok()?.into_owned()
            } else {
                v.to_owned()
            });
        }
    }
    None
}

/// The session token a request presents: a valid `Authorization: Bearer` first (signed, or a raw
/// 32-character token), else the signed session cookie. Bad signatures count as no token.
pub fn session_token(
    headers: &HeaderMap,
    cookies: &CookieConfig,
    secret: &Secret,
) -> Option<String> {
    if let Some(token) = bearer_token(headers, secret) {
        return Some(token);
    }
    let signed = read_cookie(headers, &cookies.session)?;
    secret.verify_signed(&signed).map(str::to_owned)
}

fn bearer_token(headers: &HeaderMap, secret: &Secret) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let rest = rest.trim();
    let decoded = percent_decode_str(rest).decode_utf8().ok()?;
    if decoded.contains('.') {
        return secret.verify_signed(&decoded).map(str::to_owned);
    }
    let raw = decoded.len() == 32 && decoded.bytes().all(|b| b.is_ascii_alphanumeric());
    raw.then(|| decoded.into_owned())
}

/// A JWT in `Authorization: Bearer` (three base64url parts), unverified.
pub fn bearer_jwt(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let jwt = rest.trim();
    let parts = jwt.split('.');
    let well_formed = parts.clone().count() == 3
        && parts.into_iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    well_formed.then_some(jwt)
}

/// Whether the request carries a valid `dont_remember` cookie (a session made with rememberMe false).
pub fn dont_remember(headers: &HeaderMap, cookies: &CookieConfig, secret: &Secret) -> bool {
    read_cookie(headers, &cookies.dont_remember)
        .is_some_and(|v| secret.verify_signed(&v) == Some("true"))
}

fn push(headers: &mut HeaderMap, cookie: String) {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        headers.append(header::SET_COOKIE, v);
    }
}

/// Adds a name to `Access-Control-Expose-Headers`, keeping what is there.
pub fn expose(headers: &mut HeaderMap, name: &str) {
    let current = headers
        .get(header::ACCESS_CONTROL_EXPOSE_HEADERS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if current
        .split(',')
        .any(|h| h.trim().eq_ignore_ascii_case(name))
    {
        return;
    }
    let merged = if current.is_empty() {
        name.to_owned()
    } else {
        format!("{current}, {name}")
    };
    if let Ok(v) = HeaderValue::from_str(&merged) {
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v);
    }
}

/// Sets the session cookie (and `dont_remember` for a session that is not remembered), plus the
/// bearer plugin's `set-auth-token` header.
pub fn set_session(
    headers: &mut HeaderMap,
    cookies: &CookieConfig,
    secret: &Secret,
    token: &str,
    remember: bool,
) {
    let signed = secret.signed_value(token);
    let encoded = utf8_percent_encode(&signed, URI_COMPONENT).to_string();
    let max_age = remember.then_some(cookies.max_age);
    push(
        headers,
        format!("{}={encoded}{}", cookies.session, cookies.attrs(max_age)),
    );
    if !remember {
        let flag = utf8_percent_encode(&secret.signed_value("true"), URI_COMPONENT).to_string();
        push(
            headers,
            format!("{}={flag}{}", cookies.dont_remember, cookies.attrs(None)),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&signed) {
        headers.insert("set-auth-token", v);
        expose(headers, "set-auth-token");
    }
}

/// How long a browser is remembered as one its owner signed in from (400 days, the most browsers
/// keep a cookie).
const KNOWN_DEVICE_MAX_AGE: i64 = 400 * 24 * 3600;

/// Marks the browser as one the owner of the account `account` (a digest) signed in from.
pub fn set_known_device(
    headers: &mut HeaderMap,
    cookies: &CookieConfig,
    secret: &Secret,
    account: &str,
) {
    let signed = utf8_percent_encode(&secret.signed_value(account), URI_COMPONENT).to_string();
    push(
        headers,
        format!(
            "{}={signed}{}",
            cookies.known_device,
            cookies.attrs(Some(KNOWN_DEVICE_MAX_AGE))
        ),
    );
}

/// The account digest a valid `known_device` cookie names.
pub fn known_device(
    headers: &HeaderMap,
    cookies: &CookieConfig,
    secret: &Secret,
) -> Option<String> {
    let signed = read_cookie(headers, &cookies.known_device)?;
    secret.verify_signed(&signed).map(str::to_owned)
}

/// Expires the session cookies, in Better Auth's order.
pub fn expire_session(headers: &mut HeaderMap, cookies: &CookieConfig) {
    for name in [&cookies.session, &cookies.data, &cookies.dont_remember] {
        push(headers, format!("{name}={}", cookies.attrs(Some(0))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";
    const TOKEN: &str = "PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ";

    #[test]
    fn session_cookie_matches_better_auth_vector() {
        let mut h = HeaderMap::new();
        set_session(
            &mut h,
            &CookieConfig::new(false, 604800),
            &Secret::new(SECRET),
            TOKEN,
            true,
        );
        assert_eq!(
            h.get(header::SET_COOKIE).unwrap(),
            "better-auth.session_token=PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ.fJm9S3ZnWRpqoAxC9afcOIaoAvsgDvq42gsOL8w65fU%3D; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            h.get("set-auth-token").unwrap(),
            "PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ.fJm9S3ZnWRpqoAxC9afcOIaoAvsgDvq42gsOL8w65fU="
        );
        assert_eq!(
            h.get(header::ACCESS_CONTROL_EXPOSE_HEADERS).unwrap(),
            "set-auth-token"
        );
    }

    #[test]
    fn dont_remember_cookie_matches_better_auth_vector() {
        let mut h = HeaderMap::new();
        set_session(
            &mut h,
            &CookieConfig::new(false, 604800),
            &Secret::new(SECRET),
            TOKEN,
            false,
        );
        let all: Vec<_> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert!(
            all[0].ends_with("%3D; Path=/; HttpOnly; SameSite=Lax"),
            "{}",
            all[0]
        );
        assert_eq!(all[1], "better-auth.dont_remember=true.1Ue91JS%2BcwPpyhFiSTriJ9vlBOt6RG78rdQqJ%2BTjbEk%3D; Path=/; HttpOnly; SameSite=Lax");
    }

    #[test]
    fn https_cookies_are_secure_and_prefixed() {
        let mut h = HeaderMap::new();
        set_session(
            &mut h,
            &CookieConfig::new(true, 604800),
            &Secret::new(SECRET),
            TOKEN,
            true,
        );
        let c = h.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(c.starts_with("__Secure-better-auth.session_token="));
        assert!(c.ends_with("; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax"));
    }

    fn with(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn tokens_are_read_from_cookie_and_bearer() {
        let s = Secret::new(SECRET);
        let c = CookieConfig::new(false, 604800);
        let cookie = format!("a=b; better-auth.session_token={TOKEN}.fJm9S3ZnWRpqoAxC9afcOIaoAvsgDvq42gsOL8w65fU%3D; x=y");
        assert_eq!(
            session_token(&with("cookie", &cookie), &c, &s).as_deref(),
            Some(TOKEN)
        );
        let signed = format!("Bearer {TOKEN}.fJm9S3ZnWRpqoAxC9afcOIaoAvsgDvq42gsOL8w65fU=");
        assert_eq!(
            session_token(&with("authorization", &signed), &c, &s).as_deref(),
            Some(TOKEN)
        );
        let encoded = format!("bearer {TOKEN}.fJm9S3ZnWRpqoAxC9afcOIaoAvsgDvq42gsOL8w65fU%3D");
        assert_eq!(
            session_token(&with("authorization", &encoded), &c, &s).as_deref(),
            Some(TOKEN)
        );
        let raw = format!("Bearer {TOKEN}");
        assert_eq!(
            session_token(&with("authorization", &raw), &c, &s).as_deref(),
            Some(TOKEN)
        );
    }

    #[test]
    fn bad_signatures_and_junk_are_no_token() {
        let s = Secret::new(SECRET);
        let c = CookieConfig::new(false, 604800);
        let forged = format!(
            "better-auth.session_token={TOKEN}.AAAAS3ZnWRpqoAxC9afcOIaoAvsgDvq42gsOL8w65fU%3D"
        );
        assert_eq!(session_token(&with("cookie", &forged), &c, &s), None);
        assert_eq!(
            session_token(&with("cookie", "better-auth.session_token=%FF%FE"), &c, &s),
            None
        );
        assert_eq!(
            session_token(&with("authorization", "Bearer short"), &c, &s),
            None
        );
        assert_eq!(
            session_token(&with("authorization", "Basic abc"), &c, &s),
            None
        );
    }

    #[test]
    fn first_cookie_of_a_name_wins() {
        let h = with("cookie", "n=1; n=2");
        assert_eq!(read_cookie(&h, "n").as_deref(), Some("1"));
    }
}

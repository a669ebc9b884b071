//! Fuzz and property targets for everything that reads untrusted input before a handler runs:
//! cookies and bearer tokens, JWT verification, callbackURL and origin checks, the body decoders,
//! and the whole router. They run on stable Rust under plain `cargo test` (bolero's random
//! engine, a bounded number of inputs per target), and under `cargo bolero` with libFuzzer on
//! nightly. FUZZING.md beside this file says how to run them longer.
//!
//! Inputs are generated from types (`#[derive(TypeGenerator)]`): grammars of the pieces that
//! matter (cookie names, signed values, URL prefixes, JSON shapes) mixed with arbitrary bytes and
//! characters, so the random engine reaches the interesting branches and not only the parsers'
//! first error. Every target asserts what must hold for any input, not only "no panic".

// A failed expectation is a test failure: panicking is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::FromRequest;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use bolero::{check, TypeGenerator};
use ed25519_dalek::Signer;
use hallpass_core::secret::Secret;
use hallpass_core::DomainError;
use hallpass_server::config::{Config, FileConfig, Overrides};
use hallpass_server::http::body::{Fields, FormOrJsonBody, JsonBody, MAX_BODY_BYTES};
use hallpass_server::http::cookies::{self, CookieConfig};
use hallpass_server::http::error::ApiError;
use hallpass_server::http::origin::{check_callback, check_request, TrustedOrigins};
use hallpass_server::state::AppState;
use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode, utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tower::ServiceExt;

// ---- budget ------------------------------------------------------------------------------------

/// By default a target also stops after this long, whatever its count, so that a slow machine
/// cannot make the default run drag.
const DEFAULT_TIME_CAP: Duration = Duration::from_secs(8);

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// Bounds a target. By default: `default` inputs, for at most [`DEFAULT_TIME_CAP`]. For a longer
/// run, with no time cap: HALLPASS_FUZZ_ITERATIONS=N runs N inputs (N / `divisor` for the slow
/// targets), or HALLPASS_FUZZ_SCALE=K runs K times the default. bolero's own
/// BOLERO_RANDOM_ITERATIONS and BOLERO_RANDOM_TEST_TIME_MS win over all of these, and
/// BOLERO_RANDOM_SEED replays one input.
fn budget<G, I>(
    target: bolero::TestTarget<G, bolero::DefaultEngine, I>,
    default: usize,
    divisor: usize,
) -> bolero::TestTarget<G, bolero::DefaultEngine, I> {
    if let Some(n) = env_number("HALLPASS_FUZZ_ITERATIONS") {
        return target.with_iterations((n / divisor).max(1));
    }
    if let Some(k) = env_number("HALLPASS_FUZZ_SCALE") {
        return target.with_iterations(default.saturating_mul(k).max(1));
    }
    target
        .with_iterations(default)
        .with_test_time(DEFAULT_TIME_CAP)
}

/// Picks one of a list by a generated index.
fn pick<T: Copy>(list: &[T], i: impl Into<usize>) -> T {
    list[i.into() % list.len()]
}

/// A generated position in something `len` long (0 when it is empty).
fn at(i: u16, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        i as usize % len
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

// ---- the application, for the JWT and router targets --------------------------------------------

/// The secret the application runs with (the reference's test secret).
const SECRET: &str = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";
const BASE_URL: &str = "http://localhost:4000";
const INTERNAL_SECRET: &str = "internal-secret-0123456789abcdefghijkl";
const PASSWORD: &str = "correct-horse-battery";
const EMAIL: &str = "fuzz@example.com";

/// The real application over a SQLite file in a temporary directory, with its own runtime.
struct App {
    rt: tokio::runtime::Runtime,
    router: hallpass_server::app::App,
    state: AppState,
    _dir: tempfile::TempDir,
}

fn app() -> App {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = format!("sqlite://{}", dir.path().join("hallpass.db").display());
    let env = HashMap::from([
        ("HALLPASS_SECRET", SECRET.to_owned()),
        ("DATABASE_URL", db),
        ("HALLPASS_BASE_URL", BASE_URL.to_owned()),
        ("HALLPASS_INTERNAL_SECRET", INTERNAL_SECRET.to_owned()),
    ]);
    let config = Config::resolve(FileConfig::default(), &Overrides::default(), &|k| {
        env.get(k).cloned()
    })
    .expect("a valid configuration");
    let rt = runtime();
    let (router, state) = rt
        .block_on(hallpass_server::app::build(config))
        .expect("the application starts");
    App {
        rt,
        router,
        state,
        _dir: dir,
    }
}

/// What a response came back as.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl App {
    fn send(&self, req: Request<Body>) -> Answer {
        self.rt.block_on(async {
            let res = self
                .router
                .clone()
                .oneshot(req)
                .await
                .expect("the router answers");
            let (parts, body) = res.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .expect("a readable body");
            Answer {
                status: parts.status,
                headers: parts.headers,
                body: body.to_vec(),
            }
        })
    }
}

// =================================================================================================
// 1. Cookies and bearer tokens
// =================================================================================================

/// base64(HMAC-SHA256(secret, value)), computed here without the code under test.
fn independent_signature(value: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(value.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `token` may legitimately come out of these headers: `token.HMAC(token)` is among
/// the Cookie and Authorization bytes once percent-decoded, or `token` is a raw 32-character
/// bearer token present there. Anything else would be a token accepted without its signature.
fn authentic(headers: &HeaderMap, token: &str) -> bool {
    let mut presented = Vec::new();
    for v in headers
        .get_all(header::COOKIE)
        .iter()
        .chain(headers.get_all(header::AUTHORIZATION).iter())
    {
        presented.extend_from_slice(v.as_bytes());
        presented.push(b'\n');
    }
    let decoded: Vec<u8> = percent_decode(&presented).collect();
    let signed = format!("{token}.{}", independent_signature(token));
    let raw_bearer = token.len() == 32
        && token.bytes().all(|b| b.is_ascii_alphanumeric())
        && contains(&decoded, token.as_bytes());
    raw_bearer || contains(&decoded, signed.as_bytes())
}

/// Cookie names a request may carry (the real ones, near misses and others).
const COOKIE_NAMES: &[&str] = &[
    "better-auth.session_token",
    "__Secure-better-auth.session_token",
    "better-auth.dont_remember",
    "__Secure-better-auth.dont_remember",
    "better-auth.session_data",
    "Better-Auth.session_token",
    "better-auth.session_token2",
    "a",
    "",
];

/// Tokens that get signed: a real one, the dont_remember flag, and odd ones.
const TOKENS: &[&str] = &[
    "PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ",
    "true",
    "",
    "a.b",
    "ünïcødé",
    "x y",
    "%41",
    "false",
];

/// `Authorization` schemes.
const SCHEMES: &[&str] = &[
    "Bearer ", "bearer ", "BEARER  ", " Bearer ", "Basic ", "Bearer", "Bearer\t", "Token ",
];

/// One piece of a Cookie or Authorization header.
#[derive(Debug, TypeGenerator)]
enum CookiePiece {
    Bytes(#[generator(Vec::produce().with().len(0usize..12))] Vec<u8>),
    Name(u8),
    Eq,
    Semi,
    Space,
    Quote,
    Scheme(u8),
    /// `%XX`, upper or lower case.
    Percent(u8, bool),
    /// `TOKENS[i].signature`, as is.
    Signed(u8),
    /// The same, percent-encoded as the server's Set-Cookie writes it.
    SignedEncoded(u8),
    /// `TOKENS[i]` with the signature of `TOKENS[j]`.
    Forged(u8, u8),
    /// `TOKENS[i].signature` with one byte of the signature changed.
    BadSignature(u8, u8, u8),
    /// A raw 32-character token.
    Raw32([u8; 32]),
    /// Three base64url segments (a JWT's shape).
    JwtShape(
        #[generator(Vec::produce().with().len(0usize..8))] Vec<u8>,
        #[generator(Vec::produce().with().len(0usize..8))] Vec<u8>,
    ),
}

/// A Cookie or Authorization header line.
#[derive(Debug, TypeGenerator)]
enum HeaderLine {
    /// Pieces in any order.
    Pieces(#[generator(Vec::produce().with().len(0usize..10))] Vec<CookiePiece>),
    /// `name=value; name=value`, each value one piece.
    Pairs(#[generator(Vec::produce().with().len(0usize..5))] Vec<(u8, CookiePiece)>),
    /// A scheme and one piece.
    Authorization(u8, CookiePiece),
}

fn alnum(b: u8) -> u8 {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    ALNUM[b as usize % ALNUM.len()]
}

impl HeaderLine {
    fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            HeaderLine::Pieces(pieces) => pieces.iter().for_each(|p| p.render(&mut out)),
            HeaderLine::Pairs(pairs) => {
                for (i, (name, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(b"; ");
                    }
                    out.extend_from_slice(pick(COOKIE_NAMES, *name).as_bytes());
                    out.push(b'=');
                    value.render(&mut out);
                }
            }
            HeaderLine::Authorization(scheme, value) => {
                out.extend_from_slice(pick(SCHEMES, *scheme).as_bytes());
                value.render(&mut out);
            }
        }
        out
    }
}

impl CookiePiece {
    fn render(&self, out: &mut Vec<u8>) {
        let secret = Secret::new(SECRET);
        match self {
            CookiePiece::Bytes(b) => out.extend_from_slice(b),
            CookiePiece::Name(i) => out.extend_from_slice(pick(COOKIE_NAMES, *i).as_bytes()),
            CookiePiece::Eq => out.push(b'='),
            CookiePiece::Semi => out.push(b';'),
            CookiePiece::Space => out.push(b' '),
            CookiePiece::Quote => out.push(b'"'),
            CookiePiece::Scheme(i) => out.extend_from_slice(pick(SCHEMES, *i).as_bytes()),
            CookiePiece::Percent(b, upper) => out.extend_from_slice(
                if *upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
                .as_bytes(),
            ),
            CookiePiece::Signed(i) => {
                out.extend_from_slice(secret.signed_value(pick(TOKENS, *i)).as_bytes())
            }
            CookiePiece::SignedEncoded(i) => {
                let signed = secret.signed_value(pick(TOKENS, *i));
                out.extend_from_slice(
                    utf8_percent_encode(&signed, NON_ALPHANUMERIC)
                        .to_string()
                        .as_bytes(),
                )
            }
            CookiePiece::Forged(i, j) => {
                let (t, u) = (pick(TOKENS, *i), pick(TOKENS, *j));
                out.extend_from_slice(format!("{t}.{}", secret.sign(u)).as_bytes())
            }
            CookiePiece::BadSignature(i, at, xor) => {
                let t = pick(TOKENS, *i);
                let mut sig = secret.sign(t).into_bytes();
                let at = *at as usize % sig.len();
                sig[at] ^= (*xor).max(1);
                out.extend_from_slice(t.as_bytes());
                out.push(b'.');
                out.extend_from_slice(&sig);
            }
            CookiePiece::Raw32(b) => out.extend(b.iter().map(|b| alnum(*b))),
            CookiePiece::JwtShape(a, b) => {
                out.extend_from_slice(B64URL.encode(a).as_bytes());
                out.push(b'.');
                out.extend_from_slice(B64URL.encode(b).as_bytes());
                out.push(b'.');
                out.extend_from_slice(B64URL.encode([a.len() as u8]).as_bytes());
            }
        }
    }
}

#[derive(Debug, TypeGenerator)]
struct CookieHeaders {
    #[generator(Vec::produce().with().len(0usize..3))]
    cookies: Vec<HeaderLine>,
    authorization: Option<HeaderLine>,
    https: bool,
    name: u8,
}

/// Arbitrary Cookie and Authorization headers: nothing panics, and no token comes out without
/// its valid signature (or as a raw 32-character bearer token). `bearer_jwt` only hands out
/// three base64url segments taken from a Bearer Authorization header.
#[test]
fn fuzz_cookie_and_bearer_parsing() {
    let secret = Secret::new(SECRET);
    // The harness can tell a valid token from a forged one.
    let cfg = CookieConfig::new(false, 604800);
    let mut good = HeaderMap::new();
    let value = format!(
        "x=1; better-auth.session_token={}",
        secret.signed_value("tok")
    );
    good.insert(header::COOKIE, HeaderValue::from_str(&value).unwrap());
    assert_eq!(
        cookies::session_token(&good, &cfg, &secret).as_deref(),
        Some("tok")
    );
    assert!(authentic(&good, "tok"));
    assert!(!authentic(&good, "other"));

    let found = AtomicUsize::new(0);
    budget(check!().with_type::<CookieHeaders>(), 60_000, 1).for_each(|input| {
        let cfg = CookieConfig::new(input.https, 604800);
        let mut headers = HeaderMap::new();
        for line in &input.cookies {
            if let Ok(v) = HeaderValue::from_bytes(&line.render()) {
                headers.append(header::COOKIE, v);
            }
        }
        if let Some(line) = &input.authorization {
            if let Ok(v) = HeaderValue::from_bytes(&line.render()) {
                headers.insert(header::AUTHORIZATION, v);
            }
        }

        let name = pick(COOKIE_NAMES, input.name);
        if let Some(_value) = cookies::read_cookie(&headers, name) {
            assert!(
                headers
                    .get_all(header::COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|line| line.contains('=') && line.contains(name)),
                "read_cookie({name:?}) found a cookie no header names"
            );
        }

        if let Some(token) = cookies::session_token(&headers, &cfg, &secret) {
            found.fetch_add(1, Ordering::Relaxed);
            assert!(
                authentic(&headers, &token),
                "session_token returned {token:?} without its valid signature: {headers:?}"
            );
        }
        if cookies::dont_remember(&headers, &cfg, &secret) {
            assert!(
                authentic(&headers, "true"),
                "dont_remember is true without a signed \"true\": {headers:?}"
            );
        }
        if let Some(jwt) = cookies::bearer_jwt(&headers) {
            let auth = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .expect("a bearer JWT comes from a readable Authorization header");
            assert!(
                auth.trim().to_ascii_lowercase().starts_with("bearer"),
                "{auth:?}"
            );
            assert!(auth.contains(jwt), "{auth:?} / {jwt:?}");
            let parts: Vec<&str> = jwt.split('.').collect();
            assert_eq!(parts.len(), 3, "{jwt:?}");
            assert!(
                jwt.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')),
                "{jwt:?}"
            );
        }
    });
    eprintln!(
        "cookie headers: {} gave a session token",
        found.into_inner()
    );
}

/// Names for the cookie-jar model (the ones that differ only in case are different cookies).
const JAR_NAMES: &[&str] = &[
    "better-auth.session_token",
    "Better-Auth.session_token",
    "better-auth.dont_remember",
    "a",
    "b_c",
];

#[derive(Debug, TypeGenerator)]
struct JarPair {
    name: u8,
    value: String,
    /// 0: `k=v`, 1: ` k = v `, 2: `k="v"`, 3: `k=v ` with a tab.
    style: u8,
}

#[derive(Debug, TypeGenerator)]
struct Jar {
    #[generator(Vec::produce().with().len(0usize..8))]
    pairs: Vec<JarPair>,
    /// Where the pairs are split into a second and third Cookie line.
    split: (u8, u8),
}

/// `read_cookie` against a model: for pairs whose values are percent-encoded as browsers' clients
/// do (`encodeURIComponent`), with spaces, quotes and several Cookie lines, every name reads back
/// the value of its first occurrence, exactly; a name that is absent reads as None.
#[test]
fn fuzz_read_cookie_matches_a_model() {
    budget(check!().with_type::<Jar>(), 25_000, 1).for_each(|jar| {
        let rendered: Vec<String> = jar
            .pairs
            .iter()
            .map(|p| {
                let name = pick(JAR_NAMES, p.name);
                let v = utf8_percent_encode(&p.value, NON_ALPHANUMERIC).to_string();
                match p.style % 4 {
                    0 => format!("{name}={v}"),
                    1 => format!(" {name} = {v} "),
                    2 => format!("{name}=\"{v}\""),
                    _ => format!("{name}={v}\t"),
                }
            })
            .collect();
        let n = rendered.len();
        let (a, b) = (
            jar.split.0 as usize % (n + 1),
            jar.split.1 as usize % (n + 1),
        );
        let (a, b) = (a.min(b), a.max(b));
        let mut headers = HeaderMap::new();
        for chunk in [&rendered[..a], &rendered[a..b], &rendered[b..]] {
            if !chunk.is_empty() {
                let line = chunk.join(";");
                headers.append(header::COOKIE, HeaderValue::from_str(&line).unwrap());
            }
        }
        for name in JAR_NAMES {
            let expected = jar
                .pairs
                .iter()
                .find(|p| pick(JAR_NAMES, p.name) == *name)
                .map(|p| p.value.clone());
            assert_eq!(
                cookies::read_cookie(&headers, name),
                expected,
                "{name:?} in {headers:?}"
            );
        }
    });
}

/// A session token to sign.
#[derive(Debug, TypeGenerator)]
enum TokenChoice {
    /// The shape the server makes: 32 letters and digits.
    Raw32([u8; 32]),
    /// Anything at all.
    Any(String),
    /// Visible ASCII.
    Ascii(#[generator(Vec::produce().with().len(0usize..40))] Vec<u8>),
}

impl TokenChoice {
    fn token(&self) -> String {
        match self {
            TokenChoice::Raw32(b) => b.iter().map(|b| alnum(*b) as char).collect(),
            TokenChoice::Any(s) => s.clone(),
            TokenChoice::Ascii(b) => b.iter().map(|b| (b'!' + b % 94) as char).collect(),
        }
    }
}

/// A change to a signed value.
#[derive(Debug, TypeGenerator)]
enum Mutation {
    Flip {
        at: u16,
        xor: u8,
    },
    Replace {
        at: u16,
        byte: u8,
    },
    Insert {
        at: u16,
        byte: u8,
    },
    Delete {
        at: u16,
    },
    Truncate {
        len: u16,
    },
    SwapCase {
        at: u16,
    },
    Append(#[generator(Vec::produce().with().len(1usize..6))] Vec<u8>),
    Prepend(#[generator(Vec::produce().with().len(1usize..6))] Vec<u8>),
    /// Moves the dot that separates the value from its signature.
    MoveDot {
        by: i8,
    },
    /// The signature of another value.
    OtherSignature(String),
    /// Percent-decodes the whole value.
    Decoded,
    /// Percent-encodes the value once more.
    DoubleEncoded,
}

impl Mutation {
    fn apply(&self, v: &[u8]) -> Vec<u8> {
        let mut v = v.to_vec();
        match self {
            Mutation::Flip { at: i, xor } => {
                if !v.is_empty() {
                    let i = at(*i, v.len());
                    v[i] ^= (*xor).max(1);
                }
            }
            Mutation::Replace { at: i, byte } => {
                if !v.is_empty() {
                    let i = at(*i, v.len());
                    v[i] = *byte;
                }
            }
            Mutation::Insert { at: i, byte } => {
                let i = at(*i, v.len() + 1);
                v.insert(i, *byte);
            }
            Mutation::Delete { at: i } => {
                if !v.is_empty() {
                    let i = at(*i, v.len());
                    v.remove(i);
                }
            }
            Mutation::Truncate { len } => v.truncate(at(*len, v.len())),
            Mutation::SwapCase { at: i } => {
                if !v.is_empty() {
                    let i = at(*i, v.len());
                    v[i] = if v[i].is_ascii_uppercase() {
                        v[i].to_ascii_lowercase()
                    } else {
                        v[i].to_ascii_uppercase()
                    };
                }
            }
            Mutation::Append(b) => v.extend_from_slice(b),
            Mutation::Prepend(b) => {
                let mut p = b.clone();
                p.extend_from_slice(&v);
                v = p;
            }
            Mutation::MoveDot { by } => {
                if let Some(dot) = v.iter().rposition(|b| *b == b'.') {
                    v.remove(dot);
                    let to = (dot as i64 + *by as i64).clamp(0, v.len() as i64) as usize;
                    v.insert(to, b'.');
                }
            }
            Mutation::OtherSignature(other) => {
                let sig = utf8_percent_encode(&Secret::new(SECRET).sign(other), NON_ALPHANUMERIC)
                    .to_string();
                if let Some(dot) = v.iter().rposition(|b| *b == b'.') {
                    v.truncate(dot + 1);
                    v.extend_from_slice(sig.as_bytes());
                }
            }
            Mutation::Decoded => v = percent_decode(&v).collect(),
            Mutation::DoubleEncoded => {
                v = percent_encoding::percent_encode(&v, NON_ALPHANUMERIC)
                    .to_string()
                    .into_bytes()
            }
        }
        v
    }
}

#[derive(Debug, TypeGenerator)]
struct SignedCase {
    token: TokenChoice,
    remember: bool,
    https: bool,
    mutation: Mutation,
}

/// A cookie-octet (RFC 6265 4.1.1): what a cookie value may hold unquoted.
fn cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// `set_session` then reading the cookie back: any token round-trips exactly (cookie, and
/// bearer for tokens in the server's alphabet); the cookie value is cookie-octets only; the
/// signature is HMAC-SHA256 of the token (checked independently); `dont_remember` is set exactly
/// when rememberMe is false. Then the signed cookie value or bearer token is tampered with: the
/// result is None or another token, never a token whose valid signature is no longer there.
#[test]
fn fuzz_signed_session_cookie_round_trip_and_tampering() {
    let secret = Secret::new(SECRET);
    budget(check!().with_type::<SignedCase>(), 30_000, 1).for_each(|case| {
        let token = case.token.token();
        let cfg = CookieConfig::new(case.https, 604800);
        let mut out = HeaderMap::new();
        cookies::set_session(&mut out, &cfg, &secret, &token, case.remember);

        let lines: Vec<&str> = out
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("Set-Cookie is ASCII"))
            .collect();
        assert_eq!(lines.len(), if case.remember { 1 } else { 2 }, "{lines:?}");
        let mut request_cookies = Vec::new();
        for (line, name) in lines.iter().zip([&cfg.session, &cfg.dont_remember]) {
            let (pair, attrs) = line.split_once(';').expect("attributes follow the pair");
            let (n, value) = pair.split_once('=').expect("name=value");
            assert_eq!(n, name.as_str());
            assert!(
                value.bytes().all(cookie_octet),
                "not a cookie value: {value:?}"
            );
            assert!(
                attrs.contains("Path=/") && attrs.contains("HttpOnly"),
                "{attrs}"
            );
            assert!(attrs.contains("SameSite=Lax"), "{attrs}");
            assert_eq!(attrs.contains("Secure"), case.https, "{attrs}");
            request_cookies.push(format!("{n}={value}"));
        }
        assert_eq!(lines[0].contains("Max-Age=604800"), case.remember);

        let signed = format!("{token}.{}", independent_signature(&token));
        assert_eq!(secret.signed_value(&token), signed);
        if let Some(v) = out.get("set-auth-token") {
            assert_eq!(v.as_bytes(), signed.as_bytes());
        }

        // The cookies read back.
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&request_cookies.join("; ")).unwrap(),
        );
        assert_eq!(
            cookies::session_token(&headers, &cfg, &secret).as_deref(),
            Some(token.as_str())
        );
        assert_eq!(
            cookies::dont_remember(&headers, &cfg, &secret),
            !case.remember
        );

        // The bearer token reads back, for tokens in the server's alphabet.
        let plain = token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if plain {
            let bearer = out
                .get("set-auth-token")
                .expect("an ASCII token gets set-auth-token");
            let mut auth = HeaderMap::new();
            let value = format!("Bearer {}", bearer.to_str().unwrap());
            auth.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&value).unwrap(),
            );
            assert_eq!(
                cookies::session_token(&auth, &cfg, &secret).as_deref(),
                Some(token.as_str())
            );
        }

        // Tampered cookie value.
        let encoded = request_cookies[0]
            .split_once('=')
            .map(|(_, v)| v.as_bytes().to_vec())
            .unwrap();
        let mut line = format!("{}=", cfg.session).into_bytes();
        line.extend(case.mutation.apply(&encoded));
        if let Ok(v) = HeaderValue::from_bytes(&line) {
            let mut headers = HeaderMap::new();
            headers.insert(header::COOKIE, v);
            if let Some(got) = cookies::session_token(&headers, &cfg, &secret) {
                assert!(
                    authentic(&headers, &got),
                    "tampered cookie {headers:?} gave {got:?} without its signature"
                );
            }
        }

        // Tampered bearer token.
        let mut line = b"Bearer ".to_vec();
        line.extend(case.mutation.apply(signed.as_bytes()));
        if let Ok(v) = HeaderValue::from_bytes(&line) {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, v);
            if let Some(got) = cookies::session_token(&headers, &cfg, &secret) {
                assert!(
                    authentic(&headers, &got),
                    "tampered bearer {headers:?} gave {got:?} without its signature"
                );
            }
        }
    });
}

// =================================================================================================
// 2. JWT verification
// =================================================================================================

/// What the JWT targets need: the application, and its signing key's id, private key (read from
/// the `jwks` table and decrypted here) and public key.
struct JwtKit {
    app: App,
    kid: String,
    key: ed25519_dalek::SigningKey,
    /// The public key, base64url (the JWK's `x`).
    x: String,
}

fn jwt_kit() -> JwtKit {
    let app = app();
    let (kid, stored) = app.rt.block_on(async {
        let current = app
            .state
            .auth
            .keys()
            .current()
            .await
            .expect("a signing key");
        let stored = app
            .state
            .auth
            .store()
            .signing_keys()
            .await
            .expect("the jwks table");
        (current.id, stored)
    });
    let row = stored
        .iter()
        .find(|k| k.id == kid)
        .expect("the current key is stored");
    // The stored private key is JSON.stringify(encrypt(JSON.stringify(jwk))).
    let cipher: String = serde_json::from_str(&row.private_key).expect("a JSON string");
    let secret = Secret::new(SECRET);
    let jwk: Value =
        serde_json::from_str(&secret.decrypt(&cipher).expect("opens with the secret")).unwrap();
    let d: [u8; 32] = B64URL
        .decode(jwk["d"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&d);
    let x = B64URL.encode(key.verifying_key().to_bytes());
    assert_eq!(jwk["x"].as_str(), Some(x.as_str()));
    JwtKit { app, kid, key, x }
}

impl JwtKit {
    fn verify(&self, token: &str) -> Result<Map<String, Value>, DomainError> {
        self.app.rt.block_on(self.app.state.auth.verify_jwt(token))
    }

    fn good_claims(&self) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"sub": "user-1", "sid": "session-1", "iat": now, "exp": now + 900,
               "iss": BASE_URL, "aud": BASE_URL, "email": "ada@example.com"})
    }

    /// `header.payload.signature`, EdDSA-signed with the real key.
    fn sign_parts(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!("{}.{}", B64URL.encode(header), B64URL.encode(payload));
        let sig = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64URL.encode(sig.to_bytes()))
    }
}

#[derive(Debug, Clone, TypeGenerator)]
enum AlgChoice {
    EdDsa,
    None,
    NoneCapitalised,
    Hs256,
    Rs256,
    Es256,
    EdDsaLowercase,
    Ed25519,
    Missing,
    NotAString,
}

#[derive(Debug, Clone, TypeGenerator)]
enum KidChoice {
    Real,
    Missing,
    Unknown,
    Empty,
    NotAString,
    Other(String),
}

#[derive(Debug, Clone, TypeGenerator)]
enum SignatureChoice {
    /// EdDSA with the server's key.
    Real,
    /// EdDSA with a key nobody published.
    OtherKey,
    /// HMAC-SHA256 keyed with the public key (algorithm confusion), as text or as bytes.
    HmacWithPublicKey(bool),
    Empty,
    Garbage(#[generator(Vec::produce().with().len(0usize..80))] Vec<u8>),
}

#[derive(Debug, Clone, TypeGenerator)]
enum IssChoice {
    Good,
    Other,
    Missing,
    Number,
    Array,
    TrailingSlash,
}

#[derive(Debug, Clone, TypeGenerator)]
enum AudChoice {
    Good,
    Other,
    Missing,
    Number,
    ArrayWithGood,
    ArrayWithoutGood,
    EmptyArray,
}

#[derive(Debug, Clone, TypeGenerator)]
enum ExpChoice {
    /// At least a minute ahead.
    Future(u16),
    /// At least a minute ago (well past the few seconds of leeway).
    Past(u16),
    Missing,
    StringPast,
    StringFuture,
    Negative,
    Float,
    Huge,
}

#[derive(Debug, Clone, TypeGenerator)]
enum PayloadShape {
    Claims,
    Array,
    Null,
    NotJson(#[generator(Vec::produce().with().len(0usize..20))] Vec<u8>),
}

/// A field that is usually right: its flaw is used one time in four, so that valid tokens and
/// tokens with a single flaw are both common.
#[derive(Debug, TypeGenerator)]
struct Maybe<T> {
    draw: u8,
    flaw: T,
}

impl<T: Clone> Maybe<T> {
    fn or(&self, right: T) -> T {
        if self.draw < 64 {
            self.flaw.clone()
        } else {
            right
        }
    }
}

/// A JWT as generated: every field right unless its flaw is drawn.
#[derive(Debug, TypeGenerator)]
struct JwtDraw {
    alg: Maybe<AlgChoice>,
    kid: Maybe<KidChoice>,
    typ: Option<String>,
    signature: Maybe<SignatureChoice>,
    iss: Maybe<IssChoice>,
    aud: Maybe<AudChoice>,
    exp: Maybe<ExpChoice>,
    /// The flaw: a number (true) or no `sub` at all (false).
    sub: Maybe<bool>,
    payload: Maybe<PayloadShape>,
    extra: Option<(String, String)>,
}

impl JwtDraw {
    fn spec(&self) -> JwtSpec {
        JwtSpec {
            alg: self.alg.or(AlgChoice::EdDsa),
            kid: self.kid.or(KidChoice::Real),
            typ: self.typ.clone(),
            signature: self.signature.or(SignatureChoice::Real),
            iss: self.iss.or(IssChoice::Good),
            aud: self.aud.or(AudChoice::Good),
            exp: self.exp.or(ExpChoice::Future(600)),
            sub: if self.sub.draw < 64 {
                self.sub.flaw.then_some(false)
            } else {
                Some(true)
            },
            payload: self.payload.or(PayloadShape::Claims),
            extra: self.extra.clone(),
        }
    }
}

/// The JWT to build: `sub` is a string (Some(true)), a number (Some(false)) or missing (None).
#[derive(Debug)]
struct JwtSpec {
    alg: AlgChoice,
    kid: KidChoice,
    typ: Option<String>,
    signature: SignatureChoice,
    iss: IssChoice,
    aud: AudChoice,
    exp: ExpChoice,
    sub: Option<bool>,
    payload: PayloadShape,
    extra: Option<(String, String)>,
}

/// Whether a token built from a spec must be accepted (Some(true)), must be refused
/// (Some(false)), or may go either way (None: encodings the standards leave open).
fn jwt_expected(spec: &JwtSpec, real_kid: &str) -> Option<bool> {
    let kid_real = match &spec.kid {
        KidChoice::Real => true,
        KidChoice::Other(s) => s == real_kid,
        _ => false,
    };
    let definitely_bad = !matches!(spec.alg, AlgChoice::EdDsa)
        || !kid_real
        || !matches!(spec.signature, SignatureChoice::Real)
        || !matches!(spec.payload, PayloadShape::Claims)
        || matches!(
            spec.iss,
            IssChoice::Other | IssChoice::Missing | IssChoice::Number | IssChoice::TrailingSlash
        )
        || matches!(
            spec.aud,
            AudChoice::Other
                | AudChoice::Missing
                | AudChoice::Number
                | AudChoice::ArrayWithoutGood
                | AudChoice::EmptyArray
        )
        || matches!(
            spec.exp,
            ExpChoice::Past(_) | ExpChoice::Missing | ExpChoice::StringPast | ExpChoice::Negative
        )
        || spec.sub.is_none();
    if definitely_bad {
        return Some(false);
    }
    let canonical = matches!(spec.iss, IssChoice::Good)
        && matches!(spec.aud, AudChoice::Good)
        && matches!(spec.exp, ExpChoice::Future(_))
        && spec.sub == Some(true);
    canonical.then_some(true)
}

impl JwtKit {
    fn build(&self, spec: &JwtSpec) -> (String, Value) {
        let now = chrono::Utc::now().timestamp();
        let mut header = Map::new();
        let alg = match spec.alg {
            AlgChoice::EdDsa => Some(json!("EdDSA")),
            AlgChoice::None => Some(json!("none")),
            AlgChoice::NoneCapitalised => Some(json!("None")),
            AlgChoice::Hs256 => Some(json!("HS256")),
            AlgChoice::Rs256 => Some(json!("RS256")),
            AlgChoice::Es256 => Some(json!("ES256")),
            AlgChoice::EdDsaLowercase => Some(json!("eddsa")),
            AlgChoice::Ed25519 => Some(json!("Ed25519")),
            AlgChoice::Missing => None,
            AlgChoice::NotAString => Some(json!(7)),
        };
        if let Some(a) = alg {
            header.insert("alg".into(), a);
        }
        let kid = match &spec.kid {
            KidChoice::Real => Some(json!(self.kid)),
            KidChoice::Missing => None,
            KidChoice::Unknown => Some(json!("0123456789abcdef0123456789abcdef")),
            KidChoice::Empty => Some(json!("")),
            KidChoice::NotAString => Some(json!(["x"])),
            KidChoice::Other(s) => Some(json!(s)),
        };
        if let Some(k) = kid {
            header.insert("kid".into(), k);
        }
        if let Some(t) = &spec.typ {
            header.insert("typ".into(), json!(t));
        }
        let iss = match spec.iss {
            IssChoice::Good => Some(json!(BASE_URL)),
            IssChoice::Other => Some(json!("http://evil.example")),
            IssChoice::Missing => None,
            IssChoice::Number => Some(json!(4000)),
            IssChoice::Array => Some(json!([BASE_URL])),
            IssChoice::TrailingSlash => Some(json!(format!("{BASE_URL}/"))),
        };
        let aud = match spec.aud {
            AudChoice::Good => Some(json!(BASE_URL)),
            AudChoice::Other => Some(json!("http://evil.example")),
            AudChoice::Missing => None,
            AudChoice::Number => Some(json!(1)),
            AudChoice::ArrayWithGood => Some(json!(["http://evil.example", BASE_URL])),
            AudChoice::ArrayWithoutGood => Some(json!(["http://evil.example"])),
            AudChoice::EmptyArray => Some(json!([])),
        };
        let exp = match spec.exp {
            ExpChoice::Future(s) => Some(json!(now + 60 + i64::from(s))),
            ExpChoice::Past(s) => Some(json!(now - 60 - i64::from(s))),
            ExpChoice::Missing => None,
            ExpChoice::StringPast => Some(json!((now - 3600).to_string())),
            ExpChoice::StringFuture => Some(json!((now + 3600).to_string())),
            ExpChoice::Negative => Some(json!(-1)),
            ExpChoice::Float => Some(json!(now as f64 + 3600.5)),
            ExpChoice::Huge => Some(json!(u64::MAX)),
        };
        let sub = spec
            .sub
            .map(|s| if s { json!("user-1") } else { json!(12) });
        let mut claims = Map::new();
        for (k, v) in [("iss", iss), ("aud", aud), ("exp", exp), ("sub", sub)] {
            if let Some(v) = v {
                claims.insert(k.into(), v);
            }
        }
        if let Some((k, v)) = &spec.extra {
            if !matches!(k.as_str(), "iss" | "aud" | "exp" | "sub" | "nbf") {
                claims.insert(k.clone(), json!(v));
            }
        }
        let claims = Value::Object(claims);
        let payload = match &spec.payload {
            PayloadShape::Claims => serde_json::to_vec(&claims).unwrap(),
            PayloadShape::Array => b"[1,2]".to_vec(),
            PayloadShape::Null => b"null".to_vec(),
            PayloadShape::NotJson(b) => b.clone(),
        };
        let header = serde_json::to_vec(&Value::Object(header)).unwrap();
        let input = format!("{}.{}", B64URL.encode(&header), B64URL.encode(&payload));
        let sig = match &spec.signature {
            SignatureChoice::Real => self.key.sign(input.as_bytes()).to_bytes().to_vec(),
            SignatureChoice::OtherKey => ed25519_dalek::SigningKey::from_bytes(&[7; 32])
                .sign(input.as_bytes())
                .to_bytes()
                .to_vec(),
            SignatureChoice::HmacWithPublicKey(as_text) => {
                let x_bytes = B64URL.decode(&self.x).unwrap();
                let k: &[u8] = if *as_text {
                    self.x.as_bytes()
                } else {
                    &x_bytes
                };
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(k).unwrap();
                mac.update(input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            SignatureChoice::Empty => Vec::new(),
            SignatureChoice::Garbage(b) => b.clone(),
        };
        (format!("{input}.{}", B64URL.encode(sig)), claims)
    }
}

/// Tokens built field by field (algorithm, kid, signature, iss, aud, exp, sub, payload shape):
/// the verifier accepts exactly the ones signed by the published key with EdDSA, the right issuer
/// and audience, a future expiry and a subject, and returns their claims unchanged; `none`,
/// HS256 keyed with the public key, another key, a wrong or missing claim are all refused, with
/// 401 (Unauthorized), never an internal error.
#[test]
fn fuzz_jwt_verification_matches_a_model() {
    let kit = jwt_kit();
    // The server's own tokens and the harness's agree.
    let own = kit
        .app
        .rt
        .block_on(kit.app.state.auth.keys().current())
        .unwrap()
        .sign(&kit.good_claims())
        .unwrap();
    assert!(kit.verify(&own).is_ok());
    let header = serde_json::to_vec(&json!({"alg": "EdDSA", "kid": kit.kid})).unwrap();
    let mine = kit.sign_parts(&header, &serde_json::to_vec(&kit.good_claims()).unwrap());
    assert!(kit.verify(&mine).is_ok());

    let kit = AssertUnwindSafe(kit);
    let accepted = AtomicUsize::new(0);
    budget(check!().with_type::<JwtDraw>(), 20_000, 1).for_each(|draw| {
        let spec = &draw.spec();
        let (token, claims) = kit.build(spec);
        let got = kit.verify(&token);
        if got.is_ok() {
            accepted.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = &got {
            assert!(
                matches!(e, DomainError::Unauthorized),
                "a refused JWT must be 401, got {e:?}"
            );
        }
        match jwt_expected(spec, &kit.kid) {
            Some(true) => {
                let got =
                    got.unwrap_or_else(|e| panic!("a valid JWT was refused ({e:?}): {token}"));
                assert_eq!(Value::Object(got), claims);
            }
            Some(false) => assert!(got.is_err(), "an invalid JWT was accepted: {token}"),
            None => {}
        }
    });
    eprintln!("JWT specs: {} accepted", accepted.into_inner());
}

/// A change to a valid JWT.
#[derive(Debug, TypeGenerator)]
enum JwtMutation {
    Flip {
        at: u16,
        xor: u8,
    },
    Replace {
        at: u16,
        byte: u8,
    },
    Insert {
        at: u16,
        byte: u8,
    },
    Delete {
        at: u16,
    },
    Truncate {
        len: u16,
    },
    SwapCase {
        at: u16,
    },
    /// Reorders the three segments (a permutation other than the identity).
    Permute(u8),
    DropSegment(u8),
    DuplicateSegment(u8),
    /// A fourth or fifth segment.
    ExtraSegments(u8),
    /// `=` padding on a segment.
    Padding(u8),
    /// The standard base64 alphabet instead of base64url.
    StandardAlphabet,
    /// Whitespace around the token.
    Whitespace(u8, bool),
    /// The header replaced (alg none / HS256 / another kid …), keeping payload and signature or
    /// dropping the signature.
    Header(u8, bool),
    /// The payload re-encoded with a claim changed, keeping header and signature.
    Payload(u8),
    /// Signed again with HMAC keyed by the public key, alg HS256.
    HmacConfusion(bool),
    /// Anything else.
    Arbitrary(String),
    ArbitraryBytes(#[generator(Vec::produce().with().len(0usize..200))] Vec<u8>),
}

impl JwtKit {
    fn mutate(&self, valid: &str, m: &JwtMutation) -> String {
        let segs: Vec<&str> = valid.split('.').collect();
        let mut bytes = valid.as_bytes().to_vec();
        let lossy = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        match m {
            JwtMutation::Flip { at: i, xor } => {
                let i = at(*i, bytes.len());
                bytes[i] ^= (*xor).max(1);
                lossy(bytes)
            }
            JwtMutation::Replace { at: i, byte } => {
                let i = at(*i, bytes.len());
                bytes[i] = *byte;
                lossy(bytes)
            }
            JwtMutation::Insert { at: i, byte } => {
                bytes.insert(at(*i, bytes.len() + 1), *byte);
                lossy(bytes)
            }
            JwtMutation::Delete { at: i } => {
                bytes.remove(at(*i, bytes.len()));
                lossy(bytes)
            }
            JwtMutation::Truncate { len } => {
                bytes.truncate(at(*len, bytes.len()));
                lossy(bytes)
            }
            JwtMutation::SwapCase { at: i } => {
                let i = at(*i, bytes.len());
                bytes[i] = if bytes[i].is_ascii_uppercase() {
                    bytes[i].to_ascii_lowercase()
                } else {
                    bytes[i].to_ascii_uppercase()
                };
                lossy(bytes)
            }
            JwtMutation::Permute(p) => {
                const PERMS: [[usize; 3]; 5] =
                    [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
                let p = pick(&PERMS, *p);
                format!("{}.{}.{}", segs[p[0]], segs[p[1]], segs[p[2]])
            }
            JwtMutation::DropSegment(i) => {
                let i = *i as usize % 3;
                let kept: Vec<&str> = (0..3).filter(|j| *j != i).map(|j| segs[j]).collect();
                kept.join(".")
            }
            JwtMutation::DuplicateSegment(i) => {
                let mut s = segs.clone();
                s.insert(*i as usize % 3, segs[*i as usize % 3]);
                s.join(".")
            }
            JwtMutation::ExtraSegments(n) => {
                format!("{valid}{}", ".".repeat(1 + *n as usize % 2))
            }
            JwtMutation::Padding(i) => {
                let mut s: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
                s[*i as usize % 3].push('=');
                s.join(".")
            }
            JwtMutation::StandardAlphabet => valid.replace('-', "+").replace('_', "/"),
            JwtMutation::Whitespace(w, before) => {
                let w = pick(&[" ", "\n", "\t", "\r\n", "\u{a0}"], *w);
                if *before {
                    format!("{w}{valid}")
                } else {
                    format!("{valid}{w}")
                }
            }
            JwtMutation::Header(h, keep_signature) => {
                let header = match *h % 7 {
                    0 => json!({"alg": "none", "kid": self.kid}),
                    1 => json!({"alg": "none"}),
                    2 => json!({"alg": "HS256", "kid": self.kid}),
                    3 => json!({"alg": "EdDSA"}),
                    4 => json!({"alg": "EdDSA", "kid": "someone-else"}),
                    5 => json!({"alg": "EdDSA", "kid": self.kid, "typ": "JWT"}),
                    _ => {
                        json!({"alg": "EdDSA", "kid": self.kid, "jku": "http://evil.example/jwks"})
                    }
                };
                let header = B64URL.encode(serde_json::to_vec(&header).unwrap());
                if *keep_signature {
                    format!("{header}.{}.{}", segs[1], segs[2])
                } else {
                    format!("{header}.{}.", segs[1])
                }
            }
            JwtMutation::Payload(c) => {
                let mut claims = self.good_claims();
                match *c % 5 {
                    0 => claims["sub"] = json!("admin"),
                    1 => claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 86400),
                    2 => claims["iss"] = json!("http://evil.example"),
                    3 => claims["email"] = json!("eve@example.com"),
                    _ => claims["sid"] = json!("session-2"),
                }
                let payload = B64URL.encode(serde_json::to_vec(&claims).unwrap());
                format!("{}.{payload}.{}", segs[0], segs[2])
            }
            JwtMutation::HmacConfusion(as_text) => {
                let header = B64URL
                    .encode(serde_json::to_vec(&json!({"alg": "HS256", "kid": self.kid})).unwrap());
                let input = format!("{header}.{}", segs[1]);
                let x_bytes = B64URL.decode(&self.x).unwrap();
                let k: &[u8] = if *as_text {
                    self.x.as_bytes()
                } else {
                    &x_bytes
                };
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(k).unwrap();
                mac.update(input.as_bytes());
                format!("{input}.{}", B64URL.encode(mac.finalize().into_bytes()))
            }
            JwtMutation::Arbitrary(s) => s.clone(),
            JwtMutation::ArbitraryBytes(b) => lossy(b.clone()),
        }
    }
}

/// Mutations of one valid JWT (byte flips, segment swaps and drops, padding, alphabet, header
/// with alg none or HS256, payload edits, HMAC keyed with the public key) and arbitrary strings:
/// whatever differs from the valid token is refused with 401; the valid token itself is accepted.
#[test]
fn fuzz_jwt_mutations_are_refused() {
    let kit = jwt_kit();
    let valid = kit
        .app
        .rt
        .block_on(kit.app.state.auth.keys().current())
        .unwrap()
        .sign(&kit.good_claims())
        .unwrap();
    assert!(kit.verify(&valid).is_ok());
    let kit = AssertUnwindSafe(kit);
    budget(check!().with_type::<JwtMutation>(), 25_000, 1).for_each(|m| {
        let token = kit.mutate(&valid, m);
        let got = kit.verify(&token);
        if token == valid {
            assert!(got.is_ok(), "the valid token was refused");
            return;
        }
        match got {
            Ok(claims) => panic!("a changed JWT was accepted: {token:?} (claims {claims:?})"),
            Err(e) => assert!(
                matches!(e, DomainError::Unauthorized),
                "a refused JWT must be 401, got {e:?}"
            ),
        }
    });
}

// =================================================================================================
// 3. callbackURL and origin checks
// =================================================================================================

const TRUSTED_BASE: &str = "http://localhost:4000";
const TRUSTED_CONFIGURED: &[&str] = &[
    "http://localhost:3000",
    "https://trusted.com/",
    "https://*.example.com",
    "*.wild.test",
];

fn trusted_origins() -> TrustedOrigins {
    let configured: Vec<String> = TRUSTED_CONFIGURED.iter().map(|s| s.to_string()).collect();
    TrustedOrigins::new(TRUSTED_BASE, &configured)
}

/// The configuration above, as a model over WHATWG origins: the base URL's and the exact ones
/// (scheme, host and port), https subdomains of example.com, subdomains of wild.test. How far a
/// wildcard reaches is left some room: `strict` only counts subdomains made of hostname labels
/// (letters, digits, `-`); otherwise any host that ends with the suffix. A check must trust
/// every strict match and nothing beyond the loose ones.
fn model_trusts_origin(origin: &url::Origin, strict: bool) -> bool {
    let url::Origin::Tuple(scheme, host, port) = origin else {
        return false;
    };
    let exact = [
        ("http", "localhost", 4000),
        ("http", "localhost", 3000),
        ("https", "trusted.com", 443),
    ];
    let domain = match host {
        url::Host::Domain(d) => Some(d.as_str()),
        _ => None,
    };
    let under = |suffix: &str| {
        domain
            .and_then(|d| d.strip_suffix(suffix))
            .is_some_and(|labels| {
                !strict
                    || labels.split('.').all(|l| {
                        !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
            })
    };
    exact
        .iter()
        .any(|(s, h, p)| scheme == s && domain == Some(h) && port == p)
        || (scheme == "https" && under(".example.com"))
        || under(".wild.test")
}

fn model_trusts(text: &str, strict: bool) -> bool {
    url::Url::parse(text).is_ok_and(|u| model_trusts_origin(&u.origin(), strict))
}

/// Whether a URL's origin (or, when it has none, its host) is one of the configured hosts: what
/// any check of an arbitrary string must ensure before it trusts it.
fn names_a_trusted_host(text: &str) -> bool {
    let Ok(u) = url::Url::parse(text) else {
        return false;
    };
    let host = match u.origin() {
        url::Origin::Tuple(_, host, _) => host.to_string(),
        // A URL of another scheme has no origin; its host (kept as written) is still judged.
        url::Origin::Opaque(_) => u.host_str().unwrap_or("").to_ascii_lowercase(),
    };
    matches!(host.as_str(), "localhost" | "trusted.com")
        || host.ends_with(".example.com")
        || host.ends_with(".wild.test")
}

/// Whether a string is an origin as browsers send it in `Origin` (the serialization of a URL's
/// origin), for which the checks must follow the configuration exactly.
fn canonical_origin(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| u.origin().ascii_serialization() == text)
}

/// A safe relative callback path, as the check's contract states it: one leading `/`, no
/// backslash, no control character, no encoded slash or backslash.
fn safe_relative(u: &str) -> bool {
    let lower = u.to_ascii_lowercase();
    u.starts_with('/')
        && !u.starts_with("//")
        && !u.contains('\\')
        && !u.chars().any(char::is_control)
        && !lower.contains("%2f")
        && !lower.contains("%5c")
}

/// A safe relative path that also encodes no control character (`%00`-`%1f`, `%7f`): one that
/// every version of the check must allow (a stricter check may refuse encoded controls too).
fn plainly_safe_relative(u: &str) -> bool {
    let encoded_control = u.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && (matches!(w[1], b'0' | b'1') && w[2].is_ascii_hexdigit()
                || w[1..].eq_ignore_ascii_case(b"7f"))
    });
    safe_relative(u) && !encoded_control
}

/// Pieces of adversarial URLs.
const URL_LITERALS: &[&str] = &[
    "/",
    "//",
    "///",
    "\\",
    "/\\",
    "\\/",
    "\\\\",
    "https:",
    "http:",
    "https://",
    "http://",
    "HTTPS://",
    "hTtP://",
    "https:/",
    "https:\\\\",
    "javascript:",
    "JaVaScRiPt:",
    "data:text/html,",
    "blob:",
    "file://",
    "ftp://",
    "ws://",
    "@",
    "#",
    "?",
    ":",
    ":443",
    ":4000",
    ":3000",
    ":80",
    ".",
    "..",
    "/..",
    "%2f",
    "%2F",
    "%5c",
    "%5C",
    "%252f",
    "%2e",
    "%00",
    "%0a",
    "%09",
    "%40",
    "\t",
    "\n",
    "\r",
    " ",
    "\u{0}",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{3000}",
    "\u{200b}",
    "\u{feff}",
    "\u{ff0f}",
    "\u{ff3c}",
    "\u{2215}",
    "\u{3002}",
    "\u{ff0e}",
    "user:pass@",
    "trusted.com@",
    "localhost:4000@",
    "[",
    "]",
    "null",
];

const URL_HOSTS: &[&str] = &[
    "trusted.com",
    "TRUSTED.COM",
    "trusted.com.",
    "evil.com",
    "trusted.com.evil.com",
    "eviltrusted.com",
    "localhost",
    "localhost:4000",
    "localhost:3000",
    "localhost:4001",
    "a.example.com",
    "A.EXAMPLE.COM",
    "example.com",
    "a.example.com.evil.net",
    "aexample.com",
    "x.wild.test",
    "wild.test",
    "127.0.0.1",
    "[::1]",
    "0x7f.1",
    "xn--trsted-9ya.com",
    "trüsted.com",
    "\u{ff54}\u{ff52}\u{ff55}\u{ff53}\u{ff54}\u{ff45}\u{ff44}.com",
    "evil\u{3002}com",
];

#[derive(Debug, TypeGenerator)]
enum UrlPiece {
    Lit(u8),
    Host(u8),
    Char(char),
    Ascii(u8),
    Percent(u8, bool),
    Word(#[generator(Vec::produce().with().len(0usize..6))] Vec<u8>),
}

#[derive(Debug, TypeGenerator)]
enum UrlText {
    Grammar {
        #[generator(Vec::produce().with().len(0usize..9))]
        pieces: Vec<UrlPiece>,
        /// 0 as is, 1 ASCII upper case, 2 ASCII lower case.
        case: u8,
    },
    /// A trusted or untrusted absolute URL with a random tail.
    Absolute {
        scheme: u8,
        host: u8,
        #[generator(Vec::produce().with().len(0usize..5))]
        tail: Vec<UrlPiece>,
    },
    /// A path: `/` then pieces.
    Relative(#[generator(Vec::produce().with().len(0usize..6))] Vec<UrlPiece>),
    Random(String),
}

impl UrlPiece {
    fn render(&self, out: &mut String) {
        match self {
            UrlPiece::Lit(i) => out.push_str(pick(URL_LITERALS, *i)),
            UrlPiece::Host(i) => out.push_str(pick(URL_HOSTS, *i)),
            UrlPiece::Char(c) => out.push(*c),
            UrlPiece::Ascii(b) => out.push((b % 128) as char),
            UrlPiece::Percent(b, upper) => out.push_str(&if *upper {
                format!("%{b:02X}")
            } else {
                format!("%{b:02x}")
            }),
            UrlPiece::Word(b) => out.extend(b.iter().map(|b| alnum(*b) as char)),
        }
    }
}

impl UrlText {
    fn render(&self) -> String {
        let mut out = String::new();
        match self {
            UrlText::Grammar { pieces, case } => {
                pieces.iter().for_each(|p| p.render(&mut out));
                match case % 3 {
                    1 => out = out.to_ascii_uppercase(),
                    2 => out = out.to_ascii_lowercase(),
                    _ => {}
                }
            }
            UrlText::Absolute { scheme, host, tail } => {
                out.push_str(pick(
                    &["https://", "http://", "HTTPS://", "ws://", "blob:https://"],
                    *scheme,
                ));
                out.push_str(pick(URL_HOSTS, *host));
                tail.iter().for_each(|p| p.render(&mut out));
            }
            UrlText::Relative(pieces) => {
                out.push('/');
                pieces.iter().for_each(|p| p.render(&mut out));
            }
            UrlText::Random(s) => out.push_str(s),
        }
        out
    }
}

/// callbackURL: whatever is allowed is either a safe relative path that stays on the base URL's
/// origin once a browser resolves it (WHATWG rules: `\` as `/`, tabs and newlines dropped), or an
/// absolute URL whose origin the configuration trusts; conversely every plainly safe path and
/// every plainly trusted origin is allowed. `check_callback` answers 403 INVALID_CALLBACK_URL
/// exactly when `allows_callback` says no. `contains` trusts the origins the configuration
/// names, and never a host outside it.
#[test]
fn fuzz_callback_url_and_trusted_origins() {
    let trusted = trusted_origins();
    // The grammar reaches both answers.
    assert!(trusted.allows_callback("/after"));
    assert!(trusted.allows_callback("https://a.example.com/x"));
    assert!(!trusted.allows_callback("https://trusted.com@evil.com/"));
    let base = url::Url::parse(TRUSTED_BASE).unwrap();

    let (relative, absolute) = (AtomicUsize::new(0), AtomicUsize::new(0));
    budget(check!().with_type::<UrlText>(), 60_000, 1).for_each(|input| {
        let u = input.render();
        let allowed = trusted.allows_callback(&u);
        if allowed {
            let n = if u.starts_with('/') {
                &relative
            } else {
                &absolute
            };
            n.fetch_add(1, Ordering::Relaxed);
        }
        // Sound: what is allowed is a safe path that stays on the site, or a trusted origin.
        if allowed {
            if u.starts_with('/') {
                assert!(safe_relative(&u), "unsafe relative callback allowed: {u:?}");
                let resolved = base
                    .join(&u)
                    .unwrap_or_else(|e| panic!("{u:?} does not resolve ({e})"));
                assert_eq!(
                    resolved.origin(),
                    base.origin(),
                    "callback {u:?} leaves the site: {resolved}"
                );
            } else {
                assert!(
                    model_trusts(&u, false),
                    "untrusted absolute callback allowed: {u:?}"
                );
            }
        }
        // Complete: what is plainly safe or plainly trusted is allowed.
        let must_allow = if u.starts_with('/') {
            plainly_safe_relative(&u)
        } else {
            model_trusts(&u, true)
        };
        assert!(allowed || !must_allow, "allows_callback({u:?}) refused it");

        match check_callback(&trusted, Some(&u)) {
            Ok(()) => assert!(allowed),
            Err(e) => {
                assert!(!allowed);
                assert_eq!(e.status, StatusCode::FORBIDDEN);
                assert_eq!(e.code, Some("INVALID_CALLBACK_URL"));
            }
        }
        // `contains` judges Origin headers: exactly the configured origins, once serialized as
        // a browser sends them; and whatever string it is given, never a host outside the
        // configuration.
        if let Ok(parsed) = url::Url::parse(&u) {
            let origin = parsed.origin();
            let serialized = origin.ascii_serialization();
            let got = trusted.contains(&serialized);
            assert!(
                !got || model_trusts_origin(&origin, false),
                "contains({serialized:?}) trusts it"
            );
            assert!(
                got || !model_trusts_origin(&origin, true),
                "contains({serialized:?}) refuses it"
            );
        }
        if trusted.contains(&u) {
            assert!(names_a_trusted_host(&u), "contains({u:?})");
        }
    });
    assert!(check_callback(&trusted, None).is_ok());
    eprintln!(
        "callbacks allowed: {} relative, {} absolute",
        relative.into_inner(),
        absolute.into_inner()
    );
}

#[derive(Debug, TypeGenerator)]
enum HeaderText {
    Url(UrlText),
    Bytes(#[generator(Vec::produce().with().len(0usize..30))] Vec<u8>),
    Null,
}

impl HeaderText {
    fn bytes(&self) -> Vec<u8> {
        match self {
            HeaderText::Url(u) => u.render().into_bytes(),
            HeaderText::Bytes(b) => b.clone(),
            HeaderText::Null => b"null".to_vec(),
        }
    }
}

const CHECK_METHODS: &[&str] = &[
    "GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH", "TRACE", "get", "post", "FOO",
];
const CHECK_PATHS: &[&str] = &[
    "/sign-in/email",
    "/sign-up/email",
    "/sign-out",
    "/update-user",
    "/change-password",
    "/sign-in/email/",
    "/Sign-In/Email",
    "/sign-in/email?x=1",
    "",
    "/",
];
const FETCH_SITES: &[&str] = &[
    "same-origin",
    "same-site",
    "cross-site",
    "none",
    "CROSS-SITE",
    "Cross-Site",
    "x",
];
const FETCH_MODES: &[&str] = &[
    "navigate",
    "cors",
    "no-cors",
    "same-origin",
    "NAVIGATE",
    "x",
];

#[derive(Debug, TypeGenerator)]
struct RequestCheck {
    method: u8,
    path: u8,
    cookie: bool,
    authorization: bool,
    origin: Option<HeaderText>,
    referer: Option<HeaderText>,
    site: Option<u8>,
    mode: Option<u8>,
    dest: bool,
}

/// The origin a request claims: Origin when it is readable, else Referer's origin.
fn claimed_origin(h: &HeaderMap) -> Option<String> {
    match h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(o) => Some(o.to_owned()),
        None => {
            let r = h.get(header::REFERER)?.to_str().ok()?;
            url::Url::parse(r)
                .ok()
                .map(|u| u.origin().ascii_serialization())
        }
    }
}

/// Better Auth's origin rule, over the model of trusted origins. An origin that is not one a
/// browser would send (a path, a `blob:` wrapper, an odd scheme) must be refused or name a
/// trusted host, and so must a wildcard match on odd labels: `None` says either answer is right.
fn expected_origin_check(h: &HeaderMap) -> Option<Result<(), &'static str>> {
    match claimed_origin(h).as_deref() {
        None | Some("null") => Some(Err("MISSING_OR_NULL_ORIGIN")),
        Some(o) if !canonical_origin(o) && names_a_trusted_host(o) => None,
        Some(o) if model_trusts(o, true) => Some(Ok(())),
        Some(o) if !model_trusts(o, false) => Some(Err("INVALID_ORIGIN")),
        Some(_) => None,
    }
}

/// Origin checks on requests: GET, HEAD and OPTIONS always pass; a state-changing request with
/// cookies passes only when its Origin (or, without one, its Referer) is trusted; sign-in and
/// sign-up refuse a cross-site navigation and check the origin whenever the browser names one;
/// other cookie-less requests pass. Every refusal is a 403 with Better Auth's code.
#[test]
fn fuzz_origin_check_on_requests() {
    let trusted = trusted_origins();
    budget(check!().with_type::<RequestCheck>(), 120_000, 1).for_each(|input| {
        let method = Method::from_bytes(pick(CHECK_METHODS, input.method).as_bytes()).unwrap();
        let path = pick(CHECK_PATHS, input.path);
        let mut h = HeaderMap::new();
        if input.cookie {
            h.insert(header::COOKIE, HeaderValue::from_static("a=b"));
        }
        if input.authorization {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        }
        if let Some(o) = &input.origin {
            if let Ok(v) = HeaderValue::from_bytes(&o.bytes()) {
                h.insert(header::ORIGIN, v);
            }
        }
        if let Some(r) = &input.referer {
            if let Ok(v) = HeaderValue::from_bytes(&r.bytes()) {
                h.insert(header::REFERER, v);
            }
        }
        if let Some(s) = input.site {
            h.insert(
                "sec-fetch-site",
                HeaderValue::from_static(pick(FETCH_SITES, s)),
            );
        }
        if let Some(m) = input.mode {
            h.insert(
                "sec-fetch-mode",
                HeaderValue::from_static(pick(FETCH_MODES, m)),
            );
        }
        if input.dest {
            h.insert("sec-fetch-dest", HeaderValue::from_static("document"));
        }

        let got = check_request(&method, path, &h, &trusted).map_err(|e| {
            assert_eq!(e.status, StatusCode::FORBIDDEN, "{e:?}");
            e.code.expect("every refusal has a code")
        });

        let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        let login = matches!(path, "/sign-in/email" | "/sign-up/email");
        let site = input
            .site
            .map(|s| pick(FETCH_SITES, s).to_ascii_lowercase());
        let mode = input
            .mode
            .map(|m| pick(FETCH_MODES, m).to_ascii_lowercase());
        let expected = if safe {
            Some(Ok(()))
        } else if input.cookie {
            expected_origin_check(&h)
        } else if !login {
            Some(Ok(()))
        } else if site.as_deref() == Some("cross-site") && mode.as_deref() == Some("navigate") {
            Some(Err("CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"))
        } else if site.is_some()
            || mode.is_some()
            || input.dest
            || h.contains_key(header::ORIGIN)
            || h.contains_key(header::REFERER)
        {
            expected_origin_check(&h)
        } else {
            Some(Ok(()))
        };
        match expected {
            Some(expected) => assert_eq!(got, expected, "{method} {path:?} {h:?}"),
            None => assert!(
                matches!(got, Ok(()) | Err("INVALID_ORIGIN")),
                "{method} {path:?} {h:?}: {got:?}"
            ),
        }

        // The security property on its own: a state-changing request with cookies never passes
        // unless the origin it claims is trusted.
        if !safe && input.cookie && got.is_ok() {
            let claimed = claimed_origin(&h).expect("an origin was claimed");
            assert!(
                names_a_trusted_host(&claimed),
                "{claimed:?} passed with cookies"
            );
        }
    });
}

// =================================================================================================
// 4. Request bodies
// =================================================================================================

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "  application/json ;x",
    "application/json;",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=UTF-8",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
    ";",
    "application/jsonx",
    "application/json, text/plain",
];

#[derive(Debug, TypeGenerator)]
enum ContentTypeChoice {
    Missing,
    Known(u8),
    Bytes(#[generator(Vec::produce().with().len(0usize..24))] Vec<u8>),
}

#[derive(Debug, TypeGenerator)]
enum ContentLengthChoice {
    Missing,
    Exact,
    Known(u8),
    Bytes(#[generator(Vec::produce().with().len(0usize..24))] Vec<u8>),
}

const CONTENT_LENGTHS: &[&str] = &[
    "0",
    "1",
    "1048576",
    "1048577",
    "18446744073709551615",
    "99999999999999999999999",
    "-1",
    "+5",
    " 5",
    "abc",
    "",
];

/// Body sizes at the edges of the limit.
const SIZES: &[usize] = &[
    0,
    1,
    2,
    1000,
    MAX_BODY_BYTES - 2,
    MAX_BODY_BYTES - 1,
    MAX_BODY_BYTES,
    MAX_BODY_BYTES + 1,
    2 * MAX_BODY_BYTES,
];

/// Tricky JSON texts.
const JSON_TEXTS: &[&str] = &[
    "{}",
    "[]",
    "null",
    "true",
    "0",
    "-0",
    "1e400",
    "-1e400",
    "18446744073709551616",
    "1.7976931348623157e308",
    "NaN",
    "Infinity",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "{\"a\":1,\"a\":2}",
    "{\"email\":\"a@b.c\",\"password\":\"x\"} trailing",
    "\u{feff}{}",
    "{\"a\":}",
    "{\"__proto__\":{\"admin\":true}}",
    "  {  }  ",
    "{\"rememberMe\":\"false\"}",
    "[1,2,",
    "\"unterminated",
    "{\"a\":\"\u{0}\"}",
];

#[derive(Debug, TypeGenerator)]
enum BodyChoice {
    Empty,
    Bytes(#[generator(Vec::produce().with().len(0usize..256))] Vec<u8>),
    Known(u8),
    /// `[[[[…` or `{"a":{"a":…`, closed or not.
    Nested {
        depth: u32,
        object: bool,
        closed: bool,
    },
    /// A long string, raw, as one JSON string, with escapes, or as a form value.
    Big {
        size: u8,
        kind: u8,
    },
    Json(JsonDoc),
    Form(#[generator(Vec::produce().with().len(0usize..6))] Vec<(String, String)>),
}

impl BodyChoice {
    fn bytes(&self) -> Vec<u8> {
        match self {
            BodyChoice::Empty => Vec::new(),
            BodyChoice::Bytes(b) => b.clone(),
            BodyChoice::Known(i) => pick(JSON_TEXTS, *i).as_bytes().to_vec(),
            BodyChoice::Nested {
                depth,
                object,
                closed,
            } => {
                let depth = *depth as usize % 200_000;
                let (open, close) = if *object {
                    ("{\"a\":", "}")
                } else {
                    ("[", "]")
                };
                let mut s = open.repeat(depth);
                s.push('1');
                if *closed {
                    s.push_str(&close.repeat(depth));
                }
                s.into_bytes()
            }
            BodyChoice::Big { size, kind } => {
                let n = pick(SIZES, *size);
                match kind % 4 {
                    0 => vec![b'a'; n],
                    1 => {
                        let mut v = Vec::with_capacity(n);
                        v.push(b'"');
                        v.resize(n.saturating_sub(1).max(1), b'a');
                        v.push(b'"');
                        v
                    }
                    2 => {
                        let mut s = String::from("{\"name\":\"");
                        while s.len() + 8 < n {
                            s.push_str("\\u00e9");
                        }
                        s.push_str("\"}");
                        s.into_bytes()
                    }
                    _ => {
                        let mut v = b"email=".to_vec();
                        v.resize(n.max(6), b'x');
                        v
                    }
                }
            }
            BodyChoice::Json(doc) => serde_json::to_vec(&doc.value(&[])).unwrap(),
            BodyChoice::Form(pairs) => url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
                .into_bytes(),
        }
    }
}

/// Keys the handlers read, and others.
const JSON_KEYS: &[&str] = &[
    "email",
    "password",
    "name",
    "image",
    "callbackURL",
    "rememberMe",
    "currentPassword",
    "newPassword",
    "revokeOtherSessions",
    "token",
    "id",
    "software_background",
    "hardware_background",
    "emailVerified",
    "userId",
    "createdAt",
    "__proto__",
    "",
];

/// String values that mean something somewhere.
const JSON_STRINGS: &[&str] = &[
    EMAIL,
    "FUZZ@EXAMPLE.COM",
    "new@example.com",
    "a@b",
    "not-an-email",
    PASSWORD,
    "short",
    "",
    " ",
    "/",
    "//evil.com",
    "http://localhost:3000/x",
    "beginner",
    "intermediate",
    "advanced",
    "wizard",
    "Ada",
    "\u{0}",
    "\u{feff}",
    "true",
    "PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ",
];

/// A JSON leaf.
#[derive(Debug, TypeGenerator)]
enum JsonLeaf {
    Known(u8),
    Text(String),
    Long {
        len: u16,
        ch: char,
    },
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Array(#[generator(Vec::produce().with().len(0usize..4))] Vec<i64>),
    Object(u8, u8),
    /// A session token or JWT of the fuzzed application, when there is one.
    Credential(u8),
    /// An adversarial URL (for `callbackURL`).
    Url(UrlText),
}

/// A JSON document: an object of a few keys, or a bare leaf.
#[derive(Debug, TypeGenerator)]
enum JsonDoc {
    Object(#[generator(Vec::produce().with().len(0usize..7))] Vec<(u8, JsonLeaf)>),
    Leaf(JsonLeaf),
}

impl JsonLeaf {
    fn value(&self, credentials: &[String]) -> Value {
        match self {
            JsonLeaf::Known(i) => json!(pick(JSON_STRINGS, *i)),
            JsonLeaf::Text(s) => json!(s),
            JsonLeaf::Long { len, ch } => json!(ch.to_string().repeat(*len as usize % 20_000)),
            JsonLeaf::Int(n) => json!(n),
            JsonLeaf::Float(f) => json!(f),
            JsonLeaf::Bool(b) => json!(b),
            JsonLeaf::Null => Value::Null,
            JsonLeaf::Array(a) => json!(a),
            JsonLeaf::Object(k, v) => json!({ pick(JSON_KEYS, *k): pick(JSON_STRINGS, *v) }),
            JsonLeaf::Credential(i) => match credentials {
                [] => json!(""),
                c => json!(c[*i as usize % c.len()]),
            },
            JsonLeaf::Url(u) => json!(u.render()),
        }
    }
}

impl JsonDoc {
    fn value(&self, credentials: &[String]) -> Value {
        match self {
            JsonDoc::Object(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (pick(JSON_KEYS, *k).to_owned(), v.value(credentials)))
                    .collect(),
            ),
            JsonDoc::Leaf(l) => l.value(credentials),
        }
    }
}

#[derive(Debug, TypeGenerator)]
struct BodyCase {
    content_type: ContentTypeChoice,
    content_length: ContentLengthChoice,
    body: BodyChoice,
    allow_form: bool,
}

/// What the decoder must answer, as status or value.
fn expected_body(
    headers: &HeaderMap,
    body: &[u8],
    allow_form: bool,
) -> Result<Option<Value>, StatusCode> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) || body.len() > MAX_BODY_BYTES {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    if body.is_empty() {
        return Ok(None);
    }
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match media.as_deref() {
        Some("application/json") => serde_json::from_slice(body)
            .map(Some)
            .map_err(|_| StatusCode::BAD_REQUEST),
        Some("application/x-www-form-urlencoded") if allow_form => Ok(Some(Value::Object(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
        ))),
        _ => Err(StatusCode::UNSUPPORTED_MEDIA_TYPE),
    }
}

/// The body extractors (`JsonBody`, `FormOrJsonBody`) on arbitrary bytes, content types and
/// Content-Length values, deeply nested JSON and bodies at the size limit: a value or a 4xx
/// (400 bad JSON, 413 too large, 415 wrong type), never a panic or a 5xx; a decoded value is
/// exactly the JSON (or form) the body holds, an empty body is "no body".
#[test]
fn fuzz_body_decoders() {
    let rt = runtime();
    let rt = AssertUnwindSafe(rt);
    let outcomes = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    budget(check!().with_type::<BodyCase>(), 5000, 1).for_each(|case| {
        let body = case.body.bytes();
        let mut builder = Request::builder().method(Method::POST).uri("/x");
        let ct = match &case.content_type {
            ContentTypeChoice::Missing => None,
            ContentTypeChoice::Known(i) => Some(pick(CONTENT_TYPES, *i).as_bytes().to_vec()),
            ContentTypeChoice::Bytes(b) => Some(b.clone()),
        };
        if let Some(v) = ct.and_then(|ct| HeaderValue::from_bytes(&ct).ok()) {
            builder = builder.header(header::CONTENT_TYPE, v);
        }
        let cl = match &case.content_length {
            ContentLengthChoice::Missing => None,
            ContentLengthChoice::Exact => Some(body.len().to_string().into_bytes()),
            ContentLengthChoice::Known(i) => Some(pick(CONTENT_LENGTHS, *i).as_bytes().to_vec()),
            ContentLengthChoice::Bytes(b) => Some(b.clone()),
        };
        if let Some(v) = cl.and_then(|cl| HeaderValue::from_bytes(&cl).ok()) {
            builder = builder.header(header::CONTENT_LENGTH, v);
        }
        let req = builder.body(Body::from(body.clone())).unwrap();
        let expected = expected_body(req.headers(), &body, case.allow_form);
        let got: Result<Option<Value>, ApiError> = rt.block_on(async {
            if case.allow_form {
                FormOrJsonBody::from_request(req, &()).await.map(|b| b.0)
            } else {
                JsonBody::from_request(req, &()).await.map(|b| b.0)
            }
        });
        let status = got.as_ref().map_or_else(|e| e.status.as_u16(), |_| 200);
        *outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(status)
            .or_default() += 1;
        match (&got, &expected) {
            (Ok(v), Ok(e)) => assert_eq!(v, e),
            (Err(e), Err(status)) => {
                assert!(e.status.is_client_error(), "{e:?}");
                assert_eq!(e.status, *status, "{e:?}");
            }
            _ => panic!(
                "decoded {got:?}, expected {expected:?} (body of {} bytes)",
                body.len()
            ),
        }
    });
    eprintln!(
        "body decoders (200 = a value): {:?}",
        outcomes.lock().unwrap()
    );
}

/// What a `Fields` check asks for.
#[derive(Debug, TypeGenerator)]
enum FieldAsk {
    String(u8),
    NonEmpty(u8),
    OptString(u8),
    OptBool(u8),
    Push,
}

#[derive(Debug, TypeGenerator)]
struct FieldsCase {
    body: Option<JsonDoc>,
    optional: bool,
    #[generator(Vec::produce().with().len(0usize..8))]
    asks: Vec<FieldAsk>,
}

/// zod's name for a JSON type.
fn zod_type(v: Option<&Value>) -> &'static str {
    match v {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

/// `Fields` on any JSON body: a non-object is a 400 naming its type; each check finds exactly
/// the issues its field has (a missing or mistyped required string, an empty non-empty string, a
/// mistyped optional string or boolean), all reported at once in order as one 400
/// VALIDATION_ERROR naming each field; with no issue the object comes back unchanged.
#[test]
fn fuzz_fields_validation() {
    budget(check!().with_type::<FieldsCase>(), 100_000, 1).for_each(|case| {
        let body = case.body.as_ref().map(|d| d.value(&[]));
        let effective = if case.optional {
            Some(body.clone().unwrap_or_else(|| json!({})))
        } else {
            body.clone()
        };
        let fields = if case.optional {
            Fields::optional_object(body)
        } else {
            Fields::object(body)
        };
        let obj = match (&effective, fields) {
            (Some(Value::Object(obj)), Ok(f)) => (obj.clone(), f),
            (other, Err(e)) if !matches!(other, Some(Value::Object(_))) => {
                assert_eq!(e.status, StatusCode::BAD_REQUEST);
                assert_eq!(e.code, Some("VALIDATION_ERROR"));
                assert_eq!(
                    e.message,
                    format!(
                        "[body] Invalid input: expected object, received {}",
                        zod_type(other.as_ref())
                    )
                );
                return;
            }
            (other, got) => panic!("Fields of {other:?} gave {:?}", got.err()),
        };
        let (obj, mut fields) = obj;
        let mut expected_keys: Vec<String> = Vec::new();
        for ask in &case.asks {
            match ask {
                FieldAsk::String(k) => {
                    let k = pick(JSON_KEYS, *k);
                    let got = fields.string(k);
                    match obj.get(k) {
                        Some(Value::String(s)) => assert_eq!(&got, s),
                        _ => expected_keys.push(format!("[body.{k}]")),
                    }
                }
                FieldAsk::NonEmpty(k) => {
                    let k = pick(JSON_KEYS, *k);
                    let got = fields.non_empty(k);
                    match obj.get(k) {
                        Some(Value::String(s)) if s.is_empty() => {
                            expected_keys.push(format!("[body.{k}]"))
                        }
                        Some(Value::String(s)) => assert_eq!(&got, s),
                        _ => expected_keys.push(format!("[body.{k}]")),
                    }
                }
                FieldAsk::OptString(k) => {
                    let k = pick(JSON_KEYS, *k);
                    let got = fields.opt_string(k);
                    match obj.get(k) {
                        None => assert_eq!(got, None),
                        Some(Value::String(s)) => assert_eq!(got.as_ref(), Some(s)),
                        Some(_) => {
                            assert_eq!(got, None);
                            expected_keys.push(format!("[body.{k}]"))
                        }
                    }
                }
                FieldAsk::OptBool(k) => {
                    let k = pick(JSON_KEYS, *k);
                    let got = fields.opt_bool(k);
                    match obj.get(k) {
                        None => assert_eq!(got, None),
                        Some(Value::Bool(b)) => assert_eq!(got, Some(*b)),
                        Some(_) => {
                            assert_eq!(got, None);
                            expected_keys.push(format!("[body.{k}]"))
                        }
                    }
                }
                FieldAsk::Push => {
                    fields.push("[body.other] Something else".into());
                    expected_keys.push("[body.other]".into());
                }
            }
        }
        match fields.finish() {
            Ok(map) => {
                assert!(expected_keys.is_empty(), "issues missed: {expected_keys:?}");
                assert_eq!(map, obj);
            }
            Err(e) => {
                assert_eq!(e.status, StatusCode::BAD_REQUEST);
                assert_eq!(e.code, Some("VALIDATION_ERROR"));
                let parts: Vec<&str> = e.message.split("; ").collect();
                assert_eq!(parts.len(), expected_keys.len(), "{}", e.message);
                for (part, key) in parts.iter().zip(&expected_keys) {
                    assert!(part.starts_with(key.as_str()), "{part:?} should name {key}");
                }
            }
        }
    });
}

// =================================================================================================
// 5. The whole router
// =================================================================================================

/// Every route with its own method, and a few paths that are no route.
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/auth/sign-up/email"),
    ("POST", "/api/auth/sign-in/email"),
    ("POST", "/api/auth/sign-out"),
    ("GET", "/api/auth/get-session"),
    ("POST", "/api/auth/get-session"),
    ("GET", "/api/auth/list-sessions"),
    ("POST", "/api/auth/revoke-session"),
    ("POST", "/api/auth/revoke-sessions"),
    ("POST", "/api/auth/revoke-other-sessions"),
    ("POST", "/api/auth/update-user"),
    ("POST", "/api/auth/change-password"),
    ("GET", "/api/auth/token"),
    ("GET", "/api/auth/jwks"),
    ("GET", "/api/auth/ok"),
    ("GET", "/api/auth/error"),
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/me"),
    ("PUT", "/auth/profile"),
    ("GET", "/auth/profile-schema"),
    ("GET", "/internal/user"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.json"),
    ("GET", "/"),
    ("GET", "/sign-in"),
    ("GET", "/sign-up"),
    ("GET", "/profile"),
    ("GET", "/assets/icon.svg"),
    ("GET", "/api/auth/user"),
    ("POST", "/api"),
    ("GET", "/api/auth"),
];

const PATH_LITERALS: &[&str] = &[
    "/", "//", "/..", "/.", "%2f", "%2e%2e", "%00", "%ff", "%", "%zz", "..", ";", ",", "~", "*",
    "/email", "/x", "%20", "+", "@", ":", "!", "$", "'", "(",
];

const QUERY_KEYS: &[&str] = &[
    "callbackURL",
    "error",
    "id",
    "email",
    "token",
    "disableCookieCache",
    "disableRefresh",
    "redirectTo",
    "x",
    "",
];

#[derive(Debug, TypeGenerator)]
enum PathPiece {
    Lit(u8),
    Text(String),
    Ascii(#[generator(Vec::produce().with().len(0usize..8))] Vec<u8>),
}

#[derive(Debug, TypeGenerator)]
struct PathSpec {
    route: u8,
    /// The suffix is added one time in four: most requests go to a route.
    odd: u8,
    #[generator(Vec::produce().with().len(1usize..3))]
    suffix: Vec<PathPiece>,
    #[generator(Vec::produce().with().len(0usize..3))]
    query: Vec<(u8, QueryValue)>,
}

#[derive(Debug, TypeGenerator)]
enum QueryValue {
    Url(UrlText),
    Known(u8),
    Text(String),
}

impl PathSpec {
    fn render(&self) -> String {
        let mut p = pick(ROUTES, self.route).1.to_owned();
        let suffix = if self.odd.is_multiple_of(4) {
            &self.suffix[..]
        } else {
            &[]
        };
        for s in suffix {
            match s {
                PathPiece::Lit(i) => p.push_str(pick(PATH_LITERALS, *i)),
                PathPiece::Text(t) => {
                    p.push_str(&utf8_percent_encode(t, NON_ALPHANUMERIC).to_string())
                }
                PathPiece::Ascii(b) => p.extend(b.iter().map(|b| (b % 128) as char)),
            }
        }
        if !self.query.is_empty() && self.odd.is_multiple_of(3) {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &self.query {
                let v = match v {
                    QueryValue::Url(u) => u.render(),
                    QueryValue::Known(i) => pick(JSON_STRINGS, *i).to_owned(),
                    QueryValue::Text(t) => t.clone(),
                };
                q.append_pair(pick(QUERY_KEYS, *k), &v);
            }
            p.push('?');
            p.push_str(&q.finish());
        }
        if p.is_empty() {
            p.push('/');
        }
        p
    }
}

/// Credentials the fuzzed application knows: a live session token and a JWT for it.
struct Credentials {
    token: String,
    jwt: String,
}

#[derive(Debug, TypeGenerator)]
enum CredentialChoice {
    /// The live session, signed as the cookie holds it.
    SignedSession,
    /// The raw session token.
    RawSession,
    /// The JWT of the live session.
    Jwt,
    /// The session token signed, then one byte changed.
    Tampered(u8, u8),
    Line(HeaderLine),
}

#[derive(Debug, TypeGenerator)]
enum HeaderChoice {
    Cookie(CredentialChoice, bool),
    Authorization(u8, CredentialChoice),
    Origin(HeaderText),
    Referer(HeaderText),
    ContentType(ContentTypeChoice),
    ContentLength(ContentLengthChoice),
    InternalSecret(bool),
    ForwardedFor(String),
    UserAgent(u16),
    SecFetch(u8, u8),
    Accept(u8),
    Raw(
        #[generator(Vec::produce().with().len(1usize..12))] Vec<u8>,
        #[generator(Vec::produce().with().len(0usize..24))] Vec<u8>,
    ),
}

#[derive(Debug, TypeGenerator)]
enum RouterBody {
    Body(BodyChoice),
    Json(JsonDoc),
    /// A well-formed sign-up or sign-in for the fixture user or a new one.
    Account {
        sign_up: bool,
        new_email: Option<u16>,
        password: u8,
    },
}

#[derive(Debug, TypeGenerator)]
struct RouterInput {
    /// The route's own method seven times in eight, else one of [`ROUTER_METHODS`].
    method: (u8, u8),
    path: PathSpec,
    #[generator(Vec::produce().with().len(0usize..7))]
    headers: Vec<HeaderChoice>,
    body: RouterBody,
    trusted_origin: bool,
    client: u8,
}

const ROUTER_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO",
];

impl CredentialChoice {
    fn render(&self, creds: &Credentials) -> Vec<u8> {
        let secret = Secret::new(SECRET);
        match self {
            CredentialChoice::SignedSession => {
                utf8_percent_encode(&secret.signed_value(&creds.token), NON_ALPHANUMERIC)
                    .to_string()
                    .into_bytes()
            }
            CredentialChoice::RawSession => creds.token.clone().into_bytes(),
            CredentialChoice::Jwt => creds.jwt.clone().into_bytes(),
            CredentialChoice::Tampered(i, x) => {
                let mut v = secret.signed_value(&creds.token).into_bytes();
                let i = *i as usize % v.len();
                v[i] ^= (*x).max(1);
                v
            }
            CredentialChoice::Line(l) => l.render(),
        }
    }
}

fn build_request(input: &RouterInput, creds: &Credentials) -> Option<Request<Body>> {
    let method = if input.method.0.is_multiple_of(8) {
        pick(ROUTER_METHODS, input.method.1)
    } else {
        pick(ROUTES, input.path.route).0
    };
    let method = Method::from_bytes(method.as_bytes()).ok()?;
    let mut builder = Request::builder().method(method).uri(input.path.render());
    if input.trusted_origin {
        builder = builder.header(header::ORIGIN, "http://localhost:3000");
    }
    let mut explicit_type = false;
    for h in &input.headers {
        let (name, value): (HeaderName, Vec<u8>) = match h {
            HeaderChoice::Cookie(c, dont_remember) => {
                let mut v = b"better-auth.session_token=".to_vec();
                v.extend(c.render(creds));
                if *dont_remember {
                    v.extend_from_slice(b"; better-auth.dont_remember=");
                    v.extend_from_slice(
                        utf8_percent_encode(
                            &Secret::new(SECRET).signed_value("true"),
                            NON_ALPHANUMERIC,
                        )
                        .to_string()
                        .as_bytes(),
                    );
                }
                (header::COOKIE, v)
            }
            HeaderChoice::Authorization(s, c) => {
                let mut v = pick(SCHEMES, *s).as_bytes().to_vec();
                v.extend(c.render(creds));
                (header::AUTHORIZATION, v)
            }
            HeaderChoice::Origin(t) => (header::ORIGIN, t.bytes()),
            HeaderChoice::Referer(t) => (header::REFERER, t.bytes()),
            HeaderChoice::ContentType(c) => {
                explicit_type = true;
                let v = match c {
                    ContentTypeChoice::Missing => continue,
                    ContentTypeChoice::Known(i) => pick(CONTENT_TYPES, *i).as_bytes().to_vec(),
                    ContentTypeChoice::Bytes(b) => b.clone(),
                };
                (header::CONTENT_TYPE, v)
            }
            HeaderChoice::ContentLength(c) => {
                let v = match c {
                    ContentLengthChoice::Missing | ContentLengthChoice::Exact => continue,
                    ContentLengthChoice::Known(i) => pick(CONTENT_LENGTHS, *i).as_bytes().to_vec(),
                    ContentLengthChoice::Bytes(b) => b.clone(),
                };
                (header::CONTENT_LENGTH, v)
            }
            HeaderChoice::InternalSecret(right) => (
                HeaderName::from_static("x-internal-secret"),
                if *right {
                    INTERNAL_SECRET.as_bytes().to_vec()
                } else {
                    b"wrong".to_vec()
                },
            ),
            HeaderChoice::ForwardedFor(s) => (
                HeaderName::from_static("x-forwarded-for"),
                s.clone().into_bytes(),
            ),
            HeaderChoice::UserAgent(n) => (header::USER_AGENT, vec![b'u'; *n as usize % 4096]),
            HeaderChoice::SecFetch(s, m) => {
                builder = builder.header("sec-fetch-mode", pick(FETCH_MODES, *m));
                (
                    HeaderName::from_static("sec-fetch-site"),
                    pick(FETCH_SITES, *s).as_bytes().to_vec(),
                )
            }
            HeaderChoice::Accept(i) => (
                header::ACCEPT,
                pick(
                    &[
                        "text/html",
                        "application/json",
                        "*/*",
                        "text/html;q=0.1",
                        "",
                    ],
                    *i,
                )
                .as_bytes()
                .to_vec(),
            ),
            HeaderChoice::Raw(n, v) => match HeaderName::from_bytes(n) {
                Ok(n) => (n, v.clone()),
                Err(_) => continue,
            },
        };
        if let Ok(v) = HeaderValue::from_bytes(&value) {
            builder = builder.header(name, v);
        }
    }
    let body = match &input.body {
        RouterBody::Body(b) => b.bytes(),
        RouterBody::Json(doc) => {
            serde_json::to_vec(&doc.value(&[creds.token.clone(), creds.jwt.clone()])).unwrap()
        }
        RouterBody::Account {
            sign_up,
            new_email,
            password,
        } => {
            let email = match new_email {
                Some(n) => format!("fuzz-{n}@example.com"),
                None => EMAIL.to_owned(),
            };
            let password = pick(&[PASSWORD, "short", "another-long-password"], *password);
            let mut b = json!({"email": email, "password": password});
            if *sign_up {
                b["name"] = json!("Fuzz");
            }
            serde_json::to_vec(&b).unwrap()
        }
    };
    if !explicit_type && !body.is_empty() {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    let mut req = builder.body(Body::from(body)).ok()?;
    let addr = SocketAddr::from(([127, 0, 0, input.client % 4 + 1], 40000));
    req.extensions_mut().insert(ConnectInfo(addr));
    Some(req)
}

/// A JSON POST through the router, as a trusted browser page sends it.
fn post_json(path: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "http://localhost:3000")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

/// Whether the fuzzed application may send a browser there: a path that a browser resolves on
/// its own origin, or its base URL's or its one trusted origin (the default
/// `http://localhost:3000`).
fn app_may_redirect_to(location: &str) -> bool {
    let base = url::Url::parse(BASE_URL).unwrap();
    let Ok(target) = base.join(location) else {
        return false;
    };
    let origin = target.origin().ascii_serialization();
    origin == BASE_URL || origin == "http://localhost:3000"
}

/// The `data-next` attributes of an HTML page (where its script sends the browser after signing
/// in), with askama's escapes undone.
fn next_targets(html: &str) -> Vec<String> {
    html.split("data-next=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"'))
        .map(|(value, _)| {
            value
                .replace("&quot;", "\"")
                .replace("&#x27;", "'")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

/// The whole application on arbitrary requests (paths under every route with odd suffixes and
/// queries, every method, cookies and bearer tokens valid, tampered or junk, origins, content
/// types and lengths, JSON and other bodies, adversarial callbackURLs, well-formed sign-ups and
/// sign-ins): every answer is below 500 (a handler's panic would be a 500 too), every JSON error
/// has a message, and no redirect, nor any page's "after signing in" link, leads off the trusted
/// origins.
#[test]
fn fuzz_router_answers_without_server_errors() {
    let app = app();
    // A user with a live session and a JWT, so that authenticated handlers are reached.
    let signed_up = app.send(post_json(
        "/api/auth/sign-up/email",
        json!({"email": EMAIL, "password": PASSWORD, "name": "Fuzz"}),
    ));
    assert_eq!(signed_up.status, StatusCode::OK);
    let signed = signed_up
        .headers
        .get("set-auth-token")
        .and_then(|v| v.to_str().ok())
        .expect("set-auth-token")
        .to_owned();
    let token = signed.split('.').next().unwrap().to_owned();
    let jwt_answer = app.send(
        Request::builder()
            .uri("/api/auth/token")
            .header(header::AUTHORIZATION, format!("Bearer {signed}"))
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(jwt_answer.status, StatusCode::OK);
    let jwt = serde_json::from_slice::<Value>(&jwt_answer.body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let creds = Credentials { token, jwt };

    let app = AssertUnwindSafe(app);
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    budget(check!().with_type::<RouterInput>(), 1500, 10).for_each(|input| {
        let Some(req) = build_request(input, &creds) else {
            return;
        };
        let what = format!("{} {}", req.method(), req.uri());
        let answer = app.send(req);
        *statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(answer.status.as_u16())
            .or_default() += 1;
        assert!(
            answer.status.as_u16() < 500,
            "{what} answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
        let json = answer
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if let Ok(html) = std::str::from_utf8(&answer.body) {
            for next in next_targets(html) {
                assert!(
                    next == "reload" || app_may_redirect_to(&next),
                    "{what} sends the browser on to {next:?}"
                );
            }
        }
        if let Some(location) = answer.headers.get(header::LOCATION) {
            let location = location.to_str().expect("an ASCII Location");
            assert!(
                app_may_redirect_to(location),
                "{what} redirects to {location:?}"
            );
        }
        if answer.status.is_client_error() && json && what.split(' ').next() != Some("HEAD") {
            let body: Value = serde_json::from_slice(&answer.body)
                .unwrap_or_else(|e| panic!("{what}: a JSON error that is not JSON ({e})"));
            assert!(body["message"].is_string(), "{what}: {body}");
        }
    });
    // What the run reached (shown with --nocapture).
    eprintln!("router statuses: {:?}", statuses.lock().unwrap());
}

#[derive(Debug, TypeGenerator)]
struct PageVisit {
    sign_up: bool,
    callback: UrlText,
    signed_in: bool,
}

/// The sign-in and sign-up pages with adversarial `callbackURL`s, signed in or not: an answer
/// below 500, and the page's "after signing in" target always a path on this site or a URL on a
/// trusted origin, as the browser will resolve it.
#[test]
fn fuzz_pages_keep_callbacks_on_trusted_origins() {
    let app = app();
    let signed_up = app.send(post_json(
        "/api/auth/sign-up/email",
        json!({"email": EMAIL, "password": PASSWORD, "name": "Fuzz"}),
    ));
    let cookie = signed_up
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    // The page carries a trusted callback through, and the check sees it.
    let page = app.send(
        Request::builder()
            .uri("/sign-in?callbackURL=http%3A%2F%2Flocalhost%3A3000%2Fdocs")
            .body(Body::empty())
            .unwrap(),
    );
    let html = String::from_utf8(page.body).unwrap();
    assert_eq!(next_targets(&html), ["http://localhost:3000/docs"]);

    let app = AssertUnwindSafe(app);
    let carried = AtomicUsize::new(0);
    budget(check!().with_type::<PageVisit>(), 8000, 10).for_each(|visit| {
        let callback = visit.callback.render();
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("callbackURL", &callback)
            .finish();
        let path = if visit.sign_up {
            "/sign-up"
        } else {
            "/sign-in"
        };
        let mut req = Request::builder().uri(format!("{path}?{query}"));
        if visit.signed_in {
            req = req.header(header::COOKIE, cookie.as_str());
        }
        let answer = app.send(req.body(Body::empty()).unwrap());
        assert!(
            answer.status.as_u16() < 500,
            "{path} with {callback:?}: {}",
            answer.status
        );
        let html = String::from_utf8_lossy(&answer.body);
        for next in next_targets(&html) {
            if next != "/profile" {
                carried.fetch_add(1, Ordering::Relaxed);
            }
            assert!(
                next == "reload" || app_may_redirect_to(&next),
                "{path} with {callback:?} sends the browser on to {next:?}"
            );
        }
    });
    eprintln!("pages: {} callbacks carried", carried.into_inner());
}

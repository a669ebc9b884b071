//! Regression tests for the classes of vulnerability that have hit Better Auth and libraries like
//! it, one test (or more) per class. Classes covered elsewhere are named here with their tests:
//! - path tricks that would skip the limiter or the origin check:
//!   `limits::path_tricks_neither_skip_the_limiter_nor_the_origin_check`;
//! - a session or JWT honoured past revocation: `revocation::*`,
//!   `rest::a_jwt_stops_working_as_soon_as_its_session_ends`;
//! - alg=none, HS256 keyed with the public key, tampered claims: `rest::forged_and_tampered_jwts_are_refused`;
//! - slowloris and slow bodies: `limits::slow_or_silent_connections_are_closed_after_the_header_timeout`,
//!   `limits::a_slow_body_gets_408_at_the_request_timeout`;
//! - malformed bodies of every kind on every endpoint: `malformed_input::*`.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

/// Open redirect through `callbackURL`: every spelling that a browser would resolve to another
/// site is refused, with no `Location` header, on sign-in and sign-up.
#[tokio::test]
async fn open_redirects_through_callback_url_are_refused() {
    let app = spawn_app().await;
    app.new_browser().signed_up("ada@example.com").await;
    let attempts = [
        "//evil.com",
        "//evil.com/path",
        "/\\evil.com",
        "\\\\evil.com",
        "/\\/evil.com",
        "https:evil.com",
        "https:/evil.com",
        "http:\\\\evil.com",
        "http://localhost:3000@evil.com",
        "http://localhost:3000@evil.com/",
        "http://localhost:3000.evil.com/",
        "http://evil.com#http://localhost:3000",
        "http://evil.com?http://localhost:3000",
        "HTTP://EVIL.COM",
        "hTtPs://evil.com",
        "/%2F%2Fevil.com",
        "/%2f%2fevil.com",
        "%2F%2Fevil.com",
        "/%5Cevil.com",
        "/%5cevil.com",
        "/%09/evil.com",
        "/\t/evil.com",
        " //evil.com",
        "//\u{3000}evil.com",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://[::ffff:7f00:1]@evil.com",
    ];
    for callback in attempts {
        let res = app
            .new_browser()
            .sign_in(
                "ada@example.com",
                PASSWORD,
                json!({"callbackURL": callback}),
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "sign-in {callback:?}: {}",
            res.text()
        );
        assert_eq!(res.json()["code"], "INVALID_CALLBACK_URL", "{callback:?}");
        assert!(res.header("location").is_none(), "{callback:?}");

        let res = app
            .new_browser()
            .sign_up("x@example.com", PASSWORD, json!({"callbackURL": callback}))
            .await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "sign-up {callback:?}: {}",
            res.text()
        );
    }
    assert_eq!(
        app.count("select count(*) from user").await,
        1,
        "no sign-up went through"
    );
    // What is allowed: a trusted origin, a safe relative path.
    for callback in ["http://localhost:3000/docs", "/docs/intro?x=1"] {
        let res = app
            .new_browser()
            .sign_in(
                "ada@example.com",
                PASSWORD,
                json!({"callbackURL": callback}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{callback}");
        assert_eq!(res.header("location").as_deref(), Some(callback));
    }
}

/// A wildcard trusted origin (`https://*.docs.example`) trusts its subdomains over https and
/// nothing that merely contains or resembles it.
#[tokio::test]
async fn trusted_origin_wildcards_cannot_be_bypassed() {
    let app = spawn_app_with(|_, env| {
        env.insert(
            "HALLPASS_TRUSTED_ORIGINS".into(),
            format!("{FRONTEND},https://*.docs.example"),
        );
    })
    .await;
    app.signed_up("ada@example.com").await;
    let cookie = app.cookie_header().unwrap_or_default();
    let update = |origin: &str| {
        app.raw()
            .post(app.url("/update-user"))
            .header("cookie", cookie.clone())
            .header("origin", origin)
            .json(&json!({"name": "Mallory"}))
    };
    for origin in [
        "https://docs.example.evil.com",
        "https://a.docs.example.evil.com",
        "https://evildocs.example",
        "https://a-docs.example",
        "http://a.docs.example",
        "https://a.docs.example@evil.com",
        "https://evil.com/.docs.example",
        "https://evil.com?.docs.example",
        "null",
        "https://*.docs.example",
    ] {
        let res = app.send(update(origin)).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{origin}: {}",
            res.text()
        );
    }
    assert_eq!(
        app.user_row("ada@example.com").await.unwrap()["name"],
        "Ada Lovelace"
    );
    let res = app.send(update("https://a.docs.example")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

/// Session fixation: every sign-in makes a new token, and a session planted in the browser before
/// the sign-in is neither adopted nor upgraded to the victim's account.
#[tokio::test]
async fn sign_in_never_reuses_a_planted_or_earlier_session() {
    let app = spawn_app().await;
    app.new_browser().signed_up("victim@example.com").await;
    let attacker = app.new_browser();
    let planted = attacker.signed_up("attacker@example.com").await["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let victim = app.new_browser();
    victim.set_cookie(SESSION_COOKIE, &signed_cookie_value(&planted));
    let first = victim
        .sign_in("victim@example.com", PASSWORD, json!({}))
        .await;
    let second = victim
        .sign_in("victim@example.com", PASSWORD, json!({}))
        .await;

    let (t1, t2) = (
        first.json()["token"].clone(),
        second.json()["token"].clone(),
    );
    assert_ne!(t1, json!(planted));
    assert_ne!(t1, t2, "each sign-in makes a new session");
    // The planted session still belongs to the attacker, not to the victim.
    assert_eq!(
        attacker.session().await["user"]["email"],
        "attacker@example.com"
    );
    assert_eq!(
        victim.session().await["user"]["email"],
        "victim@example.com"
    );
}

/// CSRF through forms and simple content types: a cross-site form post cannot sign in, and a
/// cookie-carrying write in a "simple" content type (no preflight) is refused.
#[tokio::test]
async fn csrf_through_forms_and_simple_content_types_is_refused() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let cookie = app.cookie_header().unwrap_or_default();

    // Login CSRF: a form on another site posting to sign-in.
    let form = app
        .send(
            app.raw()
                .post(app.url("/sign-in/email"))
                .header("origin", EVIL)
                .header("sec-fetch-site", "cross-site")
                .header("sec-fetch-mode", "navigate")
                .form(&[("email", "ada@example.com"), ("password", PASSWORD)]),
        )
        .await;
    assert_eq!(form.status, StatusCode::FORBIDDEN, "{}", form.text());
    let form = app
        .send(
            app.raw()
                .post(app.url("/sign-in/email"))
                .header("origin", EVIL)
                .form(&[("email", "ada@example.com"), ("password", PASSWORD)]),
        )
        .await;
    form.assert_error(StatusCode::FORBIDDEN, "INVALID_ORIGIN");

    // Simple content types carrying JSON, with the victim's cookie, from another site or none.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        for origin in [Some(EVIL), None] {
            let mut req = app
                .raw()
                .post(app.url("/update-user"))
                .header("cookie", cookie.clone())
                .header("content-type", content_type)
                .body(r#"{"name":"Mallory"}"#);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            let res = app.send(req).await;
            assert!(
                res.status == StatusCode::FORBIDDEN
                    || res.status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{content_type} from {origin:?}: {} {}",
                res.status,
                res.text()
            );
        }
    }
    assert_eq!(
        app.user_row("ada@example.com").await.unwrap()["name"],
        "Ada Lovelace"
    );
}

/// Oversized and deeply nested JSON is refused with a 4xx in the error shape; the server lives on.
#[tokio::test]
async fn oversized_and_deeply_nested_json_is_refused_cleanly() {
    let app = spawn_app().await;
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!(
        r#"{{"email":"a@example.com","password":"x","name":{}1{}}}"#,
        r#"{"a":"#.repeat(50_000),
        "}".repeat(50_000)
    );
    let huge = format!(
        r#"{{"email":"a@example.com","password":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    for (what, body) in [
        ("deep array", deep_array),
        ("deep object", deep_object),
        ("2 MiB", huge),
    ] {
        for path in ["/sign-in/email", "/sign-up/email", "/update-user"] {
            let res = app
                .send(
                    app.raw()
                        .post(app.url(path))
                        .header("origin", FRONTEND)
                        .header("content-type", "application/json")
                        .body(body.clone()),
                )
                .await;
            assert!(
                res.status.is_client_error(),
                "{what} to {path}: {}",
                res.status
            );
            assert_error_shape(&res.json());
        }
    }
    assert_eq!(app.get("/ok").await.status, StatusCode::OK);
    assert_eq!(app.count("select count(*) from user").await, 0);
}

/// Header injection: user-controlled values never put a CR or LF into `Location` or `Set-Cookie`
/// (callbackURL is echoed in `Location`; the name and profile go into no header at all).
#[tokio::test]
async fn user_values_cannot_inject_headers() {
    let app = spawn_app().await;
    app.new_browser().signed_up("ada@example.com").await;
    for callback in [
        "/docs\r\nSet-Cookie: injected=1",
        "/docs\nSet-Cookie: injected=1",
        "/docs%0d%0aSet-Cookie:%20injected=1",
        "http://localhost:3000/%0d%0aSet-Cookie:%20injected=1",
        "http://localhost:3000/\r\nLocation: http://evil.com",
    ] {
        let res = app
            .new_browser()
            .sign_in(
                "ada@example.com",
                PASSWORD,
                json!({"callbackURL": callback}),
            )
            .await;
        assert!(
            res.status == StatusCode::OK || res.status == StatusCode::FORBIDDEN,
            "{callback:?}: {}",
            res.status
        );
        assert!(res.set_cookie("injected").is_none(), "{callback:?}");
        assert!(
            res.header("location")
                .is_none_or(|l| !l.contains('\r') && !l.contains('\n') && !l.contains("evil.com")),
            "{callback:?}"
        );
        for c in res.set_cookies() {
            assert!(!c.raw.contains("injected"), "{callback:?}: {}", c.raw);
        }
    }
    // A name full of header syntax is stored as text and appears in no header.
    let browser = app.new_browser();
    browser
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;
    let res = browser
        .post_json(
            "/update-user",
            &json!({"name": "Ada\r\nSet-Cookie: injected=1"}),
        )
        .await;
    assert!(res.status.is_client_error() || res.status == StatusCode::OK);
    let res = browser.get("/get-session").await;
    assert!(res.set_cookie("injected").is_none());
}

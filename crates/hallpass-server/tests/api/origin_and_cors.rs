//! CSRF and origin checks (reference, 8.2) and CORS for trusted origins (hallpass's own addition:
//! Better Auth leaves CORS to the host framework).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

/// A signed-up app whose default browser holds a session; returns its session cookie header.
async fn signed_in_app() -> (TestApp, String) {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let cookie = app.cookie_header().expect("a session cookie");
    (app, cookie)
}

#[tokio::test]
async fn a_cookie_request_from_an_untrusted_origin_is_refused() {
    // Arrange
    let (app, cookie) = signed_in_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/update-user"))
                .header("cookie", cookie)
                .header("origin", EVIL)
                .json(&json!({"name": "Mallory"})),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::FORBIDDEN, "INVALID_ORIGIN");
    assert_eq!(message, "Invalid origin");
    let row = app.user_row("ada@example.com").await.expect("a user");
    assert_eq!(row["name"], "Ada Lovelace");
}

#[tokio::test]
async fn a_cookie_request_with_an_untrusted_referer_and_no_origin_is_refused() {
    // Arrange
    let (app, cookie) = signed_in_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-out"))
                .header("cookie", cookie)
                .header("referer", "http://evil.example/page")
                .json(&json!({})),
        )
        .await;

    // Assert
    response.assert_error(StatusCode::FORBIDDEN, "INVALID_ORIGIN");
    assert_eq!(app.count("select count(*) from session").await, 1);
}

#[tokio::test]
async fn a_cookie_request_without_an_origin_is_refused() {
    // Arrange
    let (app, cookie) = signed_in_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-out"))
                .header("cookie", cookie)
                .json(&json!({})),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::FORBIDDEN, "MISSING_OR_NULL_ORIGIN");
    assert_eq!(message, "Missing or null Origin");
    assert_eq!(app.count("select count(*) from session").await, 1);
}

#[tokio::test]
async fn a_cookie_request_with_a_null_origin_is_refused() {
    // Arrange
    let (app, cookie) = signed_in_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/revoke-sessions"))
                .header("cookie", cookie)
                .header("origin", "null")
                .json(&json!({})),
        )
        .await;

    // Assert
    response.assert_error(StatusCode::FORBIDDEN, "MISSING_OR_NULL_ORIGIN");
    assert_eq!(app.count("select count(*) from session").await, 1);
}

#[tokio::test]
async fn a_cookie_request_from_the_base_url_origin_passes() {
    // Arrange
    let (app, cookie) = signed_in_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/update-user"))
                .header("cookie", cookie)
                .header("origin", &app.base_url)
                .json(&json!({"name": "Ada"})),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
}

#[tokio::test]
async fn a_get_with_cookies_needs_no_origin() {
    // Arrange
    let (app, cookie) = signed_in_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .get(app.url("/get-session"))
                .header("cookie", cookie)
                .header("origin", EVIL),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.json()["session"].is_object());
}

#[tokio::test]
async fn sign_in_from_an_untrusted_origin_without_cookies_is_refused() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-in/email"))
                .header("origin", EVIL)
                .json(&json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await;

    // Assert
    response.assert_error(StatusCode::FORBIDDEN, "INVALID_ORIGIN");
    assert!(response.set_cookie(SESSION_COOKIE).is_none());
    assert_eq!(app.count("select count(*) from session").await, 1);
}

#[tokio::test]
async fn sign_up_from_an_untrusted_origin_without_cookies_is_refused() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-up/email"))
                .header("origin", EVIL)
                .json(&json!({"name": "M", "email": "m@example.com", "password": PASSWORD})),
        )
        .await;

    // Assert
    response.assert_error(StatusCode::FORBIDDEN, "INVALID_ORIGIN");
    assert_eq!(app.count("select count(*) from \"user\"").await, 0);
}

#[tokio::test]
async fn a_cross_site_navigation_to_sign_in_is_blocked() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-in/email"))
                .header("sec-fetch-site", "cross-site")
                .header("sec-fetch-mode", "navigate")
                .header("sec-fetch-dest", "document")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("email=ada%40example.com&password={PASSWORD}")),
        )
        .await;

    // Assert
    let message =
        response.assert_error(StatusCode::FORBIDDEN, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED");
    assert_eq!(
        message,
        "Cross-site navigation login blocked. This request appears to be a CSRF attack."
    );
    assert_eq!(app.count("select count(*) from session").await, 1);
}

#[tokio::test]
async fn sign_in_with_fetch_metadata_but_no_origin_is_refused() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-in/email"))
                .header("sec-fetch-site", "same-site")
                .header("sec-fetch-mode", "cors")
                .json(&json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await;

    // Assert
    response.assert_error(StatusCode::FORBIDDEN, "MISSING_OR_NULL_ORIGIN");
}

#[tokio::test]
async fn a_server_to_server_sign_in_without_origin_or_cookies_passes() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-in/email"))
                .json(&json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
}

#[tokio::test]
async fn a_bearer_post_without_an_origin_passes() {
    // Arrange
    let app = spawn_app().await;
    let token = app.signed_up("ada@example.com").await["token"]
        .as_str()
        .expect("a token")
        .to_owned();

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/update-user"))
                .bearer_auth(signed(&token))
                .json(&json!({"name": "Bearer Ada"})),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"status": true}));
    let row = app.user_row("ada@example.com").await.expect("a user");
    assert_eq!(row["name"], "Bearer Ada");
}

#[tokio::test]
async fn a_preflight_from_the_trusted_front_end_is_allowed_with_credentials() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .request(reqwest::Method::OPTIONS, app.url("/sign-in/email"))
                .header("origin", FRONTEND)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type"),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    assert_eq!(
        response.header("access-control-allow-origin").as_deref(),
        Some(FRONTEND)
    );
    assert_eq!(
        response
            .header("access-control-allow-credentials")
            .as_deref(),
        Some("true")
    );
    let methods = response
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let headers = response
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(headers.contains("content-type"), "{headers}");
}

#[tokio::test]
async fn a_preflight_from_an_untrusted_origin_is_refused_without_cors_headers() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .request(reqwest::Method::OPTIONS, app.url("/sign-in/email"))
                .header("origin", EVIL)
                .header("access-control-request-method", "POST"),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.header("access-control-allow-origin").is_none());
    assert!(response
        .header("access-control-allow-credentials")
        .is_none());
}

#[tokio::test]
async fn a_trusted_cross_origin_answer_carries_cors_headers() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;

    // Assert
    assert_eq!(
        response.header("access-control-allow-origin").as_deref(),
        Some(FRONTEND)
    );
    assert_eq!(
        response
            .header("access-control-allow-credentials")
            .as_deref(),
        Some("true")
    );
    let vary = response.header("vary").unwrap_or_default();
    assert!(vary.to_ascii_lowercase().contains("origin"), "{vary}");
}

#[tokio::test]
async fn an_untrusted_origin_gets_no_cors_headers_on_a_get() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .send(app.raw().get(app.url("/ok")).header("origin", EVIL))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn hallpass_trusted_origins_replaces_the_default_front_end() {
    // Arrange
    let docs = "https://docs.example.com";
    let app = spawn_app_with(|_, env| {
        env.insert("HALLPASS_TRUSTED_ORIGINS".into(), docs.into());
    })
    .await;
    let signed_up = app
        .send(
            app.raw()
                .post(app.url("/sign-up/email"))
                .json(&json!({"name": "Ada", "email": "ada@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(signed_up.status, StatusCode::OK, "{}", signed_up.text());
    let sign_in = |origin: &str| {
        app.raw()
            .post(app.url("/sign-in/email"))
            .header("origin", origin)
            .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
    };

    // Act
    let from_docs = app.send(sign_in(docs)).await;
    let from_old_default = app.send(sign_in(FRONTEND)).await;
    let preflight = app
        .send(
            app.raw()
                .request(reqwest::Method::OPTIONS, app.url("/get-session"))
                .header("origin", docs)
                .header("access-control-request-method", "GET"),
        )
        .await;

    // Assert
    assert_eq!(from_docs.status, StatusCode::OK, "{}", from_docs.text());
    assert_eq!(
        from_docs.header("access-control-allow-origin").as_deref(),
        Some(docs)
    );
    from_old_default.assert_error(StatusCode::FORBIDDEN, "INVALID_ORIGIN");
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(
        preflight.header("access-control-allow-origin").as_deref(),
        Some(docs)
    );
}

/// The REST aliases get the login-CSRF checks of the routes they mirror: a page on another site
/// cannot sign a visitor in or up through `/auth/login` or `/auth/register` either.
#[tokio::test]
async fn rest_login_and_register_from_an_untrusted_origin_are_refused() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    for (path, body) in [
        (
            "/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        ),
        (
            "/auth/register",
            json!({"name": "M", "email": "m@example.com", "password": PASSWORD}),
        ),
    ] {
        let response = app
            .send(
                app.raw()
                    .post(format!("{}{path}", app.address))
                    .header("origin", EVIL)
                    .json(&body),
            )
            .await;
        response.assert_error(StatusCode::FORBIDDEN, "INVALID_ORIGIN");
    }
    assert_eq!(app.count("select count(*) from session").await, 1);
    assert_eq!(app.count("select count(*) from \"user\"").await, 1);
}

//! `POST /api/auth/sign-in/email` (reference, 2.3 and 5).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn sign_in_with_the_right_password_opens_a_session() {
    // Arrange
    let app = spawn_app().await;
    let user_id = app.signed_up("ada@example.com").await["user"]["id"].clone();
    let browser = app.new_browser();

    // Act
    let response = browser
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    assert_eq!(body["redirect"], false);
    assert!(body.get("url").is_none(), "{body}");
    assert_eq!(body["user"]["id"], user_id);
    assert_eq!(body["user"]["email"], "ada@example.com");
    let token = body["token"].as_str().expect("a token");
    let cookie = response
        .set_cookie(SESSION_COOKIE)
        .expect("a session cookie");
    assert_eq!(cookie.value, signed_cookie_value(token));
    assert_eq!(cookie.max_age, Some(604800));
    let session = browser.session().await;
    assert_eq!(session["session"]["token"], token);
    assert_eq!(session["user"]["id"], user_id);
}

#[tokio::test]
async fn sign_in_with_a_wrong_password_is_refused() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_in("ada@example.com", "not-the-password", json!({}))
        .await;

    // Assert
    let message = response.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
    assert_eq!(message, "Invalid email or password");
    assert!(response.set_cookie(SESSION_COOKIE).is_none());
    assert_eq!(app.count("select count(*) from session").await, 1);
}

#[tokio::test]
async fn sign_in_with_an_unknown_email_gets_the_same_answer_as_a_wrong_password() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.sign_in("nobody@example.com", PASSWORD, json!({})).await;

    // Assert
    let message = response.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
    assert_eq!(message, "Invalid email or password");
    assert_eq!(app.count("select count(*) from session").await, 0);
}

#[tokio::test]
async fn sign_in_ignores_the_case_of_the_email() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("mixed@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_in("MiXeD@EXAMPLE.com", PASSWORD, json!({}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["user"]["email"], "mixed@example.com");
}

#[tokio::test]
async fn sign_in_with_a_callback_url_answers_200_with_redirect_url_and_location() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let callback = "http://localhost:3000/docs/intro";

    // Act
    let response = app
        .new_browser()
        .sign_in(
            "ada@example.com",
            PASSWORD,
            json!({"callbackURL": callback}),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    assert_eq!(body["redirect"], true);
    assert_eq!(body["url"], callback);
    assert!(body["token"].is_string());
    assert_eq!(response.header("location").as_deref(), Some(callback));
}

#[tokio::test]
async fn sign_in_with_a_relative_callback_path_is_accepted() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({"callbackURL": "/docs"}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["url"], "/docs");
}

#[tokio::test]
async fn sign_in_with_a_callback_url_to_an_untrusted_origin_is_forbidden() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_in(
            "ada@example.com",
            PASSWORD,
            json!({"callbackURL": "https://evil.example/steal"}),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL");
    assert_eq!(message, "Invalid callbackURL");
    assert!(response.set_cookie(SESSION_COOKIE).is_none());
    assert_eq!(app.count("select count(*) from session").await, 1);
}

#[tokio::test]
async fn sign_in_with_an_invalid_email_is_invalid_email() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.sign_in("not-an-email", PASSWORD, json!({})).await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "INVALID_EMAIL");
    assert_eq!(message, "Invalid email");
}

#[tokio::test]
async fn sign_in_with_a_password_over_128_characters_is_too_long() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_in("ada@example.com", &"p".repeat(129), json!({}))
        .await;

    // Assert
    response.assert_error(StatusCode::BAD_REQUEST, "PASSWORD_TOO_LONG");
}

#[tokio::test]
async fn sign_in_does_not_check_the_minimum_password_length() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_in("ada@example.com", "short", json!({}))
        .await;

    // Assert
    response.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
}

#[tokio::test]
async fn sign_in_without_a_password_is_a_validation_error() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_json("/sign-in/email", &json!({"email": "ada@example.com"}))
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        message,
        "[body.password] Invalid input: expected string, received undefined"
    );
}

#[tokio::test]
async fn sign_in_without_a_body_says_an_object_was_expected() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-in/email"))
                .header("content-type", "application/json"),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        message,
        "[body] Invalid input: expected object, received undefined"
    );
}

#[tokio::test]
async fn sign_in_with_remember_me_false_sets_a_browser_session_cookie() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let browser = app.new_browser();

    // Act
    let response = browser
        .sign_in("ada@example.com", PASSWORD, json!({"rememberMe": false}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(
        response
            .set_cookie(SESSION_COOKIE)
            .expect("a session cookie")
            .max_age,
        None
    );
    assert!(response.set_cookie(DONT_REMEMBER_COOKIE).is_some());
    let token = response.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let (expires, ..) = app.session_row(&token).await.expect("a session row");
    assert_close(
        parse_iso(&expires),
        chrono::Utc::now() + chrono::Duration::days(1),
        60,
    );
}

#[tokio::test]
async fn a_user_whose_password_is_hashed_with_argon2id_can_sign_up_and_sign_in() {
    // Arrange
    let app =
        spawn_app_with(|toml, _| *toml = "[password]\nalgorithm = \"argon2id\"\n".into()).await;
    app.signed_up("argon@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_in("argon@example.com", PASSWORD, json!({}))
        .await;
    let wrong = app
        .new_browser()
        .sign_in("argon@example.com", "wrong-password", json!({}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    wrong.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
    let hash: String = sqlx::query_scalar("select password from account")
        .fetch_one(&app.db)
        .await
        .expect("an account");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

#[tokio::test]
async fn sign_in_returns_the_profile_fields_of_the_user() {
    // Arrange
    let app = spawn_app().await;
    app.sign_up(
        "ada@example.com",
        PASSWORD,
        json!({"software_background": "intermediate"}),
    )
    .await;

    // Act
    let body = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await
        .json();

    // Assert
    assert_eq!(body["user"]["software_background"], "intermediate");
    assert_eq!(body["user"]["hardware_background"], Value::Null);
}

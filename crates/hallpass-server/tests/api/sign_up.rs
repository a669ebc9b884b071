//! `POST /api/auth/sign-up/email` (reference, 2.3 and 6).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn is_iso_with_millis(s: &str) -> bool {
    // 2026-11-22T02:02:43.408Z
    s.len() == 24
        && s.ends_with('Z')
        && s.as_bytes()[10] == b'T'
        && s.as_bytes()[19] == b'.'
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[tokio::test]
async fn sign_up_returns_a_token_and_the_user_with_profile_fields() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .sign_up(
            "Ada@Example.COM",
            PASSWORD,
            json!({"software_background": "beginner"}),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    let token = body["token"].as_str().expect("a token");
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
    let user = &body["user"];
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["emailVerified"], false);
    assert_eq!(user["image"], Value::Null);
    assert_eq!(user["software_background"], "beginner");
    assert_eq!(user["hardware_background"], Value::Null);
    assert_eq!(user["id"].as_str().map(str::len), Some(32));
    assert!(is_iso_with_millis(user["createdAt"].as_str().unwrap_or("")));
    assert!(is_iso_with_millis(user["updatedAt"].as_str().unwrap_or("")));
    assert!(response.set_cookie(SESSION_COOKIE).is_some());
}

#[tokio::test]
async fn sign_up_writes_user_and_credential_account_rows_as_better_auth_does() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let body = app
        .sign_up(
            "Grace@Example.com",
            PASSWORD,
            json!({"hardware_background": "advanced"}),
        )
        .await
        .json();

    // Assert
    let user_id = body["user"]["id"].as_str().expect("an id");
    let user = app.user_row("grace@example.com").await.expect("a user row");
    assert_eq!(user["id"], user_id);
    assert_eq!(user["email"], "grace@example.com");
    assert_eq!(user["emailVerified"], 0);
    assert_eq!(user["hardware_background"], "advanced");
    assert_eq!(user["software_background"], Value::Null);
    assert!(is_iso_with_millis(user["createdAt"].as_str().unwrap_or("")));
    assert!(is_iso_with_millis(user["updatedAt"].as_str().unwrap_or("")));

    let (account_id, provider, password, created): (String, String, String, String) =
        sqlx::query_as(
            "select accountId, providerId, password, createdAt from account where userId = ?",
        )
        .bind(user_id)
        .fetch_one(&app.db)
        .await
        .expect("one account row");
    assert_eq!(provider, "credential");
    assert_eq!(account_id, user_id);
    assert_eq!(password.len(), 161, "{password}");
    let (salt, key) = password.split_once(':').expect("hexsalt:hexkey");
    assert_eq!((salt.len(), key.len()), (32, 128));
    assert!(password
        .chars()
        .all(|c| c == ':' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert!(is_iso_with_millis(&created));

    let token = body["token"].as_str().expect("a token");
    let (expires, created, updated, owner) = app.session_row(token).await.expect("a session");
    assert_eq!(owner, user_id);
    assert!(is_iso_with_millis(&expires) && is_iso_with_millis(&created));
    assert!(is_iso_with_millis(&updated));
    assert_close(
        parse_iso(&expires),
        chrono::Utc::now() + chrono::Duration::days(7),
        60,
    );
}

#[tokio::test]
async fn sign_up_with_a_taken_email_is_refused_with_422_and_writes_nothing() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("taken@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_up("TAKEN@example.com", "another-password", json!({}))
        .await;

    // Assert
    let message = response.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    );
    assert_eq!(message, "User already exists. Use another email.");
    assert_eq!(app.count("select count(*) from \"user\"").await, 1);
    assert_eq!(app.count("select count(*) from account").await, 1);
    assert_eq!(app.count("select count(*) from session").await, 1);
}

#[tokio::test]
async fn sign_up_with_an_invalid_email_is_a_validation_error() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.sign_up("not-an-email", PASSWORD, json!({})).await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(message, "[body.email] Invalid email address");
    assert_eq!(app.count("select count(*) from \"user\"").await, 0);
}

#[tokio::test]
async fn sign_up_without_a_name_names_the_missing_field_as_zod_does() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_json(
            "/sign-up/email",
            &json!({"email": "a@example.com", "password": PASSWORD}),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        message,
        "[body.name] Invalid input: expected string, received undefined"
    );
}

#[tokio::test]
async fn sign_up_with_an_empty_object_lists_every_missing_field() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.post_json("/sign-up/email", &json!({})).await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    for field in ["name", "email", "password"] {
        assert!(
            message.contains(&format!(
                "[body.{field}] Invalid input: expected string, received undefined"
            )),
            "{message}"
        );
    }
    assert_eq!(message.matches("; ").count(), 2, "{message}");
}

#[tokio::test]
async fn sign_up_with_a_wrongly_typed_field_names_both_types() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .sign_up("typed@example.com", PASSWORD, json!({"rememberMe": "yes"}))
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        message,
        "[body.rememberMe] Invalid input: expected boolean, received string"
    );
}

#[tokio::test]
async fn sign_up_with_a_seven_character_password_is_too_short() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.sign_up("short@example.com", "1234567", json!({})).await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "PASSWORD_TOO_SHORT");
    assert_eq!(message, "Password too short");
    assert_eq!(app.count("select count(*) from \"user\"").await, 0);
}

#[tokio::test]
async fn sign_up_with_a_129_character_password_is_too_long() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .sign_up("long@example.com", &"a".repeat(129), json!({}))
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "PASSWORD_TOO_LONG");
    assert_eq!(message, "Password too long");
    assert_eq!(app.count("select count(*) from \"user\"").await, 0);
}

#[tokio::test]
async fn sign_up_accepts_a_128_character_password() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .sign_up("edge@example.com", &"a".repeat(128), json!({}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
}

#[tokio::test]
async fn sign_up_with_an_unknown_profile_level_is_refused_naming_the_field() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .sign_up(
            "level@example.com",
            PASSWORD,
            json!({"software_background": "wizard"}),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(message.contains("software_background"), "{message}");
    assert_eq!(app.count("select count(*) from \"user\"").await, 0);
    assert_eq!(app.count("select count(*) from account").await, 0);
}

#[tokio::test]
async fn sign_up_ignores_keys_that_are_not_fields() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .sign_up(
            "extra@example.com",
            PASSWORD,
            json!({"favourite_colour": "teal", "emailVerified": true}),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let user = &response.json()["user"];
    assert!(user.get("favourite_colour").is_none(), "{user}");
    assert_eq!(user["emailVerified"], false);
    let row = app.user_row("extra@example.com").await.expect("a user row");
    assert_eq!(row["emailVerified"], 0);
}

#[tokio::test]
async fn sign_up_with_remember_me_false_makes_a_one_day_browser_session() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .sign_up("brief@example.com", PASSWORD, json!({"rememberMe": false}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let session = response
        .set_cookie(SESSION_COOKIE)
        .expect("a session cookie");
    assert_eq!(session.max_age, None, "{}", session.raw);
    assert!(!session.raw.to_ascii_lowercase().contains("expires="));
    let flag = response
        .set_cookie(DONT_REMEMBER_COOKIE)
        .expect("a dont_remember cookie");
    assert_eq!(flag.max_age, None);
    assert_eq!(flag.value, signed_cookie_value("true"));

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
async fn sign_up_accepts_a_form_urlencoded_body() {
    // Arrange
    let app = spawn_app().await;
    let form = "name=Form+User&email=form%40example.com&password=correct-horse-battery&software_background=advanced";

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/sign-up/email"))
                .header("origin", FRONTEND)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let user = &response.json()["user"];
    assert_eq!(user["name"], "Form User");
    assert_eq!(user["email"], "form@example.com");
    assert_eq!(user["software_background"], "advanced");
}

#[tokio::test]
async fn concurrent_sign_ups_with_one_email_create_exactly_one_user() {
    // Arrange
    let app = spawn_app().await;
    let browsers: Vec<Browser> = (0..5).map(|_| app.new_browser()).collect();

    // Act
    let (a, b, c, d, e) = tokio::join!(
        browsers[0].sign_up("race@example.com", PASSWORD, json!({})),
        browsers[1].sign_up("race@example.com", PASSWORD, json!({})),
        browsers[2].sign_up("race@example.com", PASSWORD, json!({})),
        browsers[3].sign_up("race@example.com", PASSWORD, json!({})),
        browsers[4].sign_up("race@example.com", PASSWORD, json!({})),
    );

    // Assert
    let statuses: Vec<StatusCode> = [&a, &b, &c, &d, &e].iter().map(|r| r.status).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{statuses:?}");
    for r in [&a, &b, &c, &d, &e] {
        if r.status != StatusCode::OK {
            r.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            );
        }
    }
    assert_eq!(app.count("select count(*) from \"user\"").await, 1);
    assert_eq!(app.count("select count(*) from account").await, 1);
    assert_eq!(app.count("select count(*) from session").await, 1);
}

#[tokio::test]
async fn sign_up_with_an_empty_email_is_a_validation_error() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.sign_up("", PASSWORD, json!({})).await;

    // Assert
    // zod's z.email() refuses "" like any other malformed address.
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(message, "[body.email] Invalid email address");
}

#[tokio::test]
async fn sign_up_with_an_empty_password_is_a_validation_error() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.sign_up("empty@example.com", "", json!({})).await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(message.starts_with("[body.password] "), "{message}");
}

#[tokio::test]
async fn sign_up_accepts_an_empty_name() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_json(
            "/sign-up/email",
            &json!({"name": "", "email": "anon@example.com", "password": PASSWORD}),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json()["user"]["name"], "");
}

#[tokio::test]
async fn sign_up_with_a_callback_url_to_an_untrusted_origin_is_forbidden() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .sign_up(
            "cb@example.com",
            PASSWORD,
            json!({"callbackURL": "https://evil.example/after"}),
        )
        .await;

    // Assert
    response.assert_error(StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL");
    assert_eq!(app.count("select count(*) from \"user\"").await, 0);
}

#[tokio::test]
async fn sign_up_stores_the_image() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .sign_up(
            "pic@example.com",
            PASSWORD,
            json!({"image": "https://example.com/pic.png"}),
        )
        .await;

    // Assert
    assert_eq!(
        response.json()["user"]["image"],
        "https://example.com/pic.png"
    );
    let row = app.user_row("pic@example.com").await.expect("a user");
    assert_eq!(row["image"], "https://example.com/pic.png");
}

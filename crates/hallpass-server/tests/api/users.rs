//! The signed-in user: `POST /update-user` and `POST /change-password` (reference, 2.3 and 7).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn update_user_changes_name_and_profile_and_bumps_updated_at() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let before = app.user_row("ada@example.com").await.expect("a user");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    // Act
    let response = app
        .post_json(
            "/update-user",
            &json!({"name": "Countess", "software_background": "advanced", "hardware_background": "none"}),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"status": true}));
    let after = app.user_row("ada@example.com").await.expect("a user");
    assert_eq!(after["name"], "Countess");
    assert_eq!(after["software_background"], "advanced");
    assert_eq!(after["hardware_background"], "none");
    assert_eq!(after["createdAt"], before["createdAt"]);
    assert!(
        parse_iso(after["updatedAt"].as_str().unwrap_or(""))
            > parse_iso(before["updatedAt"].as_str().unwrap_or("")),
        "{before} -> {after}"
    );
    let user = app.session().await["user"].clone();
    assert_eq!(user["name"], "Countess");
    assert_eq!(user["software_background"], "advanced");
}

#[tokio::test]
async fn update_user_re_sends_the_session_cookie() {
    // Arrange
    let app = spawn_app().await;
    let token = app.signed_up("ada@example.com").await["token"]
        .as_str()
        .expect("a token")
        .to_owned();

    // Act
    let response = app.post_json("/update-user", &json!({"name": "Ada"})).await;

    // Assert
    let cookie = response
        .set_cookie(SESSION_COOKIE)
        .expect("the session cookie");
    assert_eq!(cookie.value, signed_cookie_value(&token));
    assert!(response.header("set-auth-token").is_some());
}

#[tokio::test]
async fn update_user_refuses_to_change_the_email() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .post_json("/update-user", &json!({"email": "new@example.com"}))
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "EMAIL_CAN_NOT_BE_UPDATED");
    assert_eq!(message, "Email can not be updated");
    assert!(app.user_row("ada@example.com").await.is_some());
}

#[tokio::test]
async fn update_user_with_nothing_to_change_says_so_without_a_code() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .post_json("/update-user", &json!({"unknown": "ignored"}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.json(), json!({"message": "No fields to update"}));
}

#[tokio::test]
async fn update_user_with_an_empty_object_says_no_fields_to_update() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app.post_json("/update-user", &json!({})).await;

    // Assert
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.json(), json!({"message": "No fields to update"}));
}

#[tokio::test]
async fn update_user_with_an_unknown_level_is_refused_naming_the_field() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .post_json("/update-user", &json!({"hardware_background": "guru"}))
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(message.contains("hardware_background"), "{message}");
    let row = app.user_row("ada@example.com").await.expect("a user");
    assert_eq!(row["hardware_background"], Value::Null);
}

#[tokio::test]
async fn update_user_with_null_clears_a_profile_field() {
    // Arrange
    let app = spawn_app().await;
    app.sign_up(
        "ada@example.com",
        PASSWORD,
        json!({"software_background": "beginner"}),
    )
    .await;

    // Act
    let response = app
        .post_json("/update-user", &json!({"software_background": null}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let row = app.user_row("ada@example.com").await.expect("a user");
    assert_eq!(row["software_background"], Value::Null);
}

#[tokio::test]
async fn update_user_sets_and_clears_the_image() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let set = app
        .post_json(
            "/update-user",
            &json!({"image": "https://example.com/ada.png"}),
        )
        .await;
    let image_after_set = app.user_row("ada@example.com").await.expect("a user")["image"].clone();
    let cleared = app.post_json("/update-user", &json!({"image": null})).await;

    // Assert
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(image_after_set, "https://example.com/ada.png");
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text());
    let row = app.user_row("ada@example.com").await.expect("a user");
    assert_eq!(row["image"], Value::Null);
}

#[tokio::test]
async fn update_user_with_a_body_that_is_not_an_object_is_refused() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act and assert: Better Auth 1.7.24's answers, body type by body type.
    for (body, got) in [
        (json!(["name", "Eve"]), "array"),
        (json!(null), "null"),
        (json!("Eve"), "string"),
        (json!(3), "number"),
        (json!(true), "boolean"),
    ] {
        let response = app.post_json("/update-user", &body).await;
        let message = response.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(
            message,
            format!("[body] Invalid input: expected record, received {got}")
        );
    }
}

#[tokio::test]
async fn update_user_without_a_session_is_unauthorized() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.post_json("/update-user", &json!({"name": "Eve"})).await;

    // Assert
    let message = response.assert_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(message, "Unauthorized");
}

#[tokio::test]
async fn change_password_with_a_wrong_current_password_is_refused() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .post_json(
            "/change-password",
            &json!({"currentPassword": "not-the-password", "newPassword": "a-new-password"}),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "INVALID_PASSWORD");
    assert_eq!(message, "Invalid password");
    let still = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;
    assert_eq!(still.status, StatusCode::OK);
}

#[tokio::test]
async fn change_password_with_a_short_new_password_is_too_short() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;

    // Act
    let response = app
        .post_json(
            "/change-password",
            &json!({"currentPassword": PASSWORD, "newPassword": "short"}),
        )
        .await;

    // Assert
    response.assert_error(StatusCode::BAD_REQUEST, "PASSWORD_TOO_SHORT");
}

#[tokio::test]
async fn change_password_keeps_other_sessions_unless_asked() {
    // Arrange
    let app = spawn_app().await;
    let user_id = app.signed_up("ada@example.com").await["user"]["id"].clone();
    let laptop = app.new_browser();
    laptop.sign_in("ada@example.com", PASSWORD, json!({})).await;

    // Act
    let response = app
        .post_json(
            "/change-password",
            &json!({"currentPassword": PASSWORD, "newPassword": "a-new-password"}),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    assert_eq!(body["token"], Value::Null);
    assert_eq!(body["user"]["id"], user_id);
    assert!(laptop.session().await["session"].is_object());
    assert!(app.session().await["session"].is_object());
    let old = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;
    old.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
    let new = app
        .new_browser()
        .sign_in("ada@example.com", "a-new-password", json!({}))
        .await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.text());
}

#[tokio::test]
async fn change_password_with_revoke_other_sessions_starts_a_new_session() {
    // Arrange
    let app = spawn_app().await;
    let old_token = app.signed_up("ada@example.com").await["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let laptop = app.new_browser();
    laptop.sign_in("ada@example.com", PASSWORD, json!({})).await;
    // Read once, so the server may hold it in its session cache.
    assert!(laptop.session().await["session"].is_object());

    // Act
    let response = app
        .post_json(
            "/change-password",
            &json!({"currentPassword": PASSWORD, "newPassword": "a-new-password", "revokeOtherSessions": true}),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let new_token = response.json()["token"]
        .as_str()
        .expect("a new token")
        .to_owned();
    assert_ne!(new_token, old_token);
    let cookie = response.set_cookie(SESSION_COOKIE).expect("a new cookie");
    assert_eq!(cookie.value, signed_cookie_value(&new_token));
    assert_eq!(laptop.session().await, Value::Null);
    assert!(app.session_row(&old_token).await.is_none());
    assert_eq!(app.session().await["session"]["token"], new_token);
}

#[tokio::test]
async fn change_password_without_a_session_is_unauthorized() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_json(
            "/change-password",
            &json!({"currentPassword": PASSWORD, "newPassword": "a-new-password"}),
        )
        .await;

    // Assert
    response.assert_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

#[tokio::test]
async fn update_user_cannot_set_server_owned_columns() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let before = app.user_row("ada@example.com").await.expect("a user");

    // Act
    let response = app
        .post_json(
            "/update-user",
            &json!({"name": "Ada", "emailVerified": true, "id": "taken-over", "createdAt": "2000-01-01T00:00:00.000Z"}),
        )
        .await;

    // Assert
    assert!(
        response.status == StatusCode::OK || response.status == StatusCode::BAD_REQUEST,
        "{}",
        response.text()
    );
    let after = app.user_row("ada@example.com").await.expect("a user");
    assert_eq!(after["emailVerified"], 0);
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["createdAt"], before["createdAt"]);
}

#[tokio::test]
async fn update_user_in_a_session_that_is_not_remembered_keeps_a_browser_session_cookie() {
    // Arrange
    let app = spawn_app().await;
    app.sign_up("brief@example.com", PASSWORD, json!({"rememberMe": false}))
        .await;

    // Act
    let response = app.post_json("/update-user", &json!({"name": "B"})).await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let cookie = response
        .set_cookie(SESSION_COOKIE)
        .expect("the session cookie");
    assert_eq!(cookie.max_age, None, "{}", cookie.raw);
}

#[tokio::test]
async fn the_token_reflects_an_updated_profile_at_once() {
    // Arrange
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let before = app.get("/token").await.json()["token"].clone();

    // Act
    app.post_json(
        "/update-user",
        &json!({"name": "Countess", "software_background": "advanced"}),
    )
    .await;
    let after = app.get("/token").await.json()["token"].clone();

    // Assert
    assert_ne!(before, after);
    let payload = after
        .as_str()
        .and_then(|t| t.split('.').nth(1))
        .expect("a JWS payload");
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
            .expect("JSON claims");
    assert_eq!(claims["name"], "Countess");
    assert_eq!(claims["software_background"], "advanced");
}

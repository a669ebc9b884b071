//! Drop-in on data Better Auth wrote: rows inserted exactly as Better Auth 1.7.24 writes them in
//! SQLite (reference, 6.1), its password hash vector (5) and its signed-cookie vector (4.2).

use crate::helpers::*;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const USER_ID: &str = "YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X";
const TOKEN: &str = "PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ";
const COOKIE: &str = "better-auth.session_token=PgVUPgUSYS7mwuYTN11ZZ7VTtcB2ugIZ.fJm9S3ZnWRpqoAxC9afcOIaoAvsgDvq42gsOL8w65fU%3D";
const HASH: &str = "0123456789abcdef0123456789abcdef:e8b256b6f9f4b1641136a66d4a26ba41a47b6c8c9bad6aa4145559ffda45ece1f0f16dec8482a3e5545feada0ba62f2b05eeb943b750c9396874e1762c78d27d";

/// Inserts a user row as Better Auth writes it (dates as ISO text with milliseconds, booleans as
/// 0/1, profile fields as columns).
async fn insert_user_row(app: &TestApp, software_background: Option<&str>, verified: bool) {
    sqlx::query(
        "insert into \"user\" (\"id\", \"name\", \"email\", \"emailVerified\", \"image\", \"createdAt\", \"updatedAt\", \"software_background\", \"hardware_background\") \
         values (?, 'A', 'a@example.com', ?, null, '2026-11-22T02:02:43.318Z', '2026-11-22T02:02:43.318Z', ?, null)",
    )
    .bind(USER_ID)
    .bind(i64::from(verified))
    .bind(software_background)
    .execute(&app.db)
    .await
    .expect("a user row");
}

/// Inserts an account row: `credential` with the reference's hash, or a social one without password.
async fn insert_account_row(app: &TestApp, provider: &str) {
    let (account_id, password) = if provider == "credential" {
        (USER_ID, Some(HASH))
    } else {
        ("1234567", None)
    };
    sqlx::query(
        "insert into \"account\" (\"id\", \"accountId\", \"providerId\", \"userId\", \"accessToken\", \"refreshToken\", \"idToken\", \"accessTokenExpiresAt\", \"refreshTokenExpiresAt\", \"scope\", \"password\", \"createdAt\", \"updatedAt\") \
         values (?, ?, ?, ?, null, null, null, null, null, null, ?, '2026-11-22T02:02:43.318Z', '2026-11-22T02:02:43.318Z')",
    )
    .bind(random_id())
    .bind(account_id)
    .bind(provider)
    .bind(USER_ID)
    .bind(password)
    .execute(&app.db)
    .await
    .expect("an account row");
}

/// Inserts a password user as Better Auth writes one: the user and its credential account
/// (`providerId` credential, `accountId` = user id).
async fn insert_better_auth_user(app: &TestApp, software_background: Option<&str>) {
    insert_user_row(app, software_background, false).await;
    insert_account_row(app, "credential").await;
}

/// Inserts the session of the reference's cookie vector, valid for a week.
async fn insert_better_auth_session(app: &TestApp) {
    let now = chrono::Utc::now();
    sqlx::query(
        "insert into \"session\" (\"id\", \"expiresAt\", \"token\", \"createdAt\", \"updatedAt\", \"ipAddress\", \"userAgent\", \"userId\") \
         values ('F9O7mwBqm69dKN30eBix5cEzZtcPAvKC', ?, ?, ?, ?, '', '', ?)",
    )
    .bind(iso(now + chrono::Duration::days(7)))
    .bind(TOKEN)
    .bind(iso(now))
    .bind(iso(now))
    .bind(USER_ID)
    .execute(&app.db)
    .await
    .expect("a session row");
}

#[tokio::test]
async fn a_user_better_auth_created_signs_in_with_their_password() {
    // Arrange
    let app = spawn_app().await;
    insert_better_auth_user(&app, None).await;

    // Act
    let response = app.sign_in("a@example.com", "password123", json!({})).await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let user = &response.json()["user"];
    assert_eq!(user["id"], USER_ID);
    assert_eq!(user["name"], "A");
    assert_eq!(user["createdAt"], "2026-11-22T02:02:43.318Z");
    assert_eq!(user["emailVerified"], false);
}

#[tokio::test]
async fn a_user_better_auth_created_is_refused_with_a_wrong_password() {
    // Arrange
    let app = spawn_app().await;
    insert_better_auth_user(&app, None).await;

    // Act
    let response = app.sign_in("a@example.com", "password124", json!({})).await;

    // Assert
    response.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
}

#[tokio::test]
async fn the_cookie_better_auth_would_send_opens_its_session() {
    // Arrange
    let app = spawn_app().await;
    insert_better_auth_user(&app, None).await;
    insert_better_auth_session(&app).await;

    // Act
    let response = app
        .send(
            app.raw()
                .get(app.url("/get-session"))
                .header("cookie", COOKIE),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert_eq!(body["user"]["id"], USER_ID);
    assert_eq!(body["user"]["email"], "a@example.com");
    assert_eq!(body["session"]["token"], TOKEN);
    assert_eq!(body["session"]["id"], "F9O7mwBqm69dKN30eBix5cEzZtcPAvKC");
}

#[tokio::test]
async fn a_stored_profile_value_outside_the_schema_is_returned_as_it_is() {
    // Arrange
    let app = spawn_app().await;
    insert_better_auth_user(&app, Some("wizard")).await;
    insert_better_auth_session(&app).await;

    // Act
    let response = app
        .send(
            app.raw()
                .get(app.url("/get-session"))
                .header("cookie", COOKIE),
        )
        .await;

    // Assert
    assert_eq!(response.json()["user"]["software_background"], "wizard");
    assert_eq!(response.json()["user"]["hardware_background"], Value::Null);
}

#[tokio::test]
async fn the_cookie_hallpass_sets_has_better_auths_format() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.sign_up("ada@example.com", PASSWORD, json!({})).await;

    // Assert
    let token = response.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let cookie = response
        .set_cookie(SESSION_COOKIE)
        .expect("a session cookie");
    let (value_token, signature) = cookie.value.split_once('.').expect("token.signature");
    assert_eq!(value_token, token);
    // 44 base64 characters ending in '=', with '=' (and '+', '/') URL-encoded.
    assert!(signature.ends_with("%3D"), "{signature}");
    let decoded = signature
        .replace("%3D", "=")
        .replace("%2B", "+")
        .replace("%2F", "/");
    assert_eq!(decoded.len(), 44, "{decoded}");
    assert_eq!(cookie.value, signed_cookie_value(&token));
    assert_eq!(
        cookie.raw,
        format!(
            "{SESSION_COOKIE}={}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
            cookie.value
        )
    );
}

#[tokio::test]
async fn a_user_hallpass_created_is_stored_so_better_auth_can_verify_the_password() {
    // Arrange
    let app = spawn_app().await;

    // Act
    app.signed_up("ada@example.com").await;

    // Assert
    let hash: String = sqlx::query_scalar(
        "select password from account where providerId = 'credential' and accountId = userId",
    )
    .fetch_one(&app.db)
    .await
    .expect("a credential account");
    let (salt, key) = hash.split_once(':').expect("salt:key");
    // Better Auth derives with the hex salt *string* as the scrypt salt: N=2^14, r=16, p=1, 64 bytes.
    let params = scrypt::Params::new(14, 16, 1, 64).expect("valid parameters");
    let mut derived = [0u8; 64];
    scrypt::scrypt(PASSWORD.as_bytes(), salt.as_bytes(), &params, &mut derived).expect("scrypt");
    let derived: String = derived.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(derived, key);
}

fn get_session_with_the_better_auth_cookie(app: &TestApp) -> reqwest::RequestBuilder {
    app.raw()
        .get(app.url("/get-session"))
        .header("cookie", COOKIE)
}

#[tokio::test]
async fn a_verified_email_better_auth_stored_as_1_is_true() {
    // Arrange
    let app = spawn_app().await;
    insert_user_row(&app, None, true).await;
    insert_account_row(&app, "credential").await;
    insert_better_auth_session(&app).await;

    // Act
    let response = app
        .send(get_session_with_the_better_auth_cookie(&app))
        .await;

    // Assert
    assert_eq!(response.json()["user"]["emailVerified"], true);
}

#[tokio::test]
async fn a_better_auth_user_without_a_password_cannot_sign_in_with_one() {
    // Arrange
    let app = spawn_app().await;
    insert_user_row(&app, None, true).await;
    insert_account_row(&app, "github").await;

    // Act
    let response = app.sign_in("a@example.com", "password123", json!({})).await;

    // Assert
    response.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
}

#[tokio::test]
async fn change_password_for_a_user_without_a_password_is_credential_account_not_found() {
    // Arrange
    let app = spawn_app().await;
    insert_user_row(&app, None, true).await;
    insert_account_row(&app, "github").await;
    insert_better_auth_session(&app).await;

    // Act
    let response = app
        .send(
            app.raw()
                .post(app.url("/change-password"))
                .header("cookie", COOKIE)
                .header("origin", FRONTEND)
                .json(&json!({"currentPassword": "password123", "newPassword": "a-new-password"})),
        )
        .await;

    // Assert
    let message = response.assert_error(StatusCode::BAD_REQUEST, "CREDENTIAL_ACCOUNT_NOT_FOUND");
    assert_eq!(message, "Credential account not found");
}

#[tokio::test]
async fn a_signing_key_better_auth_stored_signs_the_tokens() {
    // Arrange
    let app = spawn_app().await;
    insert_better_auth_user(&app, None).await;
    insert_better_auth_session(&app).await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let x = B64URL.encode(key.verifying_key().to_bytes());
    let d = B64URL.encode(key.to_bytes());
    let private_jwk = json!({"crv": "Ed25519", "d": d, "x": x, "kty": "OKP"}).to_string();
    // symmetricEncrypt: XChaCha20-Poly1305 keyed by SHA-256(secret); hex(nonce, ciphertext, tag),
    // stored JSON-stringified (reference, 4.4 and 9.2).
    let cipher = XChaCha20Poly1305::new(&Sha256::digest(SECRET.as_bytes()));
    let nonce = [7u8; 24];
    let sealed = cipher
        .encrypt(XNonce::from_slice(&nonce), private_jwk.as_bytes())
        .expect("encryption");
    let hex: String = nonce
        .iter()
        .chain(sealed.iter())
        .map(|b| format!("{b:02x}"))
        .collect();
    let kid = "f8sI4XDXZIIc69xeEMPNKnXzeqVFVF8T";
    sqlx::query(
        "insert into jwks (id, publicKey, privateKey, createdAt, expiresAt, alg, crv) \
         values (?, ?, ?, '2026-11-22T02:02:43.318Z', null, 'EdDSA', 'Ed25519')",
    )
    .bind(kid)
    .bind(json!({"crv": "Ed25519", "x": x, "kty": "OKP"}).to_string())
    .bind(Value::String(hex).to_string())
    .execute(&app.db)
    .await
    .expect("a jwks row");

    // Act
    let response = app
        .send(app.raw().get(app.url("/token")).header("cookie", COOKIE))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let token = response.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let header = jsonwebtoken::decode_header(&token).expect("a header");
    assert_eq!(header.kid.as_deref(), Some(kid));
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[&app.base_url]);
    validation.set_issuer(&[&app.base_url]);
    let claims = jsonwebtoken::decode::<Value>(
        &token,
        &DecodingKey::from_ed_components(&x).expect("a key"),
        &validation,
    )
    .expect("the token verifies with Better Auth's key")
    .claims;
    assert_eq!(claims["sub"], USER_ID);
    let jwks = app.get("/jwks").await.json();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1), "{jwks}");
    assert_eq!(jwks["keys"][0]["kid"], kid);
    assert_eq!(app.count("select count(*) from jwks").await, 1);
}

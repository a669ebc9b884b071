//! JWTs for other services: `GET /token`, `GET /jwks`, the `set-auth-jwt` header and key storage
//! (reference, 9.2). Tokens are verified with `jsonwebtoken`, independently of the server.

use crate::helpers::*;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Verifies a JWT against the app's `/jwks` (EdDSA, iss and aud the base origin) and returns
/// (kid, claims).
async fn verify(app: &TestApp, token: &str) -> (String, Value) {
    let header = jsonwebtoken::decode_header(token).expect("a JWS header");
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.expect("a kid");
    let jwks = app.get("/jwks").await;
    assert_eq!(jwks.status, StatusCode::OK);
    let set: JwkSet = serde_json::from_slice(&jwks.body).expect("a JWK set");
    let jwk = set.find(&kid).expect("the kid is published in /jwks");
    let key = DecodingKey::from_jwk(jwk).expect("an Ed25519 key");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&app.base_url]);
    validation.set_audience(&[&app.base_url]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("the JWT verifies: {e}"));
    (kid, data.claims)
}

#[tokio::test]
async fn token_returns_a_jwt_that_verifies_against_jwks() {
    // Arrange
    let app = spawn_app().await;
    let user = app
        .sign_up(
            "ada@example.com",
            PASSWORD,
            json!({"software_background": "beginner"}),
        )
        .await
        .json()["user"]
        .clone();

    // Act
    let response = app.get("/token").await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let token = response.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let (_, claims) = verify(&app, &token).await;
    assert_eq!(claims["sub"], user["id"]);
    assert_eq!(claims["id"], user["id"]);
    assert_eq!(claims["iss"], app.base_url.as_str());
    assert_eq!(claims["aud"], app.base_url.as_str());
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["name"], "Ada Lovelace");
    assert_eq!(claims["emailVerified"], false);
    assert_eq!(claims["software_background"], "beginner");
    assert_eq!(claims["hardware_background"], Value::Null);
    let iat = claims["iat"].as_i64().expect("iat");
    let exp = claims["exp"].as_i64().expect("exp");
    assert_eq!(exp - iat, 900);
    assert!((iat - chrono::Utc::now().timestamp()).abs() < 60);
}

#[tokio::test]
async fn jwks_publishes_an_ed25519_key_with_a_kid() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/jwks").await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    let keys = body["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{body}");
    let key = &keys[0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["kid"].as_str().map(str::len), Some(32));
    assert_eq!(key["x"].as_str().map(str::len), Some(43));
    assert!(key.get("d").is_none(), "no private part: {key}");
}

#[tokio::test]
async fn token_without_a_session_is_unauthorized() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/token").await;

    // Assert
    response.assert_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

#[tokio::test]
async fn get_session_sends_a_set_auth_jwt_that_verifies() {
    // Arrange
    let app = spawn_app().await;
    let user_id = app.signed_up("ada@example.com").await["user"]["id"].clone();

    // Act
    let response = app.get("/get-session").await;

    // Assert
    let jwt = response.header("set-auth-jwt").expect("set-auth-jwt");
    let exposed = response
        .header("access-control-expose-headers")
        .unwrap_or_default();
    assert!(exposed.contains("set-auth-jwt"), "{exposed}");
    let (_, claims) = verify(&app, &jwt).await;
    assert_eq!(claims["sub"], user_id);
}

#[tokio::test]
async fn with_the_header_switched_off_get_session_signs_nothing_and_token_still_answers() {
    // Arrange: Better Auth's `disableSettingJwtHeader`, from the file and from the environment.
    for (file, env) in [("[jwt]\nheader = false\n", None), ("", Some("false"))] {
        let app = spawn_app_with(|toml, vars| {
            toml.push_str(file);
            if let Some(v) = env {
                vars.insert("HALLPASS_JWT_HEADER".into(), v.into());
            }
        })
        .await;
        let user_id = app.signed_up("ada@example.com").await["user"]["id"].clone();

        // Act: twice, so the second answer comes from memory.
        for _ in 0..2 {
            let response = app.get("/get-session").await;

            // Assert
            assert_eq!(response.json()["user"]["id"], user_id);
            assert!(response.header("set-auth-jwt").is_none(), "{file}{env:?}");
            let exposed = response
                .header("access-control-expose-headers")
                .unwrap_or_default();
            assert!(!exposed.contains("set-auth-jwt"), "{exposed}");
        }
        let token = app.get("/token").await.json()["token"]
            .as_str()
            .expect("a token from /token")
            .to_owned();
        let (_, claims) = verify(&app, &token).await;
        assert_eq!(claims["sub"], user_id);
    }
}

#[tokio::test]
async fn get_session_without_a_session_sends_no_jwt() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/get-session").await;

    // Assert
    assert!(response.header("set-auth-jwt").is_none());
}

#[tokio::test]
async fn the_signing_key_is_stored_as_better_auth_stores_it() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let kid = app.get("/jwks").await.json()["keys"][0]["kid"].clone();

    // Assert
    let (id, public, private, alg, crv, created): (String, String, String, String, String, String) =
        sqlx::query_as("select id, publicKey, privateKey, alg, crv, createdAt from jwks")
            .fetch_one(&app.db)
            .await
            .expect("one jwks row");
    assert_eq!(kid, id.as_str());
    assert_eq!(alg, "EdDSA");
    assert_eq!(crv, "Ed25519");
    assert!(parse_iso(&created) <= chrono::Utc::now());
    let public: Value = serde_json::from_str(&public).expect("the public JWK is JSON");
    assert_eq!(public["kty"], "OKP");
    assert_eq!(public["crv"], "Ed25519");
    assert!(public.get("d").is_none());
    // JSON.stringify(hex ciphertext): a quoted string of hex digits, never the JWK itself.
    let cipher: Value = serde_json::from_str(&private).expect("the private key is JSON");
    let hex = cipher.as_str().expect("a JSON string");
    assert!(hex.len() > 48 * 2, "{hex}");
    assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{hex}");
    assert!(!private.contains("\"d\""));
}

#[tokio::test]
async fn a_second_server_on_the_same_database_signs_with_the_same_key() {
    // Arrange
    let first = spawn_app().await;
    first.signed_up("ada@example.com").await;
    let first_jwt = first.get("/token").await.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let second = spawn_app_sharing(&first).await;
    second.sign_in("ada@example.com", PASSWORD, json!({})).await;

    // Act
    let second_jwt = second.get("/token").await.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();

    // Assert
    let first_kid = jsonwebtoken::decode_header(&first_jwt)
        .expect("a header")
        .kid;
    let second_kid = jsonwebtoken::decode_header(&second_jwt)
        .expect("a header")
        .kid;
    assert!(first_kid.is_some());
    assert_eq!(first_kid, second_kid);
    assert_eq!(first.count("select count(*) from jwks").await, 1);
    // The second server's JWT verifies against the first server's /jwks (same base URL origin
    // aside, which differs by port; the key is what matters here).
    let set: JwkSet = serde_json::from_slice(&first.get("/jwks").await.body).expect("a JWK set");
    let key = DecodingKey::from_jwk(set.find(second_kid.as_deref().unwrap_or("")).expect("kid"))
        .expect("a key");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[&second.base_url]);
    jsonwebtoken::decode::<Value>(&second_jwt, &key, &validation).expect("verifies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_for_the_keys_make_one_key() {
    // Arrange: a fresh database has no signing key yet.
    let app = spawn_app().await;
    assert_eq!(app.count("select count(*) from jwks").await, 0);

    // Act: many verifiers ask for the keys at the same moment.
    let requests: Vec<_> = (0..16)
        .map(|_| {
            let req = app.raw().get(app.url("/jwks"));
            tokio::spawn(async move { req.send().await.unwrap().json::<Value>().await.unwrap() })
        })
        .collect();
    let mut kids = Vec::new();
    for r in requests {
        let body = r.await.unwrap();
        kids.push(body["keys"][0]["kid"].as_str().unwrap().to_owned());
    }

    // Assert
    assert_eq!(app.count("select count(*) from jwks").await, 1);
    kids.dedup();
    assert_eq!(kids.len(), 1, "every answer publishes the one key");
}

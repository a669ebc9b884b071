//! Plain REST for simple clients: `/auth/register`, `/auth/login`, `/auth/logout`, `/auth/me`,
//! `PUT /auth/profile`, `/auth/profile-schema`; credentials by bearer session token, bearer JWT or
//! cookie; JWTs checked for algorithm, signature, expiry, issuer, audience and a live session.

use crate::helpers::*;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `{method} /auth{path}` with an optional bearer and JSON body, no cookies.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> TestResponse {
    let mut req = app
        .raw()
        .request(method, format!("{}/auth{path}", app.address));
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    app.send(req).await
}

async fn register(app: &TestApp, email: &str, extra: Value) -> TestResponse {
    let mut body = json!({"email": email, "password": PASSWORD, "name": "Ada"});
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    call(app, reqwest::Method::POST, "/register", None, Some(body)).await
}

/// Registers and returns (token, jwt, user).
async fn registered(app: &TestApp) -> (String, String, Value) {
    let r = register(
        app,
        &unique_email("rest"),
        json!({"software_background": "intermediate", "hardware_background": "beginner"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let body = r.json();
    (
        body["token"].as_str().unwrap().to_owned(),
        body["jwt"].as_str().unwrap().to_owned(),
        body["user"].clone(),
    )
}

async fn me(app: &TestApp, bearer: &str) -> TestResponse {
    call(app, reqwest::Method::GET, "/me", Some(bearer), None).await
}

/// The claims of a JWT checked against the server's JWKS with an independent verifier.
async fn verified_claims(app: &TestApp, jwt: &str) -> Value {
    let jwks: JwkSet = app
        .raw()
        .get(app.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(jwt).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_issuer(&[&app.base_url]);
    v.set_audience(&[&app.base_url]);
    jsonwebtoken::decode::<Value>(jwt, &key, &v).unwrap().claims
}

#[tokio::test]
async fn register_answers_201_with_the_user_a_session_token_a_jwt_and_the_cookie() {
    let app = spawn_app().await;
    let email = unique_email("reg");
    let r = register(&app, &email, json!({"software_background": "advanced"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let body = r.json();
    assert_eq!(body["user"]["email"], json!(email));
    assert_eq!(body["user"]["software_background"], json!("advanced"));
    assert_eq!(body["user"]["hardware_background"], Value::Null);
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    let cookie = r.set_cookie(SESSION_COOKIE).expect("the session cookie");
    assert_eq!(cookie.value, signed_cookie_value(token));
    assert_eq!(r.header("set-auth-token"), Some(signed(token)));
    let claims = verified_claims(&app, body["jwt"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], body["user"]["id"]);
    assert_eq!(claims["software_background"], json!("advanced"));
    let session = app.session_row(token).await.expect("a session row");
    assert_eq!(session.3, body["user"]["id"].as_str().unwrap());
}

#[tokio::test]
async fn register_refuses_a_bad_profile_value_naming_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let email = unique_email("bad");
    let r = register(&app, &email, json!({"hardware_background": "wizard"})).await;
    let message = r.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(message.contains("hardware_background"), "{message}");
    assert!(app.user_row(&email).await.is_none());
}

#[tokio::test]
async fn register_refuses_a_bad_email_a_short_password_and_a_taken_email() {
    let app = spawn_app().await;
    let r = register(&app, "not-an-email", json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = call(
        &app,
        reqwest::Method::POST,
        "/register",
        None,
        Some(json!({"email": unique_email("short"), "password": "short", "name": "A"})),
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "PASSWORD_TOO_SHORT");
    let email = unique_email("taken");
    assert_eq!(
        register(&app, &email, json!({})).await.status,
        StatusCode::CREATED
    );
    register(&app, &email, json!({})).await.assert_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    );
}

#[tokio::test]
async fn login_answers_a_jwt_that_names_the_new_session() {
    let app = spawn_app().await;
    let (_, _, user) = registered(&app).await;
    let r = call(
        &app,
        reqwest::Method::POST,
        "/login",
        None,
        Some(json!({"email": user["email"], "password": PASSWORD})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    let claims = verified_claims(&app, body["jwt"].as_str().unwrap()).await;
    let token = body["token"].as_str().unwrap();
    let sid: String = sqlx::query_scalar("select id from session where token = ?")
        .bind(token)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(claims["sid"], json!(sid));
}

#[tokio::test]
async fn login_with_a_wrong_password_is_refused() {
    let app = spawn_app().await;
    let (_, _, user) = registered(&app).await;
    call(
        &app,
        reqwest::Method::POST,
        "/login",
        None,
        Some(json!({"email": user["email"], "password": "wrong password!"})),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");
}

#[tokio::test]
async fn me_knows_the_reader_by_session_token_signed_token_jwt_or_cookie() {
    let app = spawn_app().await;
    let (token, jwt, user) = registered(&app).await;
    for bearer in [token.clone(), signed(&token), jwt] {
        let r = me(&app, &bearer).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["user"]["id"], user["id"]);
        assert_eq!(
            r.json()["user"]["software_background"],
            json!("intermediate")
        );
    }
    let r = app
        .send(app.raw().get(format!("{}/auth/me", app.address)).header(
            "cookie",
            format!("{SESSION_COOKIE}={}", signed_cookie_value(&token)),
        ))
        .await;
    assert_eq!(r.json()["user"]["id"], user["id"]);
}

#[tokio::test]
async fn me_without_a_credential_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let r = app
        .send(app.raw().get(format!("{}/auth/me", app.address)))
        .await;
    r.assert_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn forged_and_tampered_jwts_are_refused() {
    let app = spawn_app().await;
    let (_, jwt, _) = registered(&app).await;
    let parts: Vec<&str> = jwt.split('.').collect();
    let header: Value = serde_json::from_slice(&B64URL.decode(parts[0]).unwrap()).unwrap();
    let mut claims: Value = serde_json::from_slice(&B64URL.decode(parts[1]).unwrap()).unwrap();

    // alg=none, no signature.
    let none = format!(
        "{}.{}.",
        B64URL.encode(json!({"alg": "none", "kid": header["kid"]}).to_string()),
        parts[1]
    );
    // HS256 keyed with the published public key (the classic algorithm confusion).
    let jwks: Value = app
        .raw()
        .get(app.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = header["kid"].as_str().map(str::to_owned);
    let confused =
        jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(x.as_bytes())).unwrap();
    // Claims changed under the original signature.
    claims["software_background"] = json!("advanced");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64URL.encode(claims.to_string()),
        parts[2]
    );
    // Signed by a key that is not published.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let der = stranger.to_pkcs8_der().unwrap();
    let mut ed = Header::new(Algorithm::EdDSA);
    ed.kid = header["kid"].as_str().map(str::to_owned);
    let wrong_key =
        jsonwebtoken::encode(&ed, &claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap();

    for (what, forged) in [
        ("alg none", none),
        ("HS256 with the public key", confused),
        ("tampered claims", tampered),
        ("another key", wrong_key),
        ("garbage", "a.b.c".to_owned()),
    ] {
        let r = me(&app, &forged).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text());
    }
}

#[tokio::test]
async fn a_jwt_from_another_issuer_and_audience_is_refused_though_signed_by_a_shared_key() {
    let first = spawn_app().await;
    // Same database and secret (so the same signing keys), another base URL.
    let second = spawn_app_sharing(&first).await;
    let (_, jwt, _) = registered(&second).await;
    assert_eq!(me(&second, &jwt).await.status, StatusCode::OK);
    let r = me(&first, &jwt).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
}

#[tokio::test]
async fn an_expired_jwt_is_refused() {
    let app = spawn_app_with(|file, _| file.push_str("[jwt]\nexpires_in = 10\n")).await;
    let (_, jwt, _) = registered(&app).await;
    assert_eq!(me(&app, &jwt).await.status, StatusCode::OK);
    // Ten seconds of life (the shortest allowed) plus the five seconds of leeway.
    tokio::time::sleep(std::time::Duration::from_millis(16_000)).await;
    assert_eq!(me(&app, &jwt).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_jwt_stops_working_as_soon_as_its_session_ends() {
    let app = spawn_app().await;
    let (token, jwt, _) = registered(&app).await;
    let r = call(&app, reqwest::Method::POST, "/logout", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"success": true}));
    assert_eq!(me(&app, &token).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &jwt).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_with_a_jwt_ends_the_session_it_names() {
    let app = spawn_app().await;
    let (token, jwt, _) = registered(&app).await;
    let r = call(&app, reqwest::Method::POST, "/logout", Some(&jwt), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(app.session_row(&token).await.is_none());
}

#[tokio::test]
async fn the_profile_is_updated_partially_and_validated() {
    let app = spawn_app().await;
    let (token, _, _) = registered(&app).await;
    let put = |body: Value| {
        call(
            &app,
            reqwest::Method::PUT,
            "/profile",
            Some(&token),
            Some(body),
        )
    };
    let r = put(json!({"hardware_background": "advanced", "name": "Ada L."})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["user"]["hardware_background"], json!("advanced"));
    assert_eq!(
        r.json()["user"]["software_background"],
        json!("intermediate")
    );
    assert_eq!(r.json()["user"]["name"], json!("Ada L."));
    assert_eq!(
        me(&app, &token).await.json()["user"]["hardware_background"],
        json!("advanced")
    );

    let message = put(json!({"software_background": 3}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(message.contains("software_background"), "{message}");
    put(json!({"email": "new@example.com"}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "EMAIL_CAN_NOT_BE_UPDATED");
    let r = put(json!(["not", "an", "object"])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_error_shape(&r.json());
}

#[tokio::test]
async fn a_cookie_carrying_profile_update_from_an_untrusted_origin_is_refused() {
    let app = spawn_app().await;
    let (token, _, _) = registered(&app).await;
    let r = app
        .send(
            app.raw()
                .put(format!("{}/auth/profile", app.address))
                .header(
                    "cookie",
                    format!("{SESSION_COOKIE}={}", signed_cookie_value(&token)),
                )
                .header("origin", EVIL)
                .json(&json!({"software_background": "none"})),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "INVALID_ORIGIN");
}

#[tokio::test]
async fn the_profile_schema_lists_the_questions_with_their_labels() {
    let app = spawn_app().await;
    let r = app
        .send(
            app.raw()
                .get(format!("{}/auth/profile-schema", app.address)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let fields = r.json()["fields"].clone();
    assert_eq!(fields[0]["key"], json!("software_background"));
    assert_eq!(fields[0]["type"], json!("enum"));
    assert_eq!(
        fields[0]["values"],
        json!(["none", "beginner", "intermediate", "advanced"])
    );
    assert_eq!(fields[0]["labels"].as_array().unwrap().len(), 4);
    assert_eq!(fields[1]["key"], json!("hardware_background"));
}

#[tokio::test]
async fn the_profile_schema_follows_the_configuration() {
    let app = spawn_app_with(|file, _| {
        file.push_str(
            "[[profile.fields]]\nkey = \"favourite_language\"\ntype = \"string\"\nlabel = \"Favourite language\"\nmax_length = 20\n",
        )
    })
    .await;
    let r = app
        .send(
            app.raw()
                .get(format!("{}/auth/profile-schema", app.address)),
        )
        .await;
    let fields = r.json()["fields"].clone();
    assert_eq!(fields.as_array().unwrap().len(), 1);
    assert_eq!(fields[0]["key"], json!("favourite_language"));
    assert_eq!(fields[0]["label"], json!("Favourite language"));
    assert_eq!(fields[0]["maxLength"], json!(20));
}

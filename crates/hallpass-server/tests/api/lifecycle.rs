//! The account lifecycle (reference, 2.3) with mail in the outbox: password reset, email
//! verification, change of address, deletion, verify-password, list-accounts, update-session, and
//! sign-in when verification is required. (The official client drives the same flows through a
//! real SMTP server in tests/client/lifecycle.test.mjs.)

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn token_of_reset_link(link: &str) -> String {
    link.split("/reset-password/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_default()
        .to_owned()
}

fn query_param(link: &str, key: &str) -> String {
    url::Url::parse(link)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

async fn no_redirects(app: &TestApp, url: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url.replace(&app.base_url, &app.address))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_password_reset_goes_through_the_mailed_link_once_and_ends_every_session() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let other_device = app.new_browser();
    other_device
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;

    let res = app
        .post_json(
            "/request-password-reset",
            &json!({"email": "ADA@example.com", "redirectTo": "http://localhost:3000/reset"}),
        )
        .await;
    assert_eq!(
        res.json(),
        json!({"status": true, "message": "If this email exists in our system, check your email for the reset link"})
    );
    let (text, link) = app.mail_to("ada@example.com", "Reset your").await;
    assert!(
        text.contains("localhost"),
        "the message names the site: {text}"
    );
    let token = token_of_reset_link(&link);
    assert_eq!(token.len(), 24);
    assert!(
        link.starts_with(&format!(
            "{}/api/auth/reset-password/{token}?callbackURL=http%3A%2F%2Flocalhost%3A3000%2Freset",
            app.base_url
        )),
        "{link}"
    );

    // The link redirects to the page with the token.
    let res = no_redirects(&app, &link).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("http://localhost:3000/reset?token={token}")
    );

    let res = app
        .post_json(
            "/reset-password",
            &json!({"newPassword": "a-new-password-1", "token": token}),
        )
        .await;
    assert_eq!(res.json(), json!({"status": true}));
    assert!(
        res.set_cookie(SESSION_COOKIE).is_none(),
        "no session is opened"
    );

    // Once only; every session ended; the new password works, the old does not.
    let again = app
        .post_json(
            "/reset-password",
            &json!({"newPassword": "another-password-2", "token": token}),
        )
        .await;
    again.assert_error(StatusCode::BAD_REQUEST, "INVALID_TOKEN");
    assert_eq!(other_device.session().await, Value::Null);
    assert_eq!(app.session().await, Value::Null);
    let old = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .new_browser()
        .sign_in("ada@example.com", "a-new-password-1", json!({}))
        .await;
    assert_eq!(new.status, StatusCode::OK);
    // The used link now redirects with an error.
    let res = no_redirects(&app, &link).await;
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "http://localhost:3000/reset?error=INVALID_TOKEN"
    );
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/request-password-reset",
            &json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["status"], true);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail_count("nobody@example.com"), 0);
    let bad = app
        .post_json(
            "/request-password-reset",
            &json!({"email": "ada@example.com", "redirectTo": "https://evil.example/x"}),
        )
        .await;
    bad.assert_error(StatusCode::FORBIDDEN, "INVALID_REDIRECT_URL");
    let invalid = app
        .post_json("/request-password-reset", &json!({"email": "not-an-email"}))
        .await;
    assert_eq!(
        invalid.assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
        "[body.email] Invalid email address"
    );
}

#[tokio::test]
async fn forged_expired_and_concurrently_reused_reset_tokens_are_refused() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    for forged in [
        "abcdefghijklmnopqrstuvwx",
        "",
        "../../etc",
        "x'; drop table user;--",
    ] {
        let res = app
            .post_json(
                "/reset-password",
                &json!({"newPassword": "a-new-password-1", "token": forged}),
            )
            .await;
        res.assert_error(StatusCode::BAD_REQUEST, "INVALID_TOKEN");
    }
    // Expired: the row's expiry moved into the past.
    app.post_json(
        "/request-password-reset",
        &json!({"email": "ada@example.com"}),
    )
    .await;
    let (_, link) = app.mail_to("ada@example.com", "Reset your").await;
    let token = token_of_reset_link(&link);
    sqlx::query("update verification set expiresAt = '2020-01-01T00:00:00.000Z'")
        .execute(&app.db)
        .await
        .unwrap();
    let res = app
        .post_json(
            "/reset-password",
            &json!({"newPassword": "a-new-password-1", "token": token}),
        )
        .await;
    res.assert_error(StatusCode::BAD_REQUEST, "INVALID_TOKEN");

    // A too-short password does not burn the token; concurrent uses: exactly one succeeds.
    app.post_json(
        "/request-password-reset",
        &json!({"email": "ada@example.com"}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (_, link) = app.mail_to("ada@example.com", "Reset your").await;
    let token = token_of_reset_link(&link);
    let short = app
        .post_json(
            "/reset-password",
            &json!({"newPassword": "short", "token": token}),
        )
        .await;
    short.assert_error(StatusCode::BAD_REQUEST, "PASSWORD_TOO_SHORT");
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let req = app
                .raw()
                .post(app.url("/reset-password"))
                .json(&json!({"newPassword": format!("new-password-{i}"), "token": token}));
            tokio::spawn(async move { req.send().await.map(|r| r.status()) })
        })
        .collect();
    let mut ok = 0;
    for t in tries {
        if t.await.unwrap().unwrap() == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn an_address_is_verified_through_the_mailed_link() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let res = app
        .post_json(
            "/send-verification-email",
            &json!({"email": "ada@example.com", "callbackURL": "http://localhost:3000/verified"}),
        )
        .await;
    assert_eq!(res.json(), json!({"status": true}));
    let (_, link) = app.mail_to("ada@example.com", "Confirm your email").await;
    assert_eq!(
        query_param(&link, "callbackURL"),
        "http://localhost:3000/verified"
    );
    let token = query_param(&link, "token");

    // A tampered token is refused, as JSON or as a redirect with the error.
    let tampered = format!("{token}x");
    let res = app.get(&format!("/verify-email?token={tampered}")).await;
    res.assert_error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
    let res = no_redirects(
        &app,
        &format!(
            "{}/api/auth/verify-email?token={tampered}&callbackURL=%2Fdone",
            app.base_url
        ),
    )
    .await;
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "/done?error=INVALID_TOKEN",
        "relative callbacks stay relative, as Better Auth's verify-email keeps them"
    );

    let res = no_redirects(&app, &link).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "http://localhost:3000/verified"
    );
    assert_eq!(app.session().await["user"]["emailVerified"], true);
    let again = app
        .post_json(
            "/send-verification-email",
            &json!({"email": "ada@example.com"}),
        )
        .await;
    again.assert_error(StatusCode::BAD_REQUEST, "EMAIL_ALREADY_VERIFIED");
    let other = app
        .post_json(
            "/send-verification-email",
            &json!({"email": "bob@example.com"}),
        )
        .await;
    other.assert_error(StatusCode::BAD_REQUEST, "EMAIL_MISMATCH");
}

#[tokio::test]
async fn an_expired_verification_token_is_refused() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let now = chrono::Utc::now().timestamp();
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"email": "ada@example.com", "iat": now - 7200, "exp": now - 3600}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let res = app.get(&format!("/verify-email?token={expired}")).await;
    res.assert_error(StatusCode::UNAUTHORIZED, "TOKEN_EXPIRED");
    // Signed with another secret: invalid.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"email": "ada@example.com", "iat": now, "exp": now + 3600}),
        &jsonwebtoken::EncodingKey::from_secret(b"another secret entirely"),
    )
    .unwrap();
    let res = app.get(&format!("/verify-email?token={forged}")).await;
    res.assert_error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
    assert_eq!(app.session().await["user"]["emailVerified"], false);
}

#[tokio::test]
async fn without_a_session_verification_mail_answers_the_same_after_half_a_second() {
    let app = spawn_app().await;
    app.new_browser().signed_up("ada@example.com").await;
    for email in ["ada@example.com", "nobody@example.com"] {
        let started = std::time::Instant::now();
        let res = app
            .send(
                app.raw()
                    .post(app.url("/send-verification-email"))
                    .json(&json!({"email": email})),
            )
            .await;
        assert_eq!(res.json(), json!({"status": true}));
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(500),
            "{email}"
        );
    }
    app.mail_to("ada@example.com", "Confirm your email").await;
    assert_eq!(app.mail_count("nobody@example.com"), 0);
}

#[tokio::test]
async fn a_change_of_address_is_confirmed_from_the_new_address() {
    let app = spawn_app().await;
    app.new_browser().signed_up("bob@example.com").await;
    app.signed_up("ada@example.com").await;

    // Taken: the same answer, no mail, no change.
    let res = app
        .post_json("/change-email", &json!({"newEmail": "bob@example.com"}))
        .await;
    assert_eq!(res.json(), json!({"status": true}));
    let same = app
        .post_json("/change-email", &json!({"newEmail": "ADA@example.com"}))
        .await;
    assert_eq!(same.status, StatusCode::BAD_REQUEST);
    assert_eq!(same.json()["message"], "Email is the same");

    let res = app
        .post_json("/change-email", &json!({"newEmail": "ada@new.example"}))
        .await;
    assert_eq!(res.json(), json!({"status": true}));
    let (_, link) = app
        .mail_to("ada@new.example", "Confirm your new email")
        .await;
    assert_eq!(app.mail_count("bob@example.com"), 0);
    // Nothing changes until the link is followed.
    assert_eq!(app.session().await["user"]["email"], "ada@example.com");
    let res = app
        .get(&format!(
            "/verify-email?token={}",
            query_param(&link, "token")
        ))
        .await;
    assert_eq!(res.json()["status"], true);
    assert_eq!(res.json()["user"]["email"], "ada@new.example");
    let session = app.session().await;
    assert_eq!(session["user"]["email"], "ada@new.example");
    // Better Auth keeps emailVerified as it was.
    assert_eq!(session["user"]["emailVerified"], false);
    // Used again: the old address is gone.
    let again = app
        .get(&format!(
            "/verify-email?token={}",
            query_param(&link, "token")
        ))
        .await;
    again.assert_error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
    let new = app
        .new_browser()
        .sign_in("ada@new.example", PASSWORD, json!({}))
        .await;
    assert_eq!(new.status, StatusCode::OK);
    let old = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_ends_every_session() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let other = app.new_browser();
    other.sign_in("ada@example.com", PASSWORD, json!({})).await;

    let wrong = app
        .post_json("/delete-user", &json!({"password": "wrong-password"}))
        .await;
    wrong.assert_error(StatusCode::BAD_REQUEST, "INVALID_PASSWORD");
    assert!(app.user_row("ada@example.com").await.is_some());

    let res = app
        .post_json("/delete-user", &json!({"password": PASSWORD}))
        .await;
    assert_eq!(
        res.json(),
        json!({"success": true, "message": "User deleted"})
    );
    assert_eq!(
        res.set_cookie(SESSION_COOKIE).and_then(|c| c.max_age),
        Some(0)
    );
    assert!(app.user_row("ada@example.com").await.is_none());
    assert_eq!(other.session().await, Value::Null);
    assert_eq!(app.count("select count(*) from session").await, 0);
    assert_eq!(app.count("select count(*) from account").await, 0);
}

#[tokio::test]
async fn deleting_without_a_password_needs_a_fresh_session() {
    let app = spawn_app().await;
    let token = app.signed_up("ada@example.com").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.set_session_date(&token, "createdAt", "2020-01-01T00:00:00.000Z")
        .await;
    let res = app.post_json("/delete-user", &json!({})).await;
    res.assert_error(StatusCode::BAD_REQUEST, "SESSION_EXPIRED");
    let fresh = app.new_browser();
    fresh.sign_in("ada@example.com", PASSWORD, json!({})).await;
    let res = fresh.post_json("/delete-user", &json!({})).await;
    assert_eq!(res.json()["success"], true);
}

#[tokio::test]
async fn verify_password_list_accounts_and_update_session() {
    let app = spawn_app().await;
    let user = app.signed_up("ada@example.com").await["user"].clone();
    let ok = app
        .post_json("/verify-password", &json!({"password": PASSWORD}))
        .await;
    assert_eq!(ok.json(), json!({"status": true}));
    let bad = app
        .post_json("/verify-password", &json!({"password": "not-my-password"}))
        .await;
    bad.assert_error(StatusCode::BAD_REQUEST, "INVALID_PASSWORD");

    let accounts = app.get("/list-accounts").await.json();
    assert_eq!(accounts.as_array().map(Vec::len), Some(1));
    assert_eq!(accounts[0]["providerId"], "credential");
    assert_eq!(accounts[0]["accountId"], user["id"]);
    assert_eq!(accounts[0]["userId"], user["id"]);
    assert_eq!(accounts[0]["scopes"], json!([]));
    assert!(accounts[0].get("password").is_none());

    let res = app
        .post_json("/update-session", &json!({"anything": 1}))
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.json(), json!({"message": "No fields to update"}));
    let anonymous = app.new_browser();
    assert_eq!(
        anonymous.get("/list-accounts").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        anonymous
            .post_json("/verify-password", &json!({"password": "x"}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn with_verification_required_sign_up_opens_no_session_and_sign_in_waits_for_the_link() {
    let app = spawn_app_with(|_, env| {
        env.insert("HALLPASS_REQUIRE_EMAIL_VERIFICATION".into(), "true".into());
    })
    .await;
    let res = app
        .sign_up("ada@example.com", PASSWORD, json!({"callbackURL": "/"}))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["token"], Value::Null);
    assert!(res.set_cookie(SESSION_COOKIE).is_none());

    let early = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;
    early.assert_error(StatusCode::FORBIDDEN, "EMAIL_NOT_VERIFIED");
    // A wrong password is still the usual answer (nothing tells the account exists).
    let wrong = app
        .new_browser()
        .sign_in("ada@example.com", "wrong-password", json!({}))
        .await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD");

    let (_, link) = app.mail_to("ada@example.com", "Confirm your email").await;
    let res = app
        .get(&format!(
            "/verify-email?token={}",
            query_param(&link, "token")
        ))
        .await;
    assert_eq!(res.json(), json!({"status": true, "user": null}));
    let later = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;
    assert_eq!(later.status, StatusCode::OK);
}

/// Mail that cannot be delivered (no SMTP server listening) changes no answer: the request is
/// answered at once and the same way, and the failure goes to the log.
#[tokio::test]
async fn an_unreachable_smtp_server_changes_no_answer() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = spawn_app_with(move |_, env| {
        env.insert(
            "HALLPASS_SMTP_URL".into(),
            format!("smtp://127.0.0.1:{port}"),
        );
    })
    .await;
    app.signed_up("ada@example.com").await;
    let started = std::time::Instant::now();
    let res = app
        .post_json(
            "/request-password-reset",
            &json!({"email": "ada@example.com"}),
        )
        .await;
    assert_eq!(res.json()["status"], true);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // Nothing went to the outbox either: SMTP is configured.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.mail_count("ada@example.com"), 0);
    // The server keeps answering.
    assert_eq!(app.get("/ok").await.status, StatusCode::OK);
}

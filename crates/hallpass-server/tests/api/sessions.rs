//! Sessions: get-session, sliding refresh, expiry, sign-out, listing and revoking, bearer tokens
//! (reference, 2.3, 3 and 9.1).

use crate::helpers::*;
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Signs up `email` in the default browser and returns (user id, session token).
async fn signed_up(app: &TestApp, email: &str) -> (String, String) {
    let body = app.signed_up(email).await;
    (
        body["user"]["id"].as_str().expect("an id").to_owned(),
        body["token"].as_str().expect("a token").to_owned(),
    )
}

#[track_caller]
fn assert_cookies_expired(response: &TestResponse) {
    for name in [
        SESSION_COOKIE,
        "better-auth.session_data",
        DONT_REMEMBER_COOKIE,
    ] {
        let cookie = response
            .set_cookie(name)
            .unwrap_or_else(|| panic!("{name} is expired: {:?}", response.headers));
        assert_eq!(cookie.max_age, Some(0), "{}", cookie.raw);
        assert_eq!(cookie.value, "", "{}", cookie.raw);
    }
}

#[tokio::test]
async fn get_session_returns_the_session_and_user_and_is_not_cached() {
    // Arrange
    let app = spawn_app().await;
    let (user_id, token) = signed_up(&app, "ada@example.com").await;

    // Act
    let response = app.get("/get-session").await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
    assert_eq!(response.header("pragma").as_deref(), Some("no-cache"));
    let body = response.json();
    let session = body["session"].as_object().expect("a session object");
    let mut keys: Vec<&str> = session.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "createdAt",
            "expiresAt",
            "id",
            "ipAddress",
            "token",
            "updatedAt",
            "userAgent",
            "userId"
        ]
    );
    assert_eq!(session["token"], token.as_str());
    assert_eq!(session["userId"], user_id.as_str());
    assert_eq!(session["ipAddress"], "");
    assert_eq!(session["id"].as_str().map(str::len), Some(32));
    let user = &body["user"];
    assert_eq!(user["id"], user_id.as_str());
    assert_eq!(user["email"], "ada@example.com");
    assert!(user.get("software_background").is_some());
    assert!(user.get("password").is_none());
}

#[tokio::test]
async fn get_session_without_credentials_is_null() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/get-session").await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.text(), "null");
    assert_eq!(
        response.header("cache-control").as_deref(),
        Some("no-store")
    );
}

#[tokio::test]
async fn get_session_with_a_tampered_signature_is_null() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;
    let good = signed_cookie_value(&token);
    // Change the first character of the signature.
    let at = token.len() + 1;
    let flipped = if &good[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &good[..at], &good[at + 1..]);
    let forged = app.new_browser();
    forged.set_cookie(SESSION_COOKIE, &tampered);

    // Act
    let body = forged.session().await;

    // Assert
    assert_eq!(body, Value::Null);
    assert!(app.session_row(&token).await.is_some());
}

#[tokio::test]
async fn get_session_with_the_raw_token_as_cookie_is_null() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;
    let unsigned = app.new_browser();
    unsigned.set_cookie(SESSION_COOKIE, &token);

    // Act
    let body = unsigned.session().await;

    // Assert
    assert_eq!(body, Value::Null);
}

#[tokio::test]
async fn get_session_extends_a_session_last_extended_a_day_ago() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;
    let five_days = iso(Utc::now() + Duration::days(5));
    app.set_session_date(&token, "expiresAt", &five_days).await;

    // Act
    let response = app.get("/get-session").await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    let seven_days = Utc::now() + Duration::days(7);
    let body = response.json();
    assert_close(
        parse_iso(body["session"]["expiresAt"].as_str().unwrap_or("")),
        seven_days,
        60,
    );
    let (expires, _, updated, _) = app.session_row(&token).await.expect("the session");
    assert_close(parse_iso(&expires), seven_days, 60);
    assert_close(parse_iso(&updated), Utc::now(), 60);
    let cookie = response
        .set_cookie(SESSION_COOKIE)
        .expect("the cookie is sent again");
    assert_eq!(cookie.value, signed_cookie_value(&token));
    assert_eq!(cookie.max_age, Some(604800));
    assert!(response.header("set-auth-token").is_some());
}

#[tokio::test]
async fn get_session_with_disable_refresh_leaves_the_session_as_it_is() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;
    let five_days = iso(Utc::now() + Duration::days(5));
    app.set_session_date(&token, "expiresAt", &five_days).await;

    // Act
    let response = app.get("/get-session?disableRefresh=true").await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json()["session"]["expiresAt"], five_days.as_str());
    let (expires, ..) = app.session_row(&token).await.expect("the session");
    assert_eq!(expires, five_days);
    assert!(response.set_cookie(SESSION_COOKIE).is_none());
}

#[tokio::test]
async fn get_session_does_not_extend_a_fresh_session() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;
    let (before, ..) = app.session_row(&token).await.expect("the session");

    // Act
    let response = app.get("/get-session").await;

    // Assert
    assert!(response.set_cookie(SESSION_COOKIE).is_none());
    let (after, ..) = app.session_row(&token).await.expect("the session");
    assert_eq!(before, after);
}

#[tokio::test]
async fn get_session_does_not_extend_a_session_that_is_not_remembered() {
    // Arrange
    let app = spawn_app().await;
    let response = app
        .sign_up("brief@example.com", PASSWORD, json!({"rememberMe": false}))
        .await;
    let token = response.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let soon = iso(Utc::now() + Duration::hours(2));
    app.set_session_date(&token, "expiresAt", &soon).await;

    // Act
    let response = app.get("/get-session").await;

    // Assert
    assert_eq!(response.json()["session"]["expiresAt"], soon.as_str());
    let (expires, ..) = app.session_row(&token).await.expect("the session");
    assert_eq!(expires, soon);
}

#[tokio::test]
async fn an_expired_session_is_null_deleted_and_its_cookies_expired() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;
    let past = iso(Utc::now() - Duration::minutes(1));
    app.set_session_date(&token, "expiresAt", &past).await;

    // Act
    let response = app.get("/get-session").await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), Value::Null);
    assert!(app.session_row(&token).await.is_none());
    assert_cookies_expired(&response);
}

#[tokio::test]
async fn sign_out_deletes_the_session_and_expires_the_cookies() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;
    let stolen = app.cookie_header().expect("a session cookie");
    // Read once, so the server may hold it in its session cache.
    assert!(app.session().await["session"].is_object());

    // Act
    let response = app.post_json("/sign-out", &json!({})).await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"success": true}));
    assert!(app.session_row(&token).await.is_none());
    assert_cookies_expired(&response);
    assert_eq!(app.session().await, Value::Null);
    let replayed = app
        .send(
            app.raw()
                .get(app.url("/get-session"))
                .header("cookie", stolen),
        )
        .await;
    assert_eq!(replayed.json(), Value::Null, "a signed-out cookie is dead");
}

#[tokio::test]
async fn sign_out_without_a_session_still_succeeds() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.post_json("/sign-out", &json!({})).await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"success": true}));
}

#[tokio::test]
async fn list_sessions_returns_every_live_session_of_the_user() {
    // Arrange
    let app = spawn_app().await;
    let (user_id, first) = signed_up(&app, "ada@example.com").await;
    let other = app.new_browser();
    let second = other
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await
        .json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    app.new_browser()
        .signed_up("someone-else@example.com")
        .await;

    // Act
    let response = app.get("/list-sessions").await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let list = response.json();
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 2, "{list:?}");
    let mut tokens: Vec<&str> = list.iter().filter_map(|s| s["token"].as_str()).collect();
    tokens.sort_unstable();
    let mut expected = vec![first.as_str(), second.as_str()];
    expected.sort_unstable();
    assert_eq!(tokens, expected);
    assert!(list.iter().all(|s| s["userId"] == user_id.as_str()));
}

#[tokio::test]
async fn list_sessions_on_a_session_older_than_a_day_is_not_fresh() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;
    let two_days_ago = iso(Utc::now() - Duration::days(2));
    app.set_session_date(&token, "createdAt", &two_days_ago)
        .await;

    // Act
    let response = app.get("/list-sessions").await;

    // Assert
    let message = response.assert_error(StatusCode::FORBIDDEN, "SESSION_NOT_FRESH");
    assert_eq!(message, "Session is not fresh");
}

#[tokio::test]
async fn list_sessions_without_a_session_is_unauthorized() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/list-sessions").await;

    // Assert
    let message = response.assert_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(message, "Unauthorized");
}

#[tokio::test]
async fn revoking_a_foreign_token_changes_nothing_and_still_answers_true() {
    // Arrange
    let app = spawn_app().await;
    signed_up(&app, "ada@example.com").await;
    let victim = app.new_browser();
    let victim_token = victim.signed_up("victim@example.com").await["token"]
        .as_str()
        .expect("a token")
        .to_owned();

    // Act
    let response = app
        .post_json("/revoke-session", &json!({"token": victim_token}))
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"status": true}));
    assert!(app.session_row(&victim_token).await.is_some());
    assert_eq!(victim.session().await["session"]["token"], victim_token);
}

#[tokio::test]
async fn revoking_another_session_of_ones_own_ends_it() {
    // Arrange
    let app = spawn_app().await;
    let (_, mine) = signed_up(&app, "ada@example.com").await;
    let laptop = app.new_browser();
    let laptop_token = laptop
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await
        .json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    // Read once, so the server may hold it in its session cache.
    assert!(laptop.session().await["session"].is_object());

    // Act
    let response = app
        .post_json("/revoke-session", &json!({"token": laptop_token}))
        .await;

    // Assert
    assert_eq!(response.json(), json!({"status": true}));
    assert!(app.session_row(&laptop_token).await.is_none());
    assert_eq!(laptop.session().await, Value::Null);
    assert!(app.session_row(&mine).await.is_some());
    assert!(response.set_cookie(SESSION_COOKIE).is_none());
}

#[tokio::test]
async fn revoking_ones_current_session_expires_its_cookies() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;

    // Act
    let response = app
        .post_json("/revoke-session", &json!({"token": token}))
        .await;

    // Assert
    assert_eq!(response.json(), json!({"status": true}));
    assert!(app.session_row(&token).await.is_none());
    assert_cookies_expired(&response);
}

#[tokio::test]
async fn revoke_sessions_ends_every_session_of_the_user_only() {
    // Arrange
    let app = spawn_app().await;
    let (user_id, _) = signed_up(&app, "ada@example.com").await;
    let laptop = app.new_browser();
    laptop.sign_in("ada@example.com", PASSWORD, json!({})).await;
    let stranger = app.new_browser();
    stranger.signed_up("stranger@example.com").await;
    // Read once, so the server may hold them in its session cache.
    assert!(laptop.session().await["session"].is_object());
    assert!(stranger.session().await["session"].is_object());

    // Act
    let response = app.post_json("/revoke-sessions", &json!({})).await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"status": true}));
    assert_cookies_expired(&response);
    let left: i64 = sqlx::query_scalar("select count(*) from session where userId = ?")
        .bind(&user_id)
        .fetch_one(&app.db)
        .await
        .expect("a count");
    assert_eq!(left, 0);
    assert_eq!(laptop.session().await, Value::Null);
    assert!(stranger.session().await["session"].is_object());
}

#[tokio::test]
async fn revoke_other_sessions_keeps_only_the_current_one() {
    // Arrange
    let app = spawn_app().await;
    let (user_id, mine) = signed_up(&app, "ada@example.com").await;
    let laptop = app.new_browser();
    laptop.sign_in("ada@example.com", PASSWORD, json!({})).await;
    let phone = app.new_browser();
    phone.sign_in("ada@example.com", PASSWORD, json!({})).await;
    // Read once, so the server may hold them in its session cache.
    assert!(laptop.session().await["session"].is_object());
    assert!(phone.session().await["session"].is_object());

    // Act
    let response = app.post_json("/revoke-other-sessions", &json!({})).await;

    // Assert
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"status": true}));
    let left: Vec<String> = sqlx::query_scalar("select token from session where userId = ?")
        .bind(&user_id)
        .fetch_all(&app.db)
        .await
        .expect("tokens");
    assert_eq!(left, vec![mine.clone()]);
    assert_eq!(laptop.session().await, Value::Null);
    assert_eq!(phone.session().await, Value::Null);
    assert_eq!(app.session().await["session"]["token"], mine);
}

#[tokio::test]
async fn a_signed_bearer_token_authenticates_like_the_cookie() {
    // Arrange
    let app = spawn_app().await;
    let (user_id, token) = signed_up(&app, "ada@example.com").await;

    // Act
    let response = app
        .send(
            app.raw()
                .get(app.url("/get-session"))
                .bearer_auth(signed(&token)),
        )
        .await;

    // Assert
    assert_eq!(response.json()["user"]["id"], user_id.as_str());
}

#[tokio::test]
async fn a_url_encoded_signed_bearer_token_authenticates() {
    // Arrange
    let app = spawn_app().await;
    let (user_id, token) = signed_up(&app, "ada@example.com").await;

    // Act
    let response = app
        .send(
            app.raw()
                .get(app.url("/get-session"))
                .bearer_auth(signed_cookie_value(&token)),
        )
        .await;

    // Assert
    assert_eq!(response.json()["user"]["id"], user_id.as_str());
}

#[tokio::test]
async fn a_raw_bearer_token_authenticates() {
    // Arrange
    let app = spawn_app().await;
    let (user_id, token) = signed_up(&app, "ada@example.com").await;

    // Act
    let response = app
        .send(
            app.raw()
                .get(app.url("/get-session"))
                .header("authorization", format!("bearer {token}")),
        )
        .await;

    // Assert
    assert_eq!(response.json()["user"]["id"], user_id.as_str());
}

#[tokio::test]
async fn a_bearer_token_with_a_bad_signature_is_ignored() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;

    // Act
    let response = app
        .send(
            app.raw()
                .get(app.url("/get-session"))
                .bearer_auth(format!("{token}.{}", "A".repeat(43) + "=")),
        )
        .await;

    // Assert
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), Value::Null);
}

#[tokio::test]
async fn sign_in_sends_set_auth_token_and_exposes_it() {
    // Arrange
    let app = spawn_app().await;
    signed_up(&app, "ada@example.com").await;

    // Act
    let response = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await;

    // Assert
    let token = response.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_eq!(
        response.header("set-auth-token").as_deref(),
        Some(signed(&token).as_str())
    );
    let exposed = response
        .header("access-control-expose-headers")
        .unwrap_or_default();
    assert!(
        exposed
            .split(',')
            .any(|h| h.trim().eq_ignore_ascii_case("set-auth-token")),
        "{exposed}"
    );
}

#[tokio::test]
async fn the_set_auth_token_of_sign_in_works_as_a_bearer_token() {
    // Arrange
    let app = spawn_app().await;
    let (user_id, _) = signed_up(&app, "ada@example.com").await;
    let header = app
        .new_browser()
        .sign_in("ada@example.com", PASSWORD, json!({}))
        .await
        .header("set-auth-token")
        .expect("set-auth-token");

    // Act
    let response = app
        .send(app.raw().get(app.url("/get-session")).bearer_auth(header))
        .await;

    // Assert
    assert_eq!(response.json()["user"]["id"], user_id.as_str());
}

/// Signs in with extra request headers; returns the session as get-session shows it.
async fn session_signed_in_with(app: &TestApp, headers: &[(&str, &str)]) -> serde_json::Value {
    let mut request = app
        .raw()
        .post(app.url("/sign-in/email"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let token = response.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    app.send(app.raw().get(app.url("/get-session")).bearer_auth(token))
        .await
        .json()["session"]
        .clone()
}

#[tokio::test]
async fn a_session_records_the_forwarded_client_ip_and_the_user_agent() {
    // Arrange
    let app = spawn_app().await;
    signed_up(&app, "ada@example.com").await;

    // Act
    let session = session_signed_in_with(
        &app,
        &[
            ("x-forwarded-for", "203.0.113.7"),
            ("user-agent", "TestUA/1.0"),
        ],
    )
    .await;

    // Assert
    assert_eq!(session["ipAddress"], "203.0.113.7");
    assert_eq!(session["userAgent"], "TestUA/1.0");
}

#[tokio::test]
async fn a_forwarded_chain_of_several_ips_is_not_trusted() {
    // Arrange
    let app = spawn_app().await;
    signed_up(&app, "ada@example.com").await;

    // Act
    let session =
        session_signed_in_with(&app, &[("x-forwarded-for", "203.0.113.7, 198.51.100.2")]).await;

    // Assert
    assert_eq!(session["ipAddress"], "");
}

#[tokio::test]
async fn an_ipv4_mapped_ipv6_client_address_is_recorded_as_ipv4() {
    // Arrange
    let app = spawn_app().await;
    signed_up(&app, "ada@example.com").await;

    // Act
    let session = session_signed_in_with(&app, &[("x-forwarded-for", "::ffff:192.0.2.1")]).await;

    // Assert
    assert_eq!(session["ipAddress"], "192.0.2.1");
}

#[tokio::test]
async fn an_ipv6_client_address_is_recorded_expanded_and_masked_to_64_bits() {
    // Arrange
    let app = spawn_app().await;
    signed_up(&app, "ada@example.com").await;

    // Act
    let session =
        session_signed_in_with(&app, &[("x-forwarded-for", "2001:DB8:1:2:3:4:5:6")]).await;

    // Assert
    // Reference 8.3: IPv6 is expanded and masked to /64 (ipv6Subnet), and that is what is stored.
    assert_eq!(
        session["ipAddress"],
        "2001:0db8:0001:0002:0000:0000:0000:0000"
    );
}

#[tokio::test]
async fn get_session_with_disable_refresh_false_also_disables_refresh() {
    // Arrange
    let app = spawn_app().await;
    let (_, token) = signed_up(&app, "ada@example.com").await;
    let five_days = iso(Utc::now() + Duration::days(5));
    app.set_session_date(&token, "expiresAt", &five_days).await;

    // Act
    // zod's z.coerce.boolean(): any non-empty string, "false" included, is true.
    let response = app.get("/get-session?disableRefresh=false").await;

    // Assert
    assert_eq!(response.json()["session"]["expiresAt"], five_days.as_str());
    let (expires, ..) = app.session_row(&token).await.expect("the session");
    assert_eq!(expires, five_days);
}

#[tokio::test]
async fn list_sessions_leaves_out_expired_sessions() {
    // Arrange
    let app = spawn_app().await;
    let (user_id, mine) = signed_up(&app, "ada@example.com").await;
    let old = app.insert_session(&user_id).await;
    app.set_session_date(&old, "expiresAt", &iso(Utc::now() - Duration::hours(1)))
        .await;

    // Act
    let list = app.get("/list-sessions").await.json();

    // Assert
    let tokens: Vec<&str> = list
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|s| s["token"].as_str())
        .collect();
    assert_eq!(tokens, vec![mine.as_str()]);
}

#[tokio::test]
async fn an_https_base_url_makes_secure_prefixed_cookies() {
    // Arrange
    let app = spawn_app_with(|_, env| {
        let url = env["HALLPASS_BASE_URL"].replace("http://", "https://");
        env.insert("HALLPASS_BASE_URL".into(), url);
    })
    .await;

    // Act
    let response = app.sign_up("ada@example.com", PASSWORD, json!({})).await;

    // Assert
    let token = response.json()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let cookie = response
        .set_cookie("__Secure-better-auth.session_token")
        .expect("a __Secure- session cookie");
    assert_eq!(
        cookie.raw,
        format!(
            "__Secure-better-auth.session_token={}; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax",
            signed_cookie_value(&token)
        )
    );
    assert!(response.set_cookie(SESSION_COOKIE).is_none());
    assert_eq!(app.session().await["session"]["token"], token);
}

/// A session checked again is answered from memory (the rendered answer and JWT of the first
/// check): byte for byte what the first check answered, with the same headers.
#[tokio::test]
async fn a_repeated_check_answers_exactly_what_the_first_did() {
    let app = spawn_app().await;
    signed_up(&app, "repeat@example.com").await;

    let first = app.get("/get-session").await;
    let second = app.get("/get-session").await;

    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.text(), first.text());
    for name in [
        "content-type",
        "cache-control",
        "pragma",
        "set-auth-jwt",
        "access-control-expose-headers",
    ] {
        assert_eq!(second.header(name), first.header(name), "{name}");
    }
    assert_eq!(
        second.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(second.header("set-auth-jwt").is_some());
}

/// While many clients keep checking one session, each change to the user or the session is
/// seen by every check that starts after the change was answered: the remembered answer never
/// outlives what it shows.
#[tokio::test]
async fn concurrent_checks_never_see_an_answer_older_than_the_last_change() {
    let app = spawn_app().await;
    signed_up(&app, "busy@example.com").await;
    let cookie = app.cookie_header().expect("a session cookie");
    let url = app.url("/get-session");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Background checkers keep the remembered answer warm and racing with the changes.
    let checkers: Vec<_> = (0..6)
        .map(|_| {
            let (http, cookie, url, stop) = (app.raw(), cookie.clone(), url.clone(), stop.clone());
            tokio::spawn(async move {
                let mut checks = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = http.get(&url).header("cookie", &cookie).send().await;
                    assert_eq!(r.map(|r| r.status()).ok(), Some(StatusCode::OK));
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    for round in 0..12 {
        let name = format!("Name {round}");
        let updated = app
            .post_json("/update-user", &json!({ "name": name }))
            .await;
        assert_eq!(updated.status, StatusCode::OK);
        // Checks started after the answer, concurrently: all see the new name and a JWT that
        // says it.
        let seen = futures_join(&app, &cookie, &url, 6).await;
        for (body, jwt) in seen {
            assert_eq!(body["user"]["name"], json!(name), "round {round}");
            let claims = jwt_claims(&jwt);
            assert_eq!(claims["name"], json!(name), "round {round}: the JWT too");
        }
    }
    app.post_json("/sign-out", &json!({})).await;
    let after = app
        .raw()
        .get(&url)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("an answer");
    assert_eq!(after.text().await.expect("a body"), "null");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for c in checkers {
        total += c.await.expect("a checker");
    }
    assert!(total > 12, "the checkers ran ({total} checks)");
}

/// `n` concurrent get-session checks with this cookie: each body and its set-auth-jwt.
async fn futures_join(app: &TestApp, cookie: &str, url: &str, n: usize) -> Vec<(Value, String)> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (http, cookie, url) = (app.raw(), cookie.to_owned(), url.to_owned());
            tokio::spawn(async move {
                let r = http
                    .get(&url)
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .expect("an answer");
                let jwt = r
                    .headers()
                    .get("set-auth-jwt")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                (r.json::<Value>().await.expect("JSON"), jwt)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("a check"));
    }
    out
}

/// The claims of a JWT, unverified (the JWT tests check signatures).
fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

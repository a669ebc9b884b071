//! The service-to-service bridge: `GET /internal/user` behind `X-Internal-Secret`.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const INTERNAL: &str = "internal-secret-0123456789-abcdefghijklmnop";

async fn bridged() -> TestApp {
    spawn_app_with(|_, env| {
        env.insert("HALLPASS_INTERNAL_SECRET".into(), INTERNAL.into());
    })
    .await
}

/// `GET /internal/user{query}` with the secret and extra headers.
async fn internal(
    app: &TestApp,
    query: &str,
    secret: Option<&str>,
    headers: &[(&str, String)],
) -> TestResponse {
    let mut req = app
        .raw()
        .get(format!("{}/internal/user{query}", app.address));
    if let Some(s) = secret {
        req = req.header("x-internal-secret", s);
    }
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    app.send(req).await
}

/// Signs up through the Better Auth API; returns (token, user).
async fn reader(app: &TestApp) -> (String, Value) {
    let b = app.new_browser();
    let body = b.signed_up(&unique_email("internal")).await;
    (
        body["token"].as_str().unwrap().to_owned(),
        body["user"].clone(),
    )
}

#[tokio::test]
async fn without_a_configured_secret_the_bridge_does_not_exist() {
    let app = spawn_app().await;
    internal(&app, "?id=x", Some("anything"), &[])
        .await
        .assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn a_missing_or_wrong_secret_is_refused() {
    let app = bridged().await;
    let (_, user) = reader(&app).await;
    let q = format!("?id={}", user["id"].as_str().unwrap());
    internal(&app, &q, None, &[])
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INVALID_INTERNAL_SECRET");
    internal(
        &app,
        &q,
        Some("internal-secret-0123456789-abcdefghijklmnoq"),
        &[],
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "INVALID_INTERNAL_SECRET");
}

#[tokio::test]
async fn repeated_wrong_secrets_are_throttled_without_being_compared() {
    let app = bridged().await;
    for _ in 0..5 {
        let r = internal(&app, "?id=x", Some("guess"), &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    internal(&app, "?id=x", Some("guess"), &[])
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS");
    // Locked out, a right guess is not confirmed either.
    let r = internal(&app, "?id=x", Some(INTERNAL), &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_secrets_get_no_more_comparisons_than_the_budget() {
    // A burst of guesses at once, five times over (a fresh budget each time).
    for _ in 0..5 {
        let app = bridged().await;
        let guesses = (0..24).map(|i| {
            let req = app
                .raw()
                .get(format!("{}/internal/user?id=x", app.address))
                .header("x-internal-secret", format!("guess-{i}"));
            async move { req.send().await.unwrap().status() }
        });
        let statuses = futures_join_all(guesses).await;
        let compared = statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!((compared, refused), (5, 19), "{statuses:?}");
    }
}

/// Runs the futures at once and collects their outputs in order.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    fs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_right_secret_does_not_use_up_the_budget() {
    let app = bridged().await;
    let (_, user) = reader(&app).await;
    let q = format!("?id={}", user["id"].as_str().unwrap());
    for _ in 0..10 {
        let r = internal(&app, &q, Some(INTERNAL), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = internal(&app, &q, Some("wrong"), &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_reader_is_identified_from_a_forwarded_cookie() {
    let app = bridged().await;
    let (token, user) = reader(&app).await;
    let cookie = format!("{SESSION_COOKIE}={}", signed_cookie_value(&token));
    let r = internal(&app, "", Some(INTERNAL), &[("cookie", cookie)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["user"]["id"], user["id"]);
    assert!(body["user"]
        .as_object()
        .unwrap()
        .contains_key("software_background"));
    assert_eq!(body["session"]["userId"], user["id"]);
    assert!(
        body["session"].get("token").is_none(),
        "the token is not handed out"
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
}

#[tokio::test]
async fn a_forwarded_jwt_is_refused_as_soon_as_its_session_is_signed_out() {
    let app = bridged().await;
    let b = app.new_browser();
    b.signed_up(&unique_email("strict")).await;
    let jwt = b.get("/token").await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {jwt}");
    let r = internal(
        &app,
        "",
        Some(INTERNAL),
        &[("authorization", bearer.clone())],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        b.post_json("/sign-out", &json!({})).await.status,
        StatusCode::OK
    );
    internal(&app, "", Some(INTERNAL), &[("authorization", bearer)])
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_user_is_found_by_id_or_email_without_a_session() {
    let app = bridged().await;
    let (_, user) = reader(&app).await;
    for q in [
        format!("?id={}", user["id"].as_str().unwrap()),
        format!("?email={}", user["email"].as_str().unwrap().to_uppercase()),
    ] {
        let r = internal(&app, &q, Some(INTERNAL), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text());
        assert_eq!(r.json()["user"]["id"], user["id"]);
        assert_eq!(r.json()["session"], Value::Null);
    }
    internal(&app, "?id=nobody", Some(INTERNAL), &[])
        .await
        .assert_error(StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    internal(&app, "", Some(INTERNAL), &[])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    internal(
        &app,
        "",
        Some(INTERNAL),
        &[("authorization", "Bearer nonsense".into())],
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

#[tokio::test]
async fn with_an_internal_listener_the_bridge_is_not_on_the_public_one() {
    let app = spawn_app_with(|_, env| {
        env.insert("HALLPASS_INTERNAL_SECRET".into(), INTERNAL.into());
        env.insert("HALLPASS_INTERNAL_LISTEN".into(), "127.0.0.1:1".into());
    })
    .await;
    let (_, user) = reader(&app).await;
    let q = format!("?id={}", user["id"].as_str().unwrap());
    internal(&app, &q, Some(INTERNAL), &[])
        .await
        .assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    // The internal router, served as `serve` serves it on HALLPASS_INTERNAL_LISTEN.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let router = hallpass_server::app::internal_router(app.state.clone());
    let limits = app.state.config.server.clone();
    let server = tokio::spawn(async move {
        let forever = std::future::pending::<()>();
        let _ = hallpass_server::serve::serve(listener, router, &limits, forever).await;
    });
    let r = app
        .send(
            app.raw()
                .get(format!("{address}/internal/user{q}"))
                .header("x-internal-secret", INTERNAL),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .send(app.raw().get(format!("{address}/api/auth/ok")))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "only /internal is served there"
    );
    server.abort();
}

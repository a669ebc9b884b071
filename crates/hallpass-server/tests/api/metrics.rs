//! `GET /metrics`: Prometheus text with requests by route and status, latency histograms, the
//! hashing queue, the database pool and the session cache; off the public listener when the
//! internal one is configured. (The recorder is per process, shared by the apps of this test
//! binary: assertions compare two scrapes of one app, or look for labels only this test makes.)

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

async fn scrape(app: &TestApp) -> String {
    let res = app
        .send(app.raw().get(format!("{}/metrics", app.address)))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain; version=0.0.4")));
    res.text()
}

/// The value of the sample whose line starts with `series` (name and labels as written).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(series))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_cache_hashing_and_pool() {
    let app = spawn_app().await;
    app.signed_up("ada@example.com").await;
    let before = scrape(&app).await;

    for _ in 0..5 {
        assert_eq!(app.get("/get-session").await.status, StatusCode::OK);
    }
    let wrong = app
        .new_browser()
        .sign_in("ada@example.com", "wrong-password", json!({}))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let after = scrape(&app).await;

    let ok =
        r#"hallpass_http_requests_total{route="/api/auth/get-session",method="GET",status="200"}"#;
    assert!(sample(&after, ok) - sample(&before, ok) >= 5.0, "{after}");
    let refused = r#"hallpass_http_requests_total{route="/api/auth/sign-in/email",method="POST",status="401"}"#;
    assert!(sample(&after, refused) - sample(&before, refused) >= 1.0);
    for needle in [
        r#"hallpass_http_request_duration_seconds_bucket{route="/api/auth/get-session",method="GET",le="0.001"}"#,
        "hallpass_session_cache_total{result=\"hit\"}",
        "hallpass_session_reads_total",
        "hallpass_hash_wait_seconds_count",
        "hallpass_hash_seconds_count",
        "hallpass_hash_queue_depth",
        "hallpass_db_connections{state=\"idle\"}",
        "# TYPE hallpass_session_cache_bytes gauge",
        "# TYPE hallpass_http_request_duration_seconds histogram",
    ] {
        assert!(after.contains(needle), "{needle} missing in\n{after}");
    }
    let hits = "hallpass_session_cache_total{result=\"hit\"}";
    assert!(sample(&after, hits) - sample(&before, hits) >= 4.0);
    // Paths that match no route are not labelled by what the client sent.
    app.get("/no-such-route-xyz").await;
    assert!(!scrape(&app).await.contains("no-such-route-xyz"));
}

#[tokio::test]
async fn with_an_internal_listener_metrics_are_not_public() {
    let app = spawn_app_with(|_, env| {
        env.insert(
            "HALLPASS_INTERNAL_SECRET".into(),
            "an-internal-secret-0123456789-abcdefghij".into(),
        );
        env.insert("HALLPASS_INTERNAL_LISTEN".into(), "127.0.0.1:1".into());
    })
    .await;
    let res = app
        .send(app.raw().get(format!("{}/metrics", app.address)))
        .await;
    res.assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    // The internal router serves it.
    let internal = hallpass_server::app::internal_router(app.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = app.state.config.server.clone();
    tokio::spawn(async move {
        let forever = std::future::pending::<()>();
        let _ = hallpass_server::serve::serve(listener, internal, &limits, forever).await;
    });
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("hallpass_"), "{text}");
}

/// On PostgreSQL the statements that read session checks are counted, next to the checks read.
#[tokio::test]
async fn on_postgres_the_statements_reading_session_checks_are_counted() {
    use hallpass_core::cache::Invalidation;
    let Some(db) = crate::pg::ScratchDatabase::create().await else {
        return;
    };
    let url = db.url.clone();
    let app = spawn_app_with(|_, env| {
        env.insert("DATABASE_URL".into(), url);
    })
    .await;
    app.signed_up("ada@example.com").await;
    let before = scrape(&app).await;
    for _ in 0..4 {
        // Dropped from memory, so the check reads the database.
        app.state.auth.apply_invalidation(&Invalidation::All);
        assert_eq!(app.get("/get-session").await.status, StatusCode::OK);
    }
    let after = scrape(&app).await;
    let statements = "hallpass_db_session_read_statements_total";
    let reads = "hallpass_session_reads_total";
    let (statements, reads) = (
        sample(&after, statements) - sample(&before, statements),
        sample(&after, reads) - sample(&before, reads),
    );
    // Other tests of this binary may read sessions on PostgreSQL at the same time (the recorder is
    // the process's), so only lower bounds hold.
    assert!(statements >= 1.0, "no statement counted in\n{after}");
    assert!(
        reads >= 4.0,
        "{reads} reads counted for four checks that missed the cache"
    );
    drop(app);
    db.drop_now().await;
}

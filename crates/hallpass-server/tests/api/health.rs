//! The liveness and readiness routes.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

/// `GET /api/auth/ok` answers as Better Auth's does (its client's `ok` check reads the body), and
/// `/healthz` and `/readyz` say the process is alive and the database reachable.
#[tokio::test]
async fn liveness_and_readiness_answer() {
    let app = spawn_app().await;
    let ok = app.get("/ok").await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json(), json!({"ok": true}));
    assert_eq!(
        ok.header("content-type").as_deref(),
        Some("application/json")
    );
    for path in ["/healthz", "/readyz"] {
        let res = app
            .raw()
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

//! `GET /api/auth/ok` (Better Auth's liveness answer), `GET /healthz` and `GET /readyz`.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// `/ok` under `/api/auth`.
pub fn api_router() -> Router<AppState> {
    Router::new().route("/ok", get(|| async { Json(json!({"ok": true})) }))
}

/// `/healthz` and `/readyz` at the root.
pub fn root_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(ready))
}

/// Ready when the database answers.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.auth.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": state.auth.store().backend()})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": state.auth.store().backend()})),
            )
        }
    }
}

//! `GET /api/auth/ok` (Better Auth's liveness answer), `GET /healthz` and `GET /readyz`.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `/ok` under `/api/auth`.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ok))
}

/// `/healthz` and `/readyz` at the root.
pub fn root_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(ready))
}

/// `{"ok": true}`.
#[derive(ToSchema)]
pub struct OkBody {
    /// Always true.
    pub ok: bool,
}

/// The process answers.
#[derive(ToSchema)]
pub struct Liveness {
    /// `ok`.
    pub status: String,
}

/// Whether the database answers.
#[derive(ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: String,
    /// The database in use: `sqlite` or `postgres`.
    pub database: String,
}

/// Better Auth's liveness answer.
#[utoipa::path(
    get,
    path = "/api/auth/ok",
    tag = crate::openapi::tag::BETTER_AUTH,
    responses((status = 200, description = "Alive", body = OkBody)),
)]
async fn ok() -> impl axum::response::IntoResponse {
    // A constant: written out, not built as a JSON value and serialized on every request.
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        r#"{"ok":true}"#,
    )
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = crate::openapi::tag::HEALTH,
    responses((status = 200, description = "Alive", body = Liveness)),
)]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = crate::openapi::tag::HEALTH,
    responses(
        (status = 200, description = "The database answers", body = Readiness),
        (status = 503, description = "The database does not answer", body = Readiness),
    ),
)]
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

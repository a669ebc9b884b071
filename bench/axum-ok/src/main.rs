//! The HTTP ceiling for `bench/run`: the least an axum 0.8 server on tokio's multi-threaded runtime
//! can do per request, `GET /ok` answered `{"ok":true}` (application/json), so hallpass's own
//! `GET /api/auth/ok` can be compared with it on the same machine and the same load.
//!
//! Usage: `axum-ok [PORT]` (or `PORT` in the environment; default 4200). Listens on 127.0.0.1 only.

use axum::{http::header, response::IntoResponse, routing::get, Router};

async fn ok() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"ok":true}"#,
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .unwrap_or_else(|| "4200".to_owned());
    let port: u16 = port.trim().parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("axum-ok: not a port: {port}"),
        )
    })?;
    let app = Router::new().route("/ok", get(ok));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("axum-ok listening on http://127.0.0.1:{port}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

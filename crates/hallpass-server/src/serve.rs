//! The HTTP listener with the limits a server on the open internet needs (`[server]`):
//!
//! - HTTP/1.1; a request head (line and headers) must arrive within `header_timeout` of the connection
//!   opening or of the previous answer, so slow or idle connections are closed (slowloris);
//! - a request must be answered within `request_timeout`, body upload included: past it the answer
//!   is 408 in the wire's error shape and the connection closes;
//! - at most `max_connections` connections are open (more wait in the kernel's accept queue);
//! - at most `max_requests` requests are handled at once; more are answered 503 at once, so a flood
//!   cannot queue unbounded work.

use crate::config::ServerLimits;
use crate::http::error::ApiError;
use axum::body::Body;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The request-level limits, as a middleware: the deadline and the bound on requests in flight.
#[derive(Clone)]
pub struct RequestLimits {
    deadline: Duration,
    in_flight: Arc<Semaphore>,
}

impl RequestLimits {
    /// From the configuration.
    pub fn new(limits: &ServerLimits) -> RequestLimits {
        RequestLimits {
            deadline: Duration::from_secs(limits.request_timeout),
            in_flight: Arc::new(Semaphore::new(limits.max_requests)),
        }
    }
}

/// Answers 503 when `max_requests` are in flight, and 408 past the deadline.
pub async fn bound_requests(
    State(limits): State<RequestLimits>,
    req: Request,
    next: Next,
) -> Response {
    let Ok(_permit) = limits.in_flight.try_acquire() else {
        let mut res = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "The server is busy. Please try again later.",
        )
        .into_response();
        res.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, 1.into());
        return res;
    };
    match tokio::time::timeout(limits.deadline, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            let mut res = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
                "The request took too long",
            )
            .into_response();
            res.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            res
        }
    }
}

/// Serves `app` on `listener` under the connection limits until `shutdown` resolves, then lets the
/// connections in flight finish (at most `request_timeout`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // HTTP/1.1 only: browsers reach hallpass over HTTP/1.1 (h2 needs TLS, which a proxy in front
    // terminates), and detecting h2c would wait for a first byte before any timeout starts.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_timeout))
        .max_buf_size(64 * 1024);
    let builder = Arc::new(builder);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(remote));
                app.clone().oneshot(req)
            });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let grace = Duration::from_secs(limits.request_timeout);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the grace period; closing them");
    }
    Ok(())
}

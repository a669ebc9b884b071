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
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use pin_project_lite::pin_project;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tower::{Layer, Service, ServiceExt};

/// The outermost middleware: the bound on requests in flight (503 past it), the request deadline
/// (408 past it), a 500 in the wire's error shape instead of a dropped connection if a handler
/// panics, and the request's tracing span. One future around the rest of the stack, nothing boxed;
/// the deadline's timer is only set when a request has to wait (most are answered at their first
/// poll).
#[derive(Clone)]
pub struct Front {
    deadline: Duration,
    in_flight: Arc<Semaphore>,
}

impl Front {
    /// From the configuration.
    pub fn new(limits: &ServerLimits) -> Front {
        Front {
            deadline: Duration::from_secs(limits.request_timeout),
            in_flight: Arc::new(Semaphore::new(limits.max_requests)),
        }
    }
}

impl<S> Layer<S> for Front {
    type Service = FrontService<S>;

    fn layer(&self, inner: S) -> FrontService<S> {
        FrontService {
            front: self.clone(),
            inner,
        }
    }
}

/// [`Front`] around a service.
#[derive(Clone)]
pub struct FrontService<S> {
    front: Front,
    inner: S,
}

impl<S> Service<Request> for FrontService<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = FrontFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let Ok(permit) = Arc::clone(&self.front.in_flight).try_acquire_owned() else {
            return FrontFuture::Answered { res: Some(busy()) };
        };
        let span =
            tracing::debug_span!("request", method = %req.method(), path = %req.uri().path());
        let route = span.in_scope(|| self.inner.call(req));
        FrontFuture::Running {
            route,
            permit: Some(permit),
            deadline: self.front.deadline,
            timer: None,
            span,
        }
    }
}

pin_project! {
    /// The rest of the stack's future, bounded and watched.
    #[project = FrontProj]
    pub enum FrontFuture<F> {
        /// The request is being handled.
        Running {
            #[pin]
            route: F,
            // Held until the answer is ready.
            permit: Option<OwnedSemaphorePermit>,
            deadline: Duration,
            // Set the first time the route is not ready at once.
            timer: Option<Pin<Box<Sleep>>>,
            span: tracing::Span,
        },
        /// Answered without running the route.
        Answered { res: Option<Response> },
    }
}

impl<F> Future for FrontFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (route, permit, deadline, timer, span) = match self.project() {
            FrontProj::Running {
                route,
                permit,
                deadline,
                timer,
                span,
            } => (route, permit, deadline, timer, span),
            FrontProj::Answered { res } => return Poll::Ready(Ok(res.take().unwrap_or_default())),
        };
        if permit.is_none() {
            // Polled again after it answered (which callers do not do): an empty answer.
            return Poll::Ready(Ok(Response::default()));
        }
        let polled = {
            let _entered = span.enter();
            std::panic::catch_unwind(AssertUnwindSafe(|| route.poll(cx)))
        };
        let res = match polled {
            Ok(Poll::Ready(Ok(res))) => res,
            Ok(Poll::Pending) => {
                let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(*deadline)));
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                timed_out()
            }
            Err(_) => ApiError::internal("a handler panicked").into_response(),
        };
        *permit = None;
        Poll::Ready(Ok(res))
    }
}

fn busy() -> Response {
    let mut res = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
        "The server is busy. Please try again later.",
    )
    .into_response();
    res.headers_mut()
        .insert(axum::http::header::RETRY_AFTER, 1.into());
    res
}

fn timed_out() -> Response {
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

/// Serves `app` on `listener` under the connection limits until `shutdown` resolves, then lets the
/// connections in flight finish (at most `request_timeout`).
pub async fn serve(
    listener: TcpListener,
    app: crate::app::App,
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn front(max_requests: usize) -> Front {
        Front {
            deadline: Duration::from_millis(200),
            in_flight: Arc::new(Semaphore::new(max_requests)),
        }
    }

    async fn answer<S>(service: &mut S) -> Response
    where
        S: Service<Request, Response = Response, Error = Infallible>,
    {
        let Ok(res) = service
            .ready()
            .await
            .map(|s| s.call(Request::new(Body::empty())));
        let Ok(res) = res.await;
        res
    }

    /// A route that panics is answered 500 in the wire's error shape, and its slot among the
    /// requests in flight is given back (with room for one, the next request still runs).
    #[tokio::test]
    async fn a_panicking_route_is_answered_500_and_frees_its_slot() {
        let mut service = front(1).layer(tower::service_fn(|_: Request| async {
            std::panic::panic_any("a route panicked");
            #[allow(unreachable_code)]
            Ok::<Response, Infallible>(Response::default())
        }));
        for _ in 0..2 {
            let res = answer(&mut service).await;
            assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let body = axum::body::to_bytes(res.into_body(), 1024).await;
            let body = body.map(|b| String::from_utf8_lossy(&b).into_owned());
            assert!(body.is_ok_and(|b| b.contains("INTERNAL_SERVER_ERROR")));
        }
    }

    /// A route still waiting at the deadline is answered 408 and its connection closed; one that
    /// answers at once never starts a timer.
    #[tokio::test]
    async fn a_route_past_the_deadline_is_answered_408() {
        let mut slow = front(4).layer(tower::service_fn(|_: Request| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<Response, Infallible>(Response::default())
        }));
        let res = answer(&mut slow).await;
        assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(
            res.headers().get(axum::http::header::CONNECTION),
            Some(&axum::http::HeaderValue::from_static("close"))
        );
        let mut quick = front(4).layer(tower::service_fn(|_: Request| async {
            Ok::<Response, Infallible>(Response::default())
        }));
        assert_eq!(answer(&mut quick).await.status(), StatusCode::OK);
    }

    /// Past `max_requests` in flight, a request is answered 503 at once with Retry-After.
    #[tokio::test]
    async fn past_the_bound_a_request_is_answered_503() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let held = Arc::clone(&gate);
        let mut service = front(1).layer(tower::service_fn(move |_: Request| {
            let held = Arc::clone(&held);
            async move {
                held.notified().await;
                Ok::<Response, Infallible>(Response::default())
            }
        }));
        let Ok(first) = service
            .ready()
            .await
            .map(|s| s.call(Request::new(Body::empty())));
        let first = tokio::spawn(first);
        let res = answer(&mut service).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(res.headers().contains_key(axum::http::header::RETRY_AFTER));
        gate.notify_one();
        assert!(matches!(first.await, Ok(Ok(r)) if r.status() == StatusCode::OK));
    }
}

//! Middleware without per-request boxing.
//!
//! `axum::middleware::from_fn` is convenient but costs, on every request, a clone of the boxed
//! inner service and a boxed future; with five of them glibc's malloc and free were 40% of the
//! cheapest route's instructions. Most of hallpass's middleware only looks at the request before
//! the route runs (and may answer instead of it) and touches the answer after: [`Around`] says
//! that much, and [`AroundLayer`] turns it into a tower layer whose future wraps the route's future
//! in place. What needs to wait for something before the route runs (the rate limiter) or around
//! it (the request deadline) has its own service.

use axum::extract::Request;
use axum::response::Response;
use pin_project_lite::pin_project;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tower::{Layer, Service};

/// What a middleware does around a request.
pub trait Around: Clone + Send + Sync + 'static {
    /// What `before` hands to `after`.
    type Carry: Send + 'static;
    /// Runs before the route: `Err` is the answer, and the route does not run.
    // An answer is 128 bytes, moved once; boxing it would add the allocation this module avoids.
    #[allow(clippy::result_large_err)]
    fn before(&self, req: &mut Request) -> Result<Self::Carry, Response>;
    /// Runs on the route's answer.
    fn after(carry: Self::Carry, res: &mut Response);
}

/// The tower layer for an [`Around`].
#[derive(Clone)]
pub struct AroundLayer<M>(pub M);

impl<M: Around, S> Layer<S> for AroundLayer<M> {
    type Service = AroundService<M, S>;

    fn layer(&self, inner: S) -> Self::Service {
        AroundService {
            around: self.0.clone(),
            inner,
        }
    }
}

/// An [`Around`] in front of a service.
#[derive(Clone)]
pub struct AroundService<M, S> {
    around: M,
    inner: S,
}

impl<M, S> Service<Request> for AroundService<M, S>
where
    M: Around,
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AroundFuture<M::Carry, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        match self.around.before(&mut req) {
            Ok(carry) => AroundFuture::Route {
                route: self.inner.call(req),
                carry: Some(carry),
                after: M::after,
            },
            Err(res) => AroundFuture::Answered { res: Some(res) },
        }
    }
}

pin_project! {
    /// The route's future with [`Around::after`] to run on its answer, or the answer `before`
    /// gave.
    #[project = AroundProj]
    pub enum AroundFuture<C, F> {
        /// The route runs.
        Route {
            #[pin]
            route: F,
            carry: Option<C>,
            after: fn(C, &mut Response),
        },
        /// `before` answered.
        Answered { res: Option<Response> },
    }
}

impl<C, F> Future for AroundFuture<C, F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            AroundProj::Route {
                route,
                carry,
                after,
            } => {
                let Ok(mut res) = ready!(route.poll(cx));
                if let Some(carry) = carry.take() {
                    after(carry, &mut res);
                }
                Poll::Ready(Ok(res))
            }
            // Polled again after it answered (which callers do not do): an empty answer.
            AroundProj::Answered { res } => Poll::Ready(Ok(res.take().unwrap_or_default())),
        }
    }
}

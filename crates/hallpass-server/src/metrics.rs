//! Prometheus metrics at `GET /metrics` (on the internal listener when there is one, else on the
//! public one), through the `metrics` facade and its Prometheus exporter:
//!
//! - `hallpass_http_requests_total{route,method,status}` and
//!   `hallpass_http_request_duration_seconds{route,method}` (histogram), by matched route;
//! - `hallpass_hash_queue_depth`, `hallpass_hash_wait_seconds`, `hallpass_hash_seconds`,
//!   `hallpass_hash_refused_total`, `hallpass_hash_paired_total`, `hallpass_hash_running` and
//!   `hallpass_hash_scratch_bytes` (the password-hashing pool: threads hashing now, and the scrypt
//!   working memory its threads hold);
//! - `hallpass_db_connections{state="busy|idle"}` (the pool, read at each scrape) and, on
//!   PostgreSQL, `hallpass_db_session_read_statements_total` (the statements that read session
//!   checks: against `hallpass_session_reads_total`, how many checks shared each);
//! - `hallpass_session_cache_total{result="hit|miss|bypass"}` and `hallpass_session_cache_bytes`
//!   (its estimated size, read at each scrape);
//! - `hallpass_invalidations_received_total{kind}` (changes announced by other processes).

use crate::http::around::Around;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Latency buckets in seconds: session checks live in the first ones, password hashing in the
/// last ones.
pub const BUCKETS: [f64; 14] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process's recorder, installed once (every application in the process shares it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("seconds".into()), &BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new())
        };
        let handle = match builder().install_recorder() {
            Ok(handle) => handle,
            Err(e) => {
                // Another recorder owns the process: serve an empty document rather than fail.
                tracing::warn!(error = %e, "metrics recorder not installed");
                builder().build_recorder().handle()
            }
        };
        if let Err(e) = keep_up(handle.clone(), UPKEEP_EVERY) {
            tracing::warn!(error = %e, "metrics upkeep thread not started: histograms drain only when scraped");
        }
        handle
    })
}

/// How often the exporter's histograms are drained when nothing scrapes them. What waits for it
/// is one sample per request: at 100k requests a second, a second of them is under 1 MiB. With
/// five seconds (the first setting) `bench/run` ended at 23.2 MiB resident, with one at 17.1.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs the exporter's upkeep every `every` on a thread of its own, for as long as the process
/// lives. The exporter keeps every histogram sample (one a request) until upkeep folds them
/// into buckets, and only a scrape of `/metrics` would do it otherwise: without a scraper the
/// process grew without bound (6.9 MiB over a 20-second benchmark; see bench/README.md).
pub fn keep_up(handle: PrometheusHandle, every: std::time::Duration) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("hallpass-metrics".into())
        .stack_size(64 * 1024)
        .spawn(move || loop {
            std::thread::sleep(every);
            handle.run_upkeep();
        })
        .map(drop)
}

fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

type Handles = (metrics::Counter, metrics::Histogram);
// Keys are route templates and (method, status) pairs, never raw client input: a fast hash is safe.
type ByRoute = FxHashMap<Box<str>, FxHashMap<(&'static str, u16), Handles>>;

thread_local! {
    /// This thread's handles per route, method and status: after the first request of a kind on
    /// a thread, a request is counted without a registry lookup, a lock or an allocation.
    static HANDLES: RefCell<ByRoute> = RefCell::new(FxHashMap::default());
}

/// Counts one request to `route` and records how long it took.
fn record(route: &str, method: &'static str, status: u16, seconds: f64) {
    HANDLES.with(|cell| {
        let mut map = cell.borrow_mut();
        let by_kind = match map.get_mut(route) {
            Some(by_kind) => by_kind,
            None => map.entry(route.into()).or_default(),
        };
        let (requests, duration) = by_kind.entry((method, status)).or_insert_with(|| {
            let route = route.to_owned();
            (
                metrics::counter!(
                    "hallpass_http_requests_total",
                    "route" => route.clone(),
                    "method" => method,
                    "status" => status.to_string()
                ),
                metrics::histogram!(
                    "hallpass_http_request_duration_seconds",
                    "route" => route,
                    "method" => method
                ),
            )
        });
        duration.record(seconds);
        requests.increment(1);
    });
}

/// The middleware that counts and times each request to a matched route (a route layer: the
/// route's template is known).
#[derive(Clone, Copy)]
pub struct Track;

impl Around for Track {
    type Carry = Option<(MatchedPath, &'static str, Instant)>;

    fn before(&self, req: &mut Request) -> Result<Self::Carry, Response> {
        Ok(req
            .extensions()
            .get::<MatchedPath>()
            .map(|route| (route.clone(), method_label(req.method()), Instant::now())))
    }

    fn after(carry: Self::Carry, res: &mut Response) {
        let Some((route, method, started)) = carry else {
            return;
        };
        record(
            route.as_str(),
            method,
            res.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
}

/// `GET /metrics`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(scrape))
}

/// Prometheus metrics, in the text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = crate::openapi::tag::HEALTH,
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain; version=0.0.4")),
)]
async fn scrape(State(state): State<AppState>) -> Response {
    if let Some((open, idle)) = state.auth.store().pool_stats() {
        let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(open);
        metrics::gauge!("hallpass_db_connections", "state" => "idle").set(f64::from(idle));
        metrics::gauge!("hallpass_db_connections", "state" => "busy").set(f64::from(open - idle));
    }
    // Precision loss above 2^52 bytes is of no concern.
    #[allow(clippy::cast_precision_loss)]
    let cache_bytes = state.auth.session_cache_bytes() as f64;
    metrics::gauge!("hallpass_session_cache_bytes").set(cache_bytes);
    let handle = handle();
    handle.run_upkeep();
    let mut res = handle.render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}

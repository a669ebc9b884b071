//! Rate limiting as Better Auth does it (reference, 8.1), plus a per-account brake on failed
//! sign-ins.
//!
//! - Each request is counted under `<client>|<path>`, the path being the route the router matched
//!   (so `//api/auth/sign-in/email`, `/API/...`, a trailing slash or percent-encoding reach no
//!   handler and no new bucket), the REST aliases counted with the Better Auth routes they mirror.
//!   Sign-in, sign-up, change-password and change-email allow 3 per 10 s, password-reset and
//!   verification mail 3 per 60 s, other writes `window`/`max`. Reads (GET) are not limited: they
//!   present unguessable tokens, and a backend's strict checks all come from one address.
//! - Counters live in memory (one process) or in the database's `rateLimit` table (every process
//!   on it); a database error falls back to memory rather than failing the request.
//! - Failed sign-ins are also counted per account (an address rotating attacker shares that
//!   bucket). While an account is locked, sign-ins to it are refused, except from a browser that
//!   carries a `known_device` cookie for it (set by an earlier successful sign-in there), so the
//!   lock slows guessing without locking the owner out.

use crate::config::RateLimitConfig;
use crate::http::client_ip::{bucket, client_ip};
use crate::http::cookies;
use crate::http::error::ApiError;
use crate::state::AppState;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use futures_util::future::Either;
use hallpass_core::store::{Counter, Store};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tower::{Layer, Service, ServiceExt};

/// Memory shards: a request locks one of them.
const SHARDS: usize = 16;
/// Counters kept per shard before the oldest go (so rotating addresses cannot grow memory).
const SHARD_CAPACITY: usize = 16_384;

/// Counters in this process's memory, with the same algorithm as the database's.
#[derive(Default)]
struct MemoryCounters {
    shards: [Mutex<HashMap<String, Counter>>; SHARDS],
}

impl MemoryCounters {
    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Counter>> {
        let h = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        &self.shards[(h % SHARDS as u64) as usize]
    }

    fn consume(&self, key: &str, window_ms: i64, max: i64, now_ms: i64) -> Counter {
        let mut map = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SHARD_CAPACITY && !map.contains_key(key) {
            evict(&mut map, now_ms - window_ms);
        }
        let c = map.entry(key.to_owned()).or_insert(Counter {
            count: 0,
            last_request_ms: now_ms,
        });
        if c.count > 0 && now_ms - c.last_request_ms >= window_ms {
            *c = Counter {
                count: 1,
                last_request_ms: now_ms,
            };
        } else if c.count >= max {
            c.count = max + 1;
        } else {
            c.count += 1;
            c.last_request_ms = now_ms;
        }
        *c
    }

    fn release(&self, key: &str) {
        let mut map = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get_mut(key) {
            c.count = (c.count - 1).max(0);
        }
    }

    #[cfg(test)]
    fn peek(&self, key: &str) -> Option<Counter> {
        let map = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).copied()
    }

    fn prune(&self, before_ms: i64) {
        for shard in &self.shards {
            let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
            map.retain(|_, c| c.last_request_ms >= before_ms);
        }
    }
}

/// Makes room in a full shard: counters whose window has passed go; if none has, the oldest half.
fn evict(map: &mut HashMap<String, Counter>, stale_before_ms: i64) {
    map.retain(|_, c| c.last_request_ms >= stale_before_ms);
    if map.len() >= SHARD_CAPACITY {
        let mut ages: Vec<i64> = map.values().map(|c| c.last_request_ms).collect();
        ages.sort_unstable();
        let median = ages[ages.len() / 2];
        map.retain(|_, c| c.last_request_ms > median);
    }
}

/// A limit: requests per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Window in milliseconds.
    pub window_ms: i64,
    /// Requests allowed in a window.
    pub max: i64,
}

/// The rate limiter of one process.
pub struct Limiter {
    config: RateLimitConfig,
    memory: MemoryCounters,
    database: Option<Arc<dyn Store>>,
}

/// A refusal: seconds until the client may try again.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused(pub u64);

impl Refused {
    /// Better Auth's 429: `{"message"}` and `X-Retry-After`.
    pub fn into_error(self) -> ApiError {
        ApiError::too_many_requests(self.0)
    }
}

fn now_ms() -> i64 {
    hallpass_core::clock::now().timestamp_millis()
}

impl Limiter {
    /// A limiter; `database` is the store when counters are shared through it (its `rateLimit`
    /// table must have been prepared).
    pub fn new(config: RateLimitConfig, database: Option<Arc<dyn Store>>) -> Limiter {
        Limiter {
            config,
            memory: MemoryCounters::default(),
            database,
        }
    }

    /// Whether limits apply.
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// The rule for a request, by method and the path within the API (`/sign-in/email`); None
    /// when it is not limited.
    pub fn rule(&self, method: &Method, path: &str) -> Option<Rule> {
        const STRICT: [&str; 4] = ["/sign-in", "/sign-up", "/change-password", "/change-email"];
        const MAIL: [&str; 4] = [
            "/request-password-reset",
            "/send-verification-email",
            "/forget-password",
            "/email-otp/",
        ];
        if STRICT.iter().any(|p| path.starts_with(p)) {
            return Some(Rule {
                window_ms: 10_000,
                max: 3,
            });
        }
        if MAIL.iter().any(|p| path.starts_with(p)) {
            return Some(Rule {
                window_ms: 60_000,
                max: 3,
            });
        }
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return None;
        }
        Some(Rule {
            window_ms: i64::from(self.config.window) * 1000,
            max: i64::from(self.config.max),
        })
    }

    async fn consume(&self, key: &str, rule: Rule) -> Counter {
        let now = now_ms();
        if let Some(db) = &self.database {
            match db.consume(key, rule.window_ms, rule.max, now).await {
                Ok(c) => return c,
                Err(e) => {
                    tracing::warn!(error = %e, "rate limit counter unavailable in the database; counting in memory");
                }
            }
        }
        self.memory.consume(key, rule.window_ms, rule.max, now)
    }

    async fn release(&self, key: &str) {
        if let Some(db) = &self.database {
            match db.release(key).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "rate limit counter unavailable in the database")
                }
            }
        }
        self.memory.release(key);
    }

    /// Counts a request of `client` to `path`; refused past the rule.
    pub async fn check(&self, client: &str, method: &Method, path: &str) -> Result<(), Refused> {
        let Some(rule) = self.rule(method, path) else {
            return Ok(());
        };
        let counter = self.consume(&format!("{client}|{path}"), rule).await;
        if counter.allowed(rule.max) {
            Ok(())
        } else {
            Err(Refused(counter.retry_after_s(rule.window_ms, now_ms())))
        }
    }

    fn account_rule(&self) -> Option<Rule> {
        (self.config.enabled && self.config.account_failures > 0).then(|| Rule {
            window_ms: i64::from(self.config.account_window) * 1000,
            max: i64::from(self.config.account_failures),
        })
    }

    /// Takes one of the account's sign-in attempts before the password is checked (so concurrent
    /// guesses cannot all pass a check made before any of them failed). Refused while the account
    /// is locked, unless the browser is one its owner signed in from. A sign-in that succeeds
    /// gives its attempt back ([`Limiter::account_succeeded`]): only failures stay counted.
    pub async fn reserve_account(
        &self,
        account: &AccountKey,
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<AccountAttempt, Refused> {
        let Some(rule) = self.account_rule() else {
            return Ok(AccountAttempt(false));
        };
        let counter = self.consume(&account.counter_key(), rule).await;
        if counter.allowed(rule.max) {
            return Ok(AccountAttempt(true));
        }
        let known = cookies::known_device(headers, &state.cookies, &state.config.secret)
            .is_some_and(|d| d == account.0);
        if known {
            return Ok(AccountAttempt(false));
        }
        tracing::info!("sign-in refused: too many failed sign-ins for this account");
        Err(Refused(counter.retry_after_s(rule.window_ms, now_ms())))
    }

    /// Gives back the attempt of a sign-in that succeeded.
    pub async fn account_succeeded(&self, account: &AccountKey, attempt: AccountAttempt) {
        if attempt.0 {
            self.release(&account.counter_key()).await;
        }
    }

    /// Forgets counters whose windows have all passed.
    pub async fn prune(&self) {
        let longest = i64::from(self.config.window.max(self.config.account_window).max(60)) * 1000;
        let before = now_ms() - longest;
        self.memory.prune(before);
        if let Some(db) = &self.database {
            if let Err(e) = db.prune_counters(before).await {
                tracing::warn!(error = %e, "could not prune rate limit counters");
            }
        }
    }
}

/// Whether a sign-in took one of its account's attempts (and gives it back if it succeeds).
#[derive(Clone, Copy, Debug)]
pub struct AccountAttempt(bool);

/// An account as the limiter knows it: a digest of its normalized email, never the email.
pub struct AccountKey(String);

impl AccountKey {
    /// The key of the account an email (any case, any surrounding space) names.
    pub fn of_email(email: &str) -> AccountKey {
        let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
        AccountKey(hex(&digest[..16]))
    }

    fn counter_key(&self) -> String {
        format!("account|{}", self.0)
    }

    /// What the `known_device` cookie holds for this account.
    pub fn device_value(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The path within the API that a matched route counts as: the route template (never the raw
/// path), without the `/api/auth` or `/auth` prefix; the REST aliases share the buckets of the
/// Better Auth routes they mirror.
pub fn counted_path(matched: &str) -> &str {
    if let Some(p) = matched.strip_prefix("/api/auth") {
        return p;
    }
    match matched {
        "/auth/login" => "/sign-in/email",
        "/auth/register" => "/sign-up/email",
        other => other,
    }
}

/// The middleware (a route layer: the route's template is known): counts each request to a
/// limited route and answers 429 past its limit. Requests to routes that are not limited, or with
/// the limiter off, go straight to the route.
#[derive(Clone)]
pub struct LimitLayer(pub AppState);

impl<S> Layer<S> for LimitLayer {
    type Service = LimitService<S>;

    fn layer(&self, inner: S) -> LimitService<S> {
        LimitService {
            state: self.0.clone(),
            inner,
        }
    }
}

/// [`LimitLayer`] in front of a route.
#[derive(Clone)]
pub struct LimitService<S> {
    state: AppState,
    inner: S,
}

type Boxed = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> Service<Request> for LimitService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, Boxed>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let limiter = &self.state.limiter;
        let counted = req
            .extensions()
            .get::<MatchedPath>()
            .filter(|m| {
                limiter.enabled()
                    && limiter
                        .rule(req.method(), counted_path(m.as_str()))
                        .is_some()
            })
            .map(|m| m.as_str().to_owned());
        let Some(matched) = counted else {
            return Either::Left(self.inner.call(req));
        };
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let client = client_ip(peer, req.headers(), &self.state.config.trusted_proxies)
            .map_or_else(|| "no-client-address".to_owned(), bucket);
        let state = self.state.clone();
        // The service that was made ready goes with the request; a clone stays for the next one.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        Either::Right(Box::pin(async move {
            match state
                .limiter
                .check(&client, req.method(), counted_path(&matched))
                .await
            {
                Ok(()) => ready.oneshot(req).await,
                Err(refused) => {
                    tracing::info!(%client, path = %matched, "rate limited");
                    Ok(refused.into_error().into_response())
                }
            }
        }))
    }
}

/// Prunes the limiter's counters every minute, for as long as the state lives.
pub fn spawn_pruning(state: &AppState) {
    let weak = Arc::downgrade(&state.limiter);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(limiter) = weak.upgrade() else {
                return;
            };
            limiter.prune().await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_counters_follow_better_auths_algorithm() {
        let m = MemoryCounters::default();
        let t = 1_000_000;
        for i in 0..3 {
            assert!(m.consume("k", 10_000, 3, t + i).allowed(3));
        }
        let refused = m.consume("k", 10_000, 3, t + 5_000);
        assert!(!refused.allowed(3));
        assert_eq!(refused.last_request_ms, t + 2);
        assert_eq!(refused.retry_after_s(10_000, t + 5_000), 6);
        assert!(m.consume("k", 10_000, 3, t + 10_002).allowed(3));
        assert_eq!(m.peek("k").map(|c| c.count), Some(1));
    }

    #[test]
    fn a_full_shard_keeps_its_size_bounded() {
        let m = MemoryCounters::default();
        for i in 0..(SHARD_CAPACITY * SHARDS * 2) {
            m.consume(
                &format!("10.0.{}.{}|/x", i / 256, i % 256),
                10_000,
                3,
                1_000 + i as i64,
            );
        }
        for shard in &m.shards {
            assert!(shard.lock().map(|s| s.len()).unwrap_or(0) <= SHARD_CAPACITY);
        }
    }

    #[test]
    fn rest_aliases_share_the_better_auth_buckets() {
        assert_eq!(counted_path("/auth/login"), "/sign-in/email");
        assert_eq!(counted_path("/auth/register"), "/sign-up/email");
        assert_eq!(counted_path("/api/auth/sign-in/email"), "/sign-in/email");
        assert_eq!(
            counted_path("/api/auth/reset-password/{token}"),
            "/reset-password/{token}"
        );
    }

    #[test]
    fn account_keys_ignore_case_and_space_and_hide_the_email() {
        let a = AccountKey::of_email(" Ada@Example.com ");
        assert_eq!(
            a.device_value(),
            AccountKey::of_email("ada@example.com").device_value()
        );
        assert!(!a.counter_key().contains("ada"));
        assert_eq!(a.device_value().len(), 32);
    }
}

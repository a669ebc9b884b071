//! Revocation wins over the session cache, under concurrent checks.
//!
//! Each round: several clients check one session with get-session without pause; another client
//! ends it (sign-out, revoke-session from another device, deleting the user); the checkers carry
//! on. No check that *started* after the ending answered may still see the user: on the process
//! that ended it at once, on another process sharing PostgreSQL within the notification bound.
//!
//! The store under the server is the real one (SQLite file, PostgreSQL database), wrapped so that
//! reads and deletes take a few milliseconds longer: that widens the window in which a check that
//! missed the cache overlaps the ending, so every round exercises the race instead of one in ten.

use crate::helpers::{FRONTEND, PASSWORD, SECRET};
use async_trait::async_trait;
use hallpass_core::cache::Invalidation;
use hallpass_core::clock::Timestamp;
use hallpass_core::model::{
    AccountInfo, CredentialAccount, Session, SessionWithUser, User, UserChanges, Verification,
};
use hallpass_core::store::{
    Counter, CounterStore, KeyStore, SessionStore, StoreResult, StoredKey, UserStore,
    VerificationStore,
};
use hallpass_core::Store;
use hallpass_server::config::{Config, FileConfig, Overrides};
use hallpass_server::state::AppState;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Concurrent checkers per round, as in the report that found the race.
const CHECKERS: usize = 6;
/// Rounds per scenario (`HALLPASS_RACE_ROUNDS` raises it for a longer hunt).
const ROUNDS: usize = 12;
/// Extra time a session read takes after the database answered.
const READ_DELAY: Duration = Duration::from_millis(4);
/// Extra time a delete takes before it reaches the database.
const DELETE_DELAY: Duration = Duration::from_millis(10);
/// How long checks go on after the ending answered, on the process that ended the session.
const AFTER: Duration = Duration::from_millis(150);
/// Another process may answer from memory this long after the ending (the LISTEN/NOTIFY bound
/// this test holds hallpass to; measured, it is a few milliseconds).
const CROSS_PROCESS_BOUND: Duration = Duration::from_millis(200);
/// How long checks go on after the ending answered, on another process: past the bound, and long
/// enough that an entry cached by a stale read would still be served (the cache TTL is 5 s).
const AFTER_CROSS_PROCESS: Duration = Duration::from_millis(500);

fn rounds() -> usize {
    std::env::var("HALLPASS_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ROUNDS)
}

/// The real store, slowed down where the race lives (not with `HALLPASS_RACE_PLAIN=1`, which
/// measures the race as a client meets it).
struct Slowed(Arc<dyn Store>, ReadLog);

/// How many session reads reached the database, and how long each takes on top.
#[derive(Clone, Default)]
struct ReadLog {
    reads: Arc<std::sync::atomic::AtomicUsize>,
    extra: Option<Duration>,
}

fn slowed() -> bool {
    std::env::var("HALLPASS_RACE_PLAIN").map_or(true, |v| v.is_empty() || v == "0")
}

async fn pause(d: Duration) {
    if slowed() {
        tokio::time::sleep(d).await;
    }
}

#[async_trait]
impl UserStore for Slowed {
    async fn insert_user(&self, user: &User, account: &CredentialAccount) -> StoreResult<()> {
        self.0.insert_user(user, account).await
    }
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.0.user_by_id(id).await
    }
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.0.user_by_email(email).await
    }
    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        self.0.password_hash(user_id).await
    }
    async fn set_password_hash(&self, id: &str, hash: &str, now: Timestamp) -> StoreResult<bool> {
        self.0.set_password_hash(id, hash, now).await
    }
    async fn update_user(&self, id: &str, changes: &UserChanges) -> StoreResult<Option<User>> {
        self.0.update_user(id, changes).await
    }
    async fn delete_user(&self, id: &str) -> StoreResult<bool> {
        pause(DELETE_DELAY).await;
        self.0.delete_user(id).await
    }
    async fn accounts(&self, user_id: &str) -> StoreResult<Vec<AccountInfo>> {
        self.0.accounts(user_id).await
    }
    async fn password_algorithms(&self) -> StoreResult<(u64, u64)> {
        self.0.password_algorithms().await
    }
    async fn list_users(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>> {
        self.0.list_users(limit, offset).await
    }
}

#[async_trait]
impl SessionStore for Slowed {
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        self.0.insert_session(session).await
    }
    async fn session_with_user(&self, token: &str) -> StoreResult<Option<SessionWithUser>> {
        self.1.reads.fetch_add(1, Ordering::SeqCst);
        let found = self.0.session_with_user(token).await;
        match self.1.extra {
            Some(d) => tokio::time::sleep(d).await,
            None => pause(READ_DELAY).await,
        }
        found
    }
    async fn extend_session(
        &self,
        token: &str,
        expires_at: Timestamp,
        updated_at: Timestamp,
    ) -> StoreResult<Option<Session>> {
        self.0.extend_session(token, expires_at, updated_at).await
    }
    async fn delete_session(&self, token: &str) -> StoreResult<bool> {
        pause(DELETE_DELAY).await;
        self.0.delete_session(token).await
    }
    async fn delete_user_session(&self, user_id: &str, token: &str) -> StoreResult<bool> {
        pause(DELETE_DELAY).await;
        self.0.delete_user_session(user_id, token).await
    }
    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        pause(DELETE_DELAY).await;
        self.0.delete_user_sessions(user_id, keep).await
    }
    async fn user_sessions(&self, user_id: &str, now: Timestamp) -> StoreResult<Vec<Session>> {
        self.0.user_sessions(user_id, now).await
    }
}

#[async_trait]
impl KeyStore for Slowed {
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        self.0.signing_keys().await
    }
    async fn insert_signing_key(&self, key: &StoredKey) -> StoreResult<()> {
        self.0.insert_signing_key(key).await
    }
}

#[async_trait]
impl VerificationStore for Slowed {
    async fn insert_verification(&self, v: &Verification) -> StoreResult<()> {
        self.0.insert_verification(v).await
    }
    async fn verification(&self, identifier: &str) -> StoreResult<Option<Verification>> {
        self.0.verification(identifier).await
    }
    async fn take_verification(&self, identifier: &str) -> StoreResult<Option<Verification>> {
        self.0.take_verification(identifier).await
    }
    async fn prune_verifications(&self, before: Timestamp) -> StoreResult<u64> {
        self.0.prune_verifications(before).await
    }
}

#[async_trait]
impl CounterStore for Slowed {
    async fn prepare_counters(&self) -> StoreResult<()> {
        self.0.prepare_counters().await
    }
    async fn consume(&self, key: &str, window: i64, max: i64, now: i64) -> StoreResult<Counter> {
        self.0.consume(key, window, max, now).await
    }
    async fn release(&self, key: &str) -> StoreResult<()> {
        self.0.release(key).await
    }
    async fn peek(&self, key: &str) -> StoreResult<Option<Counter>> {
        self.0.peek(key).await
    }
    async fn prune_counters(&self, before_ms: i64) -> StoreResult<u64> {
        self.0.prune_counters(before_ms).await
    }
}

#[async_trait]
impl Store for Slowed {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    async fn ping(&self) -> StoreResult<()> {
        self.0.ping().await
    }
    async fn migration_plan(&self) -> StoreResult<Vec<String>> {
        self.0.migration_plan().await
    }
    async fn migrate(&self) -> StoreResult<Vec<String>> {
        self.0.migrate().await
    }
    fn invalidations(&self) -> Option<tokio::sync::broadcast::Receiver<Invalidation>> {
        self.0.invalidations()
    }
}

/// One server on a database, in this test process, with its own cache (and, on PostgreSQL, its
/// own LISTEN connection): for the cache, a process of its own.
struct Node {
    address: String,
    state: AppState,
    reads: ReadLog,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn start_node(database_url: &str) -> Node {
    start_node_with(database_url, ReadLog::default()).await
}

async fn start_node_with(database_url: &str, reads: ReadLog) -> Node {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let env = HashMap::from([
        ("HALLPASS_SECRET".to_owned(), SECRET.to_owned()),
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        (
            "HALLPASS_BASE_URL".to_owned(),
            format!("http://localhost:{port}"),
        ),
    ]);
    let config = Config::resolve(FileConfig::default(), &Overrides::default(), &|k| {
        env.get(k).cloned()
    })
    .unwrap();
    let store = hallpass_server::app::open_store(&config).await.unwrap();
    let slowed: Arc<dyn Store> = Arc::new(Slowed(store, reads.clone()));
    let (router, state) = hallpass_server::app::build_on(config, slowed)
        .await
        .unwrap();
    let limits = state.config.server.clone();
    let server = tokio::spawn(async move {
        let forever = std::future::pending::<()>();
        let _ = hallpass_server::serve::serve(listener, router, &limits, forever).await;
    });
    Node {
        address: format!("http://127.0.0.1:{port}"),
        state,
        reads,
        server,
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn post(node: &Node, path: &str, bearer: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = http()
        .post(format!("{}/api/auth{path}", node.address))
        .header("origin", FRONTEND)
        .json(&body);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Signs up a fresh user on `node`; returns (user id, email, session token).
async fn sign_up(node: &Node) -> (String, String, String) {
    let email = crate::helpers::unique_email("race");
    let (status, body) = post(
        node,
        "/sign-up/email",
        None,
        json!({"name": "Racer", "email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        body["user"]["id"].as_str().unwrap().to_owned(),
        email,
        body["token"].as_str().unwrap().to_owned(),
    )
}

async fn sign_in(node: &Node, email: &str) -> String {
    let (status, body) = post(
        node,
        "/sign-in/email",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// A check: when it started, and whether it still saw the user.
struct Check {
    started: Instant,
    saw_user: bool,
}

/// What a round saw after the ending answered.
#[derive(Default, Debug)]
struct Tally {
    checks_after: usize,
    stale_after: usize,
    stale_after_bound: usize,
    checks_after_bound: usize,
}

/// Runs one round: checkers on `checked` with `token`, then `end()`, then more checks.
async fn round<F, Fut>(checked: &Node, token: &str, after: Duration, end: F) -> Tally
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::<Check>::new()));
    let checkers: Vec<_> = (0..CHECKERS)
        .map(|_| {
            let (stop, log) = (stop.clone(), log.clone());
            let url = format!("{}/api/auth/get-session", checked.address);
            let token = token.to_owned();
            tokio::spawn(async move {
                let client = http();
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let res = client.get(&url).bearer_auth(&token).send().await.unwrap();
                    let body: Value = res.json().await.unwrap();
                    let saw_user = body.get("user").is_some();
                    log.lock().unwrap().push(Check { started, saw_user });
                }
            })
        })
        .collect();
    // Warm: the checkers have seen the session (and so cached it) before it ends.
    let warm_until = Instant::now() + Duration::from_secs(10);
    while log.lock().unwrap().iter().filter(|c| c.saw_user).count() < CHECKERS
        && Instant::now() < warm_until
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    end().await;
    let ended = Instant::now();
    tokio::time::sleep(after).await;
    stop.store(true, Ordering::SeqCst);
    for c in checkers {
        c.await.unwrap();
    }
    let log = log.lock().unwrap();
    assert!(
        log.iter().any(|c| c.started < ended && c.saw_user),
        "the session was valid before it ended"
    );
    let mut tally = Tally::default();
    for c in log.iter().filter(|c| c.started > ended) {
        tally.checks_after += 1;
        tally.stale_after += usize::from(c.saw_user);
        if c.started > ended + CROSS_PROCESS_BOUND {
            tally.checks_after_bound += 1;
            tally.stale_after_bound += usize::from(c.saw_user);
        }
    }
    tally
}

/// Checks are made on `checked`, endings on `ender`: sign-out, revoke-session from another
/// device, user deletion, each for `rounds()` rounds. Returns the tallies per scenario.
async fn all_endings(ender: &Node, checked: &Node) -> Vec<(&'static str, Tally)> {
    let after = if std::ptr::eq(ender, checked) {
        AFTER
    } else {
        AFTER_CROSS_PROCESS
    };
    let mut out = Vec::new();
    for scenario in ["sign-out", "revoke-session", "delete-user"] {
        let mut total = Tally::default();
        for _ in 0..rounds() {
            let (user_id, email, first) = sign_up(ender).await;
            let victim = sign_in(ender, &email).await;
            let t = match scenario {
                "sign-out" => {
                    round(checked, &victim, after, || async {
                        let (status, _) = post(ender, "/sign-out", Some(&victim), json!({})).await;
                        assert_eq!(status, 200);
                    })
                    .await
                }
                "revoke-session" => {
                    round(checked, &victim, after, || async {
                        let (status, body) = post(
                            ender,
                            "/revoke-session",
                            Some(&first),
                            json!({"token": victim}),
                        )
                        .await;
                        assert_eq!(status, 200, "{body}");
                    })
                    .await
                }
                _ => {
                    round(checked, &victim, after, || async {
                        ender.state.auth.delete_user(&user_id).await.unwrap();
                    })
                    .await
                }
            };
            total.checks_after += t.checks_after;
            total.stale_after += t.stale_after;
            total.checks_after_bound += t.checks_after_bound;
            total.stale_after_bound += t.stale_after_bound;
        }
        out.push((scenario, total));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_check_that_starts_after_a_session_ends_sees_it_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("race.db").display());
    let node = start_node(&url).await;
    for (scenario, t) in all_endings(&node, &node).await {
        eprintln!("sqlite {scenario}: {t:?}");
        assert!(
            t.checks_after > 0,
            "{scenario}: checks went on after the ending"
        );
        assert_eq!(
            t.stale_after, 0,
            "{scenario}: {} of {} checks that started after the ending still saw the user",
            t.stale_after, t.checks_after
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_check_on_any_process_sees_an_ended_session_on_postgres() {
    let Some(db) = crate::pg::ScratchDatabase::create().await else {
        return;
    };
    let a = start_node(&db.url).await;
    let b = start_node(&db.url).await;
    // The process that ended the session refuses it at once.
    for (scenario, t) in all_endings(&a, &a).await {
        eprintln!("postgres, same process, {scenario}: {t:?}");
        assert!(t.checks_after > 0);
        assert_eq!(
            t.stale_after, 0,
            "{scenario}: {} of {} checks on the ending process still saw the user",
            t.stale_after, t.checks_after
        );
    }
    // Another process refuses it within the notification bound, and never serves it from memory
    // longer: a check started after the bound sees nothing.
    for (scenario, t) in all_endings(&a, &b).await {
        eprintln!("postgres, other process, {scenario}: {t:?}");
        assert!(t.checks_after > 0);
        assert_eq!(
            t.stale_after_bound, 0,
            "{scenario}: {} of {} checks on the other process still saw the user after the bound",
            t.stale_after_bound, t.checks_after_bound
        );
    }
    drop((a, b));
    db.drop_now().await;
}

/// When a session's cache entry is gone (expired, or dropped by an invalidation), every check of it
/// misses at once; they share one database read instead of taking a connection each (the stampede
/// that stalled two instances on PostgreSQL). The read is slowed so that all the checks arrive
/// while it is in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checks_that_miss_one_session_together_read_the_database_once() {
    const CHECKS: usize = 32;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("flight.db").display());
    let log = ReadLog {
        extra: Some(Duration::from_millis(400)),
        ..ReadLog::default()
    };
    let node = start_node_with(&url, log).await;
    let (_, _, token) = sign_up(&node).await;
    let (_, _, other) = sign_up(&node).await;
    // Drop every entry, as an expiry would.
    node.state.auth.apply_invalidation(&Invalidation::All);
    let reads = || node.reads.reads.load(Ordering::SeqCst);
    let before = reads();
    let client = http();
    let url = format!("{}/api/auth/get-session", node.address);
    let started = Instant::now();
    let checks: Vec<_> = (0..CHECKS)
        .map(|i| {
            // Most check one session; two check another, which gets a read of its own.
            let token = if i < 2 { other.clone() } else { token.clone() };
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let res = client.get(&url).bearer_auth(&token).send().await.unwrap();
                let body: Value = res.json().await.unwrap();
                body["session"]["token"].as_str().map(str::to_owned)
            })
        })
        .collect();
    for (i, c) in checks.into_iter().enumerate() {
        let expected = if i < 2 { &other } else { &token };
        assert_eq!(c.await.unwrap().as_deref(), Some(expected.as_str()));
    }
    let elapsed = started.elapsed();
    let made = reads() - before;
    eprintln!("{CHECKS} checks of two uncached sessions: {made} database reads in {elapsed:?}");
    assert_eq!(made, 2, "one database read per session, not one per check");
    // What was read is cached: the next check reads nothing.
    let res = client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(reads() - before, 2);
}

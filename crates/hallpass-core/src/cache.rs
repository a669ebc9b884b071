//! An in-process cache of sessions and users, so a session check costs no database round trip.
//!
//! Correctness rules:
//! - Every change this process makes is written to the database first and invalidated here
//!   second, so a check that starts after the change has answered can only read the new state.
//! - A read that *started* before an invalidation never puts what it read into the cache: each
//!   database read takes a [`ReadTicket`] (the invalidation generation) before it starts, and
//!   [`SessionCache::put`] refuses the entry when the session or the user was invalidated after
//!   that ticket. This closes the race where a check misses the cache, reads a row that is being
//!   deleted, and puts it back after the deletion's invalidation.
//! - Changes made by other processes arrive through the store's invalidation feed (PostgreSQL
//!   LISTEN/NOTIFY), and are applied the same way; no entry is trusted longer than `ttl`, which
//!   bounds staleness when a feed message is lost (or, on SQLite, when another tool changes the file).
//!
//! Invalidations leave tombstones (the generation at which a token or a user was invalidated).
//! Tombstones are dropped oldest first once there are many or they are old; dropping one raises a
//! floor below which every ticket is refused, so forgetting a tombstone can cost a cache fill but
//! never lets a stale read in.

use crate::model::{Session, SessionWithUser, User};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Entries kept before the cache is emptied and refilled (a simple, bounded-memory policy).
const MAX_ENTRIES: usize = 100_000;
/// How long a session id stays mapped to its token after the session was last read (JWT checks
/// by `sid` skip a database read while it is).
const ID_MAP_AGE: Duration = Duration::from_secs(600);
/// Tombstones kept; beyond that the oldest are folded into the floor.
const MAX_TOMBSTONES: usize = 10_000;
/// Age after which a tombstone is folded into the floor (a database read in flight longer than
/// this loses its cache fill, nothing more).
const TOMBSTONE_AGE: Duration = Duration::from_secs(30);

/// What was changed, by this process or (through the feed) by another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// A session was deleted or changed (its token).
    Session(String),
    /// The same, named by [`token_digest`] of its token: what crosses process boundaries, so that
    /// no session token travels through the database's notification channel.
    SessionDigest(String),
    /// A user was changed or deleted (their sessions may have been too).
    User(String),
    /// Everything may have changed (the feed was interrupted).
    All,
}

/// The SHA-256 of a session token, in hex: how sessions are named outside this process.
pub fn token_digest(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Taken before a database read; the read's result may enter the cache only if nothing it covers
/// was invalidated since.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReadTicket(u64);

struct UserEntry {
    user: Arc<User>,
    at: Instant,
    /// The generation when this user entry was made; a session entry counts only while it
    /// carries the same epoch, so dropping the user drops all their sessions in O(1).
    epoch: u64,
}

struct SessionEntry {
    session: Arc<Session>,
    at: Instant,
    user_epoch: u64,
    /// The last JWT issued for this session, the user state it describes, and when.
    jwt: Option<(String, Arc<User>, Instant)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Session,
    User,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation.
    generation: u64,
    /// Tickets at or below this are refused.
    floor: u64,
    sessions: HashMap<String, SessionEntry>,
    users: HashMap<String, UserEntry>,
    /// Token digest to token, for invalidations that name a session by digest.
    tokens_by_digest: HashMap<String, String>,
    /// Session id to token (and when it was last put), for JWTs (which name their session by
    /// id). A session's id and token never change, so an entry can be stale only in naming a
    /// session that is gone, which the token lookup then finds.
    tokens_by_id: HashMap<String, (String, Instant)>,
    /// When expired entries were last swept out.
    swept: Option<Instant>,
    /// Generation of the latest invalidation of each token or user id still remembered.
    tombstones: HashMap<(Kind, String), u64>,
    /// The same tombstones in the order they were made, for pruning.
    tombstone_order: VecDeque<(Instant, u64, Kind, String)>,
}

impl Inner {
    fn invalidated_after(&self, kind: Kind, key: &str, ticket: ReadTicket) -> bool {
        ticket.0 < self.floor
            || self
                .tombstones
                .get(&(kind, key.to_owned()))
                .is_some_and(|g| *g > ticket.0)
    }

    fn tombstone(&mut self, kind: Kind, key: &str) {
        let now = Instant::now();
        self.tombstones
            .insert((kind, key.to_owned()), self.generation);
        self.tombstone_order
            .push_back((now, self.generation, kind, key.to_owned()));
        while let Some((at, generation, _, _)) = self.tombstone_order.front() {
            if self.tombstone_order.len() <= MAX_TOMBSTONES && at.elapsed() < TOMBSTONE_AGE {
                break;
            }
            let generation = *generation;
            if let Some((_, _, kind, key)) = self.tombstone_order.pop_front() {
                // A newer tombstone for the same key stays.
                let entry = (kind, key);
                if self.tombstones.get(&entry) == Some(&generation) {
                    self.tombstones.remove(&entry);
                }
            }
            // Tickets taken before this generation can no longer be told apart: refuse them all.
            self.floor = self.floor.max(generation);
        }
    }
}

/// The cache.
pub struct SessionCache {
    ttl: Duration,
    inner: Mutex<Inner>,
}

impl SessionCache {
    /// A cache whose entries live at most `ttl`; a zero ttl disables it.
    pub fn new(ttl: Duration) -> SessionCache {
        SessionCache {
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that matters
        // more than losing the cache: keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh(&self, at: Instant) -> bool {
        at.elapsed() < self.ttl
    }

    /// The cached session and user for a token, if both are fresh.
    pub fn get(&self, token: &str) -> Option<SessionWithUser> {
        if self.ttl.is_zero() {
            return None;
        }
        let (session, user) = {
            let inner = self.lock();
            let s = inner.sessions.get(token)?;
            if !self.fresh(s.at) {
                return None;
            }
            let u = inner.users.get(&s.session.user_id)?;
            if !self.fresh(u.at) || u.epoch != s.user_epoch {
                return None;
            }
            (Arc::clone(&s.session), Arc::clone(&u.user))
        };
        // The deep copies are made outside the lock.
        Some(SessionWithUser {
            session: Session::clone(&session),
            user: User::clone(&user),
        })
    }

    /// The token of the session with this id, if this process has seen it.
    pub fn token_for_session_id(&self, id: &str) -> Option<String> {
        self.lock().tokens_by_id.get(id).map(|(t, _)| t.clone())
    }

    /// Drops what can no longer be answered from memory (entries older than the ttl), at most once
    /// per ttl (and per second), so the cache holds what was read recently, not everything ever read.
    fn sweep(&self, inner: &mut Inner, now: Instant) {
        let every = self.ttl.max(Duration::from_secs(1));
        if inner.swept.is_some_and(|t| now.duration_since(t) < every) {
            return;
        }
        inner.swept = Some(now);
        let ttl = self.ttl;
        let Inner {
            sessions,
            users,
            tokens_by_digest,
            tokens_by_id,
            ..
        } = inner;
        sessions.retain(|_, e| now.duration_since(e.at) < ttl);
        users.retain(|_, e| now.duration_since(e.at) < ttl);
        tokens_by_digest.retain(|_, token| sessions.contains_key(token));
        tokens_by_id.retain(|_, (_, at)| now.duration_since(*at) < ID_MAP_AGE);
    }

    /// A ticket for a database read that is about to start.
    pub fn ticket(&self) -> ReadTicket {
        ReadTicket(self.lock().generation)
    }

    /// Remembers a session and its user, read from the database after `ticket` was taken, unless
    /// either was invalidated since. Returns whether it was kept.
    pub fn put(&self, found: &SessionWithUser, ticket: ReadTicket) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let session = Arc::new(found.session.clone());
        let user = Arc::new(found.user.clone());
        let now = Instant::now();
        let mut inner = self.lock();
        self.sweep(&mut inner, now);
        let digest = token_digest(&session.token);
        if inner.invalidated_after(Kind::Session, &digest, ticket)
            || inner.invalidated_after(Kind::User, &user.id, ticket)
        {
            return false;
        }
        if inner.sessions.len() >= MAX_ENTRIES || inner.tokens_by_id.len() >= MAX_ENTRIES {
            inner.sessions.clear();
            inner.tokens_by_id.clear();
            inner.tokens_by_digest.clear();
        }
        inner.tokens_by_digest.insert(digest, session.token.clone());
        inner
            .tokens_by_id
            .insert(session.id.clone(), (session.token.clone(), now));
        if inner.users.len() >= MAX_ENTRIES {
            inner.users.clear();
        }
        let generation = inner.generation;
        // The user's other cached sessions stay valid.
        let epoch = inner.users.get(&user.id).map_or(generation, |e| e.epoch);
        let jwt = inner
            .sessions
            .get(&session.token)
            .and_then(|e| e.jwt.clone());
        inner.sessions.insert(
            session.token.clone(),
            SessionEntry {
                session,
                at: now,
                user_epoch: epoch,
                jwt,
            },
        );
        inner.users.insert(
            user.id.clone(),
            UserEntry {
                user,
                at: now,
                epoch,
            },
        );
        true
    }

    /// A JWT issued for this session and this exact user state within `reuse`, if any.
    pub fn jwt(&self, token: &str, user: &User, reuse: Duration) -> Option<String> {
        let inner = self.lock();
        let (jwt, made_for, at) = inner.sessions.get(token)?.jwt.as_ref()?;
        (**made_for == *user && at.elapsed() < reuse).then(|| jwt.clone())
    }

    /// Remembers the JWT issued for a cached session and user state.
    pub fn put_jwt(&self, token: &str, user: &User, jwt: &str) {
        let mut inner = self.lock();
        if let Some(entry) = inner.sessions.get_mut(token) {
            entry.jwt = Some((jwt.to_owned(), Arc::new(user.clone()), Instant::now()));
        }
    }

    /// Applies an invalidation: drops the entries and refuses reads that started before it.
    pub fn invalidate(&self, what: &Invalidation) {
        let mut inner = self.lock();
        inner.generation += 1;
        match what {
            Invalidation::Session(token) => {
                let digest = token_digest(token);
                inner.sessions.remove(token);
                inner.tokens_by_digest.remove(&digest);
                inner.tombstone(Kind::Session, &digest);
            }
            Invalidation::SessionDigest(digest) => {
                if let Some(token) = inner.tokens_by_digest.remove(digest) {
                    inner.sessions.remove(&token);
                }
                inner.tombstone(Kind::Session, digest);
            }
            Invalidation::User(id) => {
                // Without its user entry (and, once it is back, with a new epoch), no session of
                // this user cached so far is answered from memory: each is read again, and a read
                // from before this point is refused by the tombstone.
                inner.users.remove(id);
                inner.tombstone(Kind::User, id);
            }
            Invalidation::All => {
                inner.sessions.clear();
                inner.tokens_by_id.clear();
                inner.tokens_by_digest.clear();
                inner.users.clear();
                inner.tombstones.clear();
                inner.tombstone_order.clear();
                inner.floor = inner.generation;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now;
    use serde_json::Map;

    fn sample(token: &str, user_id: &str) -> SessionWithUser {
        let t = now();
        SessionWithUser {
            session: Session {
                id: "s".into(),
                token: token.into(),
                user_id: user_id.into(),
                expires_at: t,
                created_at: t,
                updated_at: t,
                ip_address: String::new(),
                user_agent: String::new(),
            },
            user: User {
                id: user_id.into(),
                name: "n".into(),
                email: "e@example.com".into(),
                email_verified: false,
                image: None,
                created_at: t,
                updated_at: t,
                profile: Map::new(),
            },
        }
    }

    fn cache() -> SessionCache {
        SessionCache::new(Duration::from_secs(60))
    }

    #[test]
    fn cached_sessions_come_back_until_invalidated() {
        let c = cache();
        c.put(&sample("t1", "u1"), c.ticket());
        c.put(&sample("t2", "u1"), c.ticket());
        assert!(c.get("t1").is_some());
        c.invalidate(&Invalidation::Session("t1".into()));
        assert!(c.get("t1").is_none());
        assert!(c.get("t2").is_some());
        c.invalidate(&Invalidation::User("u1".into()));
        assert!(c.get("t2").is_none());
    }

    #[test]
    fn a_read_that_started_before_a_session_invalidation_is_not_cached() {
        let c = cache();
        let ticket = c.ticket();
        c.invalidate(&Invalidation::Session("t1".into()));
        assert!(!c.put(&sample("t1", "u1"), ticket));
        assert!(c.get("t1").is_none());
        // Another token of the same user is unaffected.
        assert!(c.put(&sample("t2", "u1"), ticket));
    }

    #[test]
    fn a_session_named_by_digest_is_dropped_and_stale_reads_refused() {
        let c = cache();
        c.put(&sample("t1", "u1"), c.ticket());
        let ticket = c.ticket();
        c.invalidate(&Invalidation::SessionDigest(token_digest("t1")));
        assert!(c.get("t1").is_none());
        assert!(!c.put(&sample("t1", "u1"), ticket));
        assert!(c.put(&sample("t1", "u1"), c.ticket()));
    }

    #[test]
    fn a_read_that_started_before_a_user_invalidation_is_not_cached() {
        let c = cache();
        let ticket = c.ticket();
        c.invalidate(&Invalidation::User("u1".into()));
        assert!(!c.put(&sample("t1", "u1"), ticket));
        assert!(c.get("t1").is_none());
        assert!(c.put(&sample("t9", "u2"), ticket));
    }

    #[test]
    fn a_read_that_started_after_the_invalidation_is_cached() {
        let c = cache();
        c.invalidate(&Invalidation::Session("t1".into()));
        let ticket = c.ticket();
        assert!(c.put(&sample("t1", "u1"), ticket));
        assert!(c.get("t1").is_some());
    }

    #[test]
    fn invalidating_everything_refuses_every_read_in_flight() {
        let c = cache();
        let ticket = c.ticket();
        c.invalidate(&Invalidation::All);
        assert!(!c.put(&sample("t1", "u1"), ticket));
        assert!(c.put(&sample("t1", "u1"), c.ticket()));
    }

    #[test]
    fn forgotten_tombstones_still_refuse_older_reads() {
        let c = cache();
        let ticket = c.ticket();
        c.invalidate(&Invalidation::Session("t1".into()));
        for i in 0..MAX_TOMBSTONES + 10 {
            c.invalidate(&Invalidation::Session(format!("other{i}")));
        }
        assert!(!c
            .lock()
            .tombstones
            .contains_key(&(Kind::Session, "t1".into())));
        assert!(!c.put(&sample("t1", "u1"), ticket));
        assert!(c.lock().tombstones.len() <= MAX_TOMBSTONES);
    }

    #[test]
    fn concurrent_readers_never_resurrect_an_invalidated_session() {
        // Readers take a ticket, "read the database" (a shared flag saying whether the row still
        // exists) and put what they read; a writer deletes the row then invalidates. After the
        // invalidation returned, no reader may find the session in the cache.
        use std::sync::atomic::{AtomicBool, Ordering};
        for _ in 0..20 {
            let c = Arc::new(cache());
            let row = Arc::new(AtomicBool::new(true));
            let stop = Arc::new(AtomicBool::new(false));
            let readers: Vec<_> = (0..4)
                .map(|_| {
                    let (c, row, stop) = (c.clone(), row.clone(), stop.clone());
                    std::thread::spawn(move || {
                        while !stop.load(Ordering::SeqCst) {
                            if c.get("t1").is_none() {
                                let ticket = c.ticket();
                                if row.load(Ordering::SeqCst) {
                                    std::thread::yield_now();
                                    c.put(&sample("t1", "u1"), ticket);
                                }
                            }
                        }
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_millis(2));
            row.store(false, Ordering::SeqCst);
            c.invalidate(&Invalidation::Session("t1".into()));
            for _ in 0..200 {
                assert!(c.get("t1").is_none(), "a deleted session came back");
                std::thread::yield_now();
            }
            stop.store(true, Ordering::SeqCst);
            for r in readers {
                r.join().unwrap();
            }
        }
    }

    #[test]
    fn sessions_cached_before_a_user_invalidation_do_not_come_back_with_the_user() {
        let c = cache();
        c.put(&sample("deleted-elsewhere", "u1"), c.ticket());
        // Another process deleted many sessions of u1 and announced only the user.
        c.invalidate(&Invalidation::User("u1".into()));
        c.put(&sample("still-live", "u1"), c.ticket());
        assert!(c.get("still-live").is_some());
        assert!(c.get("deleted-elsewhere").is_none());
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let c = SessionCache::new(Duration::from_millis(30));
        c.put(&sample("t1", "u1"), c.ticket());
        std::thread::sleep(Duration::from_millis(50));
        assert!(c.get("t1").is_none());
    }

    #[test]
    fn a_zero_ttl_disables_the_cache() {
        let c = SessionCache::new(Duration::ZERO);
        c.put(&sample("t1", "u1"), c.ticket());
        assert!(c.get("t1").is_none());
    }

    #[test]
    fn a_jwt_is_reused_only_for_the_same_user_state() {
        let c = cache();
        let s = sample("t1", "u1");
        c.put(&s, c.ticket());
        c.put_jwt("t1", &s.user, "jwt-1");
        assert_eq!(
            c.jwt("t1", &s.user, Duration::from_secs(30)).as_deref(),
            Some("jwt-1")
        );
        let mut changed = s.user.clone();
        changed.name = "x".into();
        assert_eq!(c.jwt("t1", &changed, Duration::from_secs(30)), None);
        assert_eq!(c.jwt("t1", &s.user, Duration::ZERO), None);
        // A JWT names its session: another session of the same user gets its own.
        c.put(&sample("t2", "u1"), c.ticket());
        assert_eq!(c.jwt("t2", &s.user, Duration::from_secs(30)), None);
    }

    #[test]
    fn entries_older_than_the_ttl_are_swept_out() {
        let cache = SessionCache::new(Duration::from_millis(50));
        for i in 0..100 {
            let found = sample(&format!("t{i}"), &format!("u{i}"));
            assert!(cache.put(&found, cache.ticket()));
        }
        assert_eq!(cache.lock().sessions.len(), 100);
        std::thread::sleep(Duration::from_millis(1100));
        assert!(cache.put(&sample("fresh", "uf"), cache.ticket()));
        let inner = cache.lock();
        assert_eq!(inner.sessions.len(), 1, "only the fresh entry is left");
        assert_eq!(inner.users.len(), 1);
        assert_eq!(inner.tokens_by_digest.len(), 1);
        // Ids stay mapped longer (JWT checks by sid).
        assert_eq!(
            inner.tokens_by_id.len(),
            1,
            "every sample shares the id \"s\""
        );
    }
}

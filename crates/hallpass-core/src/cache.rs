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
//!
//! Checks that miss together share one database read ([`SessionCache::read_once`]): when an entry
//! expires under load, every connection checking that session misses at once, and without this each
//! would take its own pooled connection (on PostgreSQL, opening new ones while the CPU is full). A
//! check joins a read in flight only if it holds the same ticket as the read's starter: no
//! invalidation came between them, so the shared answer is one the joiner could have read itself.
//! A check that starts after an invalidation holds a newer ticket and starts its own read.
//!
//! Memory is bounded by bytes, not entries: each entry's size is estimated when it is put (its
//! strings, profile values and map slots), and past the bound the oldest entries are dropped first.
//! Tokens and ids are shared (`Arc<str>`) between the maps and the eviction order, not copied.

use crate::clock::now;
use crate::model::{Session, SessionWithUser, User};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::mem::size_of;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Default bound on what the cache holds, in bytes (entries are estimated, see [`Inner::bytes`]).
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;
/// How long a session id stays mapped to its token after the session was last read (JWT checks
/// by `sid` skip a database read while it is).
const ID_MAP_AGE: Duration = Duration::from_secs(600);
/// Tombstones kept; beyond that the oldest are folded into the floor.
const MAX_TOMBSTONES: usize = 10_000;
/// Age after which a tombstone is folded into the floor (a database read in flight longer than
/// this loses its cache fill, nothing more).
const TOMBSTONE_AGE: Duration = Duration::from_secs(30);
/// What the allocator and the hash tables add to each heap block and each map entry, roughly.
const ALLOC_OVERHEAD: usize = 16;
const MAP_ENTRY_OVERHEAD: usize = 16;

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
    hex::encode(digest(token))
}

fn digest(token: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).into()
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
    /// Position in [`Inner::order`].
    seq: u64,
    bytes: usize,
}

struct SessionEntry {
    session: Arc<Session>,
    digest: [u8; 32],
    at: Instant,
    user_epoch: u64,
    /// The last JWT issued for this session, the user state it describes, and when.
    jwt: Option<IssuedJwt>,
    seq: u64,
    bytes: usize,
}

struct IssuedJwt {
    jwt: Arc<str>,
    /// The cached user entry's own value when it matched (shared, not copied).
    user: Arc<User>,
    at: Instant,
    /// The whole answer of a session check for this session and user state, rendered once.
    body: Option<Arc<[u8]>>,
}

impl IssuedJwt {
    fn bytes(&self) -> usize {
        size_of::<IssuedJwt>()
            + string_bytes(&self.jwt)
            + self.body.as_ref().map_or(0, |b| b.len() + ALLOC_OVERHEAD)
    }
}

/// A session check answered from memory: the session (for its expiry), the rendered answer and
/// the JWT issued with it.
pub struct CachedAnswer {
    /// The cached session.
    pub session: Arc<Session>,
    /// The answer's body, as rendered for this session and user state.
    pub body: Arc<[u8]>,
    /// The JWT that goes with it.
    pub jwt: Arc<str>,
}

struct IdEntry {
    token: Arc<str>,
    at: Instant,
    seq: u64,
}

/// An entry of the eviction order: which map, which key.
enum Slot {
    Session(Arc<str>),
    User(Arc<str>),
    Id(Arc<str>),
}

enum TombKey {
    Session([u8; 32]),
    User(Box<str>),
}

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation.
    generation: u64,
    /// Tickets at or below this are refused.
    floor: u64,
    sessions: HashMap<Arc<str>, SessionEntry>,
    users: HashMap<Arc<str>, UserEntry>,
    /// Token digest to token, for invalidations that name a session by digest.
    tokens_by_digest: HashMap<[u8; 32], Arc<str>>,
    /// Session id to token (and when it was last put), for JWTs (which name their session by
    /// id). A session's id and token never change, so an entry can be stale only in naming a
    /// session that is gone, which the token lookup then finds.
    tokens_by_id: HashMap<Arc<str>, IdEntry>,
    /// Insertion order of every entry (oldest first), for eviction when over the byte bound. An
    /// entry whose seq no longer matches the map's is stale and skipped.
    order: VecDeque<(Slot, u64)>,
    next_seq: u64,
    /// Estimated bytes held by the entries (not counting `order` and the tombstones, which are
    /// bounded separately).
    bytes: usize,
    /// When expired entries were last swept out.
    swept: Option<Instant>,
    /// Generation of the latest invalidation of each token digest or user id still remembered.
    session_tombstones: HashMap<[u8; 32], u64>,
    user_tombstones: HashMap<Box<str>, u64>,
    /// The same tombstones in the order they were made, for pruning.
    tombstone_order: VecDeque<(Instant, u64, TombKey)>,
}

fn string_bytes(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        s.len() + ALLOC_OVERHEAD
    }
}

fn value_bytes(v: &Value) -> usize {
    size_of::<Value>()
        + match v {
            Value::String(s) => string_bytes(s),
            Value::Array(a) => a.iter().map(value_bytes).sum::<usize>() + ALLOC_OVERHEAD,
            Value::Object(m) => {
                m.iter()
                    .map(|(k, v)| string_bytes(k) + value_bytes(v) + MAP_ENTRY_OVERHEAD)
                    .sum::<usize>()
                    + ALLOC_OVERHEAD
            }
            _ => 0,
        }
}

/// Estimated heap and inline size of a cached session with its map entries (by token, by digest).
fn session_bytes(s: &Session) -> usize {
    size_of::<Session>()
        + ALLOC_OVERHEAD
        + [&s.id, &s.token, &s.user_id, &s.ip_address, &s.user_agent]
            .iter()
            .map(|f| string_bytes(f))
            .sum::<usize>()
        + size_of::<(Arc<str>, SessionEntry)>()
        + string_bytes(&s.token)
        + size_of::<([u8; 32], Arc<str>)>()
        + 2 * MAP_ENTRY_OVERHEAD
}

fn user_bytes(u: &User) -> usize {
    size_of::<User>()
        + ALLOC_OVERHEAD
        + [&u.id, &u.name, &u.email]
            .iter()
            .map(|f| string_bytes(f))
            .sum::<usize>()
        + u.image.as_deref().map_or(0, string_bytes)
        + u.profile
            .iter()
            .map(|(k, v)| string_bytes(k) + value_bytes(v) + MAP_ENTRY_OVERHEAD)
            .sum::<usize>()
        + size_of::<(Arc<str>, UserEntry)>()
        + string_bytes(&u.id)
        + MAP_ENTRY_OVERHEAD
}

fn id_bytes(id: &str) -> usize {
    size_of::<(Arc<str>, IdEntry)>() + string_bytes(id) + MAP_ENTRY_OVERHEAD
}

impl Inner {
    /// Whether a read of this session (by token digest) and user, started at `ticket`, is stale.
    fn invalidated_after(&self, session: &[u8; 32], user_id: &str, ticket: ReadTicket) -> bool {
        let after = |g: Option<&u64>| g.is_some_and(|g| *g > ticket.0);
        ticket.0 < self.floor
            || after(self.session_tombstones.get(session))
            || after(self.user_tombstones.get(user_id))
    }

    fn tombstone(&mut self, key: TombKey) {
        let now = Instant::now();
        let generation = self.generation;
        match &key {
            TombKey::Session(d) => self.session_tombstones.insert(*d, generation),
            TombKey::User(id) => self.user_tombstones.insert(id.clone(), generation),
        };
        self.tombstone_order.push_back((now, generation, key));
        while let Some((at, _, _)) = self.tombstone_order.front() {
            if self.tombstone_order.len() <= MAX_TOMBSTONES && at.elapsed() < TOMBSTONE_AGE {
                break;
            }
            let Some((_, generation, key)) = self.tombstone_order.pop_front() else {
                break;
            };
            // A newer tombstone for the same key stays.
            match key {
                TombKey::Session(d) => {
                    if self.session_tombstones.get(&d) == Some(&generation) {
                        self.session_tombstones.remove(&d);
                    }
                }
                TombKey::User(id) => {
                    if self.user_tombstones.get(&id) == Some(&generation) {
                        self.user_tombstones.remove(&id);
                    }
                }
            }
            // Tickets taken before this generation can no longer be told apart: refuse them all.
            self.floor = self.floor.max(generation);
        }
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn remove_session(&mut self, token: &str) -> Option<SessionEntry> {
        let entry = self.sessions.remove(token)?;
        self.bytes -= entry.bytes;
        self.tokens_by_digest.remove(&entry.digest);
        Some(entry)
    }

    fn remove_user(&mut self, id: &str) {
        if let Some(entry) = self.users.remove(id) {
            self.bytes -= entry.bytes;
        }
    }

    fn remove_id(&mut self, id: &str) {
        if self.tokens_by_id.remove(id).is_some() {
            self.bytes -= id_bytes(id);
        }
    }

    fn clear_entries(&mut self) {
        self.sessions.clear();
        self.users.clear();
        self.tokens_by_digest.clear();
        self.tokens_by_id.clear();
        self.order.clear();
        self.bytes = 0;
    }

    /// Bytes held, the eviction order included.
    fn held(&self) -> usize {
        self.bytes + self.order.len() * size_of::<(Slot, u64)>()
    }

    /// Drops the oldest entries until what is held fits in `max`.
    fn evict_to(&mut self, max: usize) {
        // Stale order entries (re-put or removed since) would otherwise pile up while the cache
        // is small: rebuild the order when most of it is stale.
        let live = self.sessions.len() + self.users.len() + self.tokens_by_id.len();
        if self.order.len() > 2 * live + 1024 {
            let Inner {
                order,
                sessions,
                users,
                tokens_by_id,
                ..
            } = self;
            order.retain(|(slot, seq)| match slot {
                Slot::Session(k) => sessions.get(k).is_some_and(|e| e.seq == *seq),
                Slot::User(k) => users.get(k).is_some_and(|e| e.seq == *seq),
                Slot::Id(k) => tokens_by_id.get(k).is_some_and(|e| e.seq == *seq),
            });
        }
        while self.held() > max {
            let Some((slot, seq)) = self.order.pop_front() else {
                break;
            };
            match slot {
                Slot::Session(k) => {
                    if self.sessions.get(&k).is_some_and(|e| e.seq == seq) {
                        self.remove_session(&k);
                    }
                }
                Slot::User(k) => {
                    if self.users.get(&k).is_some_and(|e| e.seq == seq) {
                        self.remove_user(&k);
                    }
                }
                Slot::Id(k) => {
                    if self.tokens_by_id.get(&k).is_some_and(|e| e.seq == seq) {
                        self.remove_id(&k);
                    }
                }
            }
        }
    }
}

/// A database read of one session, shared by the checks that hold its ticket.
struct Flight {
    ticket: ReadTicket,
    read: OnceCell<Option<SessionWithUser>>,
}

/// Takes a flight off the map when its last interested check is done or dropped (a check whose
/// client went away must not leave it behind).
struct Landing<'a> {
    flights: &'a Mutex<HashMap<Arc<str>, Arc<Flight>>>,
    token: &'a str,
    flight: Arc<Flight>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        // Still ours, and nobody else waits on it (the map holds one reference, this guard one).
        if flights
            .get(self.token)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight) && Arc::strong_count(f) <= 2)
        {
            flights.remove(self.token);
        }
    }
}

/// The cache.
pub struct SessionCache {
    ttl: Duration,
    max_bytes: usize,
    inner: Mutex<Inner>,
    /// Database reads in flight, by token.
    flights: Mutex<HashMap<Arc<str>, Arc<Flight>>>,
}

impl SessionCache {
    /// A cache whose entries live at most `ttl` and that holds about [`DEFAULT_MAX_BYTES`] at
    /// most; a zero ttl disables it.
    pub fn new(ttl: Duration) -> SessionCache {
        SessionCache::bounded(ttl, DEFAULT_MAX_BYTES)
    }

    /// A cache whose entries live at most `ttl` and that holds about `max_bytes` at most (oldest
    /// entries are dropped first); a zero ttl or bound disables it.
    pub fn bounded(ttl: Duration, max_bytes: usize) -> SessionCache {
        SessionCache {
            ttl: if max_bytes == 0 { Duration::ZERO } else { ttl },
            max_bytes,
            inner: Mutex::new(Inner::default()),
            flights: Mutex::new(HashMap::new()),
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

    /// Estimated bytes held now (entries and their eviction order).
    pub fn bytes(&self) -> usize {
        self.lock().held()
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
            let u = inner.users.get(s.session.user_id.as_str())?;
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
        self.lock()
            .tokens_by_id
            .get(id)
            .map(|e| String::from(&*e.token))
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
            bytes,
            ..
        } = inner;
        sessions.retain(|_, e| {
            let keep = now.duration_since(e.at) < ttl;
            if !keep {
                *bytes -= e.bytes;
                tokens_by_digest.remove(&e.digest);
            }
            keep
        });
        users.retain(|_, e| {
            let keep = now.duration_since(e.at) < ttl;
            if !keep {
                *bytes -= e.bytes;
            }
            keep
        });
        tokens_by_id.retain(|id, e| {
            let keep = now.duration_since(e.at) < ID_MAP_AGE;
            if !keep {
                *bytes -= id_bytes(id);
            }
            keep
        });
    }

    /// A ticket for a database read that is about to start.
    pub fn ticket(&self) -> ReadTicket {
        ReadTicket(self.lock().generation)
    }

    /// Reads a session with `read`, or joins the read of it already in flight under the same
    /// ticket: however many checks miss one session together, the database is read once. Returns
    /// what was read, and whether this call made the read. What was read is [`put`](Self::put)
    /// under `ticket` before the others are answered. A failed read is not shared: the next waiting
    /// check reads again. If the check making the read is dropped, a waiting one takes over.
    pub async fn read_once<E, Fut>(
        &self,
        token: &str,
        ticket: ReadTicket,
        read: impl FnOnce() -> Fut,
    ) -> Result<(Option<SessionWithUser>, bool), E>
    where
        Fut: Future<Output = Result<Option<SessionWithUser>, E>>,
    {
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            match flights.get(token) {
                // Only a read that has not answered yet: one that has may be older than this check.
                Some(f) if f.ticket == ticket && !f.read.initialized() => Arc::clone(f),
                _ => {
                    // None, one that answered, or one started under another ticket: this check's
                    // own read replaces it for later arrivals (those in it keep their reference).
                    let f = Arc::new(Flight {
                        ticket,
                        read: OnceCell::new(),
                    });
                    flights.insert(Arc::from(token), Arc::clone(&f));
                    f
                }
            }
        };
        let landing = Landing {
            flights: &self.flights,
            token,
            flight,
        };
        let mut reader = false;
        let found = landing
            .flight
            .read
            .get_or_try_init(|| async {
                reader = true;
                let found = read().await?;
                // Cached before the read counts as done, so a check arriving after it finds the
                // entry instead of starting another read. An expired session is not cached (the
                // check deletes it).
                if let Some(f) = found.as_ref().filter(|f| f.session.expires_at > now()) {
                    self.put(f, ticket);
                }
                Ok(found)
            })
            .await?
            .clone();
        drop(landing);
        Ok((found, reader))
    }

    /// Remembers a session and its user, read from the database after `ticket` was taken, unless
    /// either was invalidated since. Returns whether it was kept.
    pub fn put(&self, found: &SessionWithUser, ticket: ReadTicket) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let s_bytes = session_bytes(&found.session);
        let u_bytes = user_bytes(&found.user);
        if s_bytes + u_bytes > self.max_bytes {
            return false;
        }
        let session = Arc::new(found.session.clone());
        let user = Arc::new(found.user.clone());
        let token: Arc<str> = Arc::from(session.token.as_str());
        let user_id: Arc<str> = Arc::from(user.id.as_str());
        let session_id: Arc<str> = Arc::from(session.id.as_str());
        let token_digest = digest(&token);
        let now = Instant::now();
        let mut inner = self.lock();
        self.sweep(&mut inner, now);
        if inner.invalidated_after(&token_digest, &user_id, ticket) {
            return false;
        }
        let generation = inner.generation;
        // The user's other cached sessions stay valid.
        let epoch = inner.users.get(&*user_id).map_or(generation, |e| e.epoch);
        // A JWT issued for this session stays with it (it names the user state it describes);
        // a rendered answer does not (it shows the session, which may have changed).
        let jwt = inner
            .remove_session(&token)
            .and_then(|e| e.jwt)
            .map(|j| IssuedJwt { body: None, ..j });
        let s_bytes = s_bytes + jwt.as_ref().map_or(0, IssuedJwt::bytes);
        let seq = inner.seq();
        inner.sessions.insert(
            Arc::clone(&token),
            SessionEntry {
                session,
                digest: token_digest,
                at: now,
                user_epoch: epoch,
                jwt,
                seq,
                bytes: s_bytes,
            },
        );
        inner
            .tokens_by_digest
            .insert(token_digest, Arc::clone(&token));
        inner.bytes += s_bytes;
        inner
            .order
            .push_back((Slot::Session(Arc::clone(&token)), seq));

        inner.remove_user(&user_id);
        let seq = inner.seq();
        inner.users.insert(
            Arc::clone(&user_id),
            UserEntry {
                user,
                at: now,
                epoch,
                seq,
                bytes: u_bytes,
            },
        );
        inner.bytes += u_bytes;
        inner.order.push_back((Slot::User(user_id), seq));

        inner.remove_id(&session_id);
        let seq = inner.seq();
        inner.bytes += id_bytes(&session_id);
        inner.tokens_by_id.insert(
            Arc::clone(&session_id),
            IdEntry {
                token,
                at: now,
                seq,
            },
        );
        inner.order.push_back((Slot::Id(session_id), seq));

        inner.evict_to(self.max_bytes);
        true
    }

    /// A JWT issued for this session and this exact user state within `reuse`, if any (an answer
    /// remembered without one, `set-auth-jwt` being off, holds an empty JWT: that is none).
    pub fn jwt(&self, token: &str, user: &User, reuse: Duration) -> Option<String> {
        let inner = self.lock();
        let issued = inner.sessions.get(token)?.jwt.as_ref()?;
        (*issued.user == *user && issued.at.elapsed() < reuse && !issued.jwt.is_empty())
            .then(|| String::from(&*issued.jwt))
    }

    /// The rendered answer and JWT for a token, when the session and its user are fresh in the
    /// cache, the JWT is younger than `reuse` and was made for the cached user state.
    pub fn answer(&self, token: &str, reuse: Duration) -> Option<CachedAnswer> {
        if self.ttl.is_zero() {
            return None;
        }
        let inner = self.lock();
        let s = inner.sessions.get(token)?;
        let u = inner.users.get(s.session.user_id.as_str())?;
        if !self.fresh(s.at) || !self.fresh(u.at) || u.epoch != s.user_epoch {
            return None;
        }
        let issued = s.jwt.as_ref()?;
        if !Arc::ptr_eq(&issued.user, &u.user) || issued.at.elapsed() >= reuse {
            return None;
        }
        Some(CachedAnswer {
            session: Arc::clone(&s.session),
            body: Arc::clone(issued.body.as_ref()?),
            jwt: Arc::clone(&issued.jwt),
        })
    }

    /// Remembers the JWT issued for a cached session and user state (only while that state is
    /// the cached one, whose value it then shares).
    pub fn put_jwt(&self, token: &str, user: &User, jwt: &str) {
        self.put_issued(token, None, user, jwt, None);
    }

    /// Remembers the whole answer for this session and user state with its JWT, if both are the
    /// cached ones. A session changed since (extended by another check) keeps the JWT, which does
    /// not describe the session's times, but not the answer, which does; a user changed since
    /// keeps neither.
    pub fn put_answer(&self, found: &SessionWithUser, jwt: &str, body: Arc<[u8]>) {
        self.put_issued(
            &found.session.token,
            Some(&found.session),
            &found.user,
            jwt,
            Some(body),
        );
    }

    fn put_issued(
        &self,
        token: &str,
        session: Option<&Session>,
        user: &User,
        jwt: &str,
        body: Option<Arc<[u8]>>,
    ) {
        let mut inner = self.lock();
        let Some(cached_user) = inner
            .users
            .get(user.id.as_str())
            .filter(|e| *e.user == *user)
            .map(|e| Arc::clone(&e.user))
        else {
            return;
        };
        let Some(entry) = inner.sessions.get_mut(token) else {
            return;
        };
        let body = body.filter(|_| session.is_none_or(|s| *entry.session == *s));
        let removed = entry.jwt.as_ref().map_or(0, IssuedJwt::bytes);
        let issued = IssuedJwt {
            jwt: jwt.into(),
            user: cached_user,
            at: Instant::now(),
            body,
        };
        let added = issued.bytes();
        entry.jwt = Some(issued);
        entry.bytes = entry.bytes + added - removed;
        inner.bytes = inner.bytes + added - removed;
        inner.evict_to(self.max_bytes);
    }

    /// Applies an invalidation: drops the entries and refuses reads that started before it.
    pub fn invalidate(&self, what: &Invalidation) {
        let mut inner = self.lock();
        inner.generation += 1;
        match what {
            Invalidation::Session(token) => {
                inner.remove_session(token);
                inner.tombstone(TombKey::Session(digest(token)));
            }
            Invalidation::SessionDigest(hex_digest) => {
                let mut d = [0u8; 32];
                if hex::decode_to_slice(hex_digest, &mut d).is_err() {
                    // Not a digest this code made: the session it meant cannot be found, so
                    // nothing cached can be trusted.
                    drop(inner);
                    self.invalidate(&Invalidation::All);
                    return;
                }
                if let Some(token) = inner.tokens_by_digest.get(&d).cloned() {
                    inner.remove_session(&token);
                }
                inner.tombstone(TombKey::Session(d));
            }
            Invalidation::User(id) => {
                // Without its user entry (and, once it is back, with a new epoch), no session of
                // this user cached so far is answered from memory: each is read again, and a read
                // from before this point is refused by the tombstone.
                inner.remove_user(id);
                inner.tombstone(TombKey::User(id.as_str().into()));
            }
            Invalidation::All => {
                inner.clear_entries();
                inner.session_tombstones.clear();
                inner.user_tombstones.clear();
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
        assert!(!c.lock().session_tombstones.contains_key(&digest("t1")));
        assert!(!c.put(&sample("t1", "u1"), ticket));
        assert!(c.lock().session_tombstones.len() <= MAX_TOMBSTONES);
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
    fn an_answer_is_remembered_only_for_the_session_and_user_it_shows() {
        let reuse = Duration::from_secs(30);
        let c = cache();
        let s = sample("t1", "u1");
        c.put(&s, c.ticket());
        c.put_answer(&s, "jwt-1", Arc::from(&b"answer-1"[..]));
        let a = c.answer("t1", reuse).expect("the answer is remembered");
        assert_eq!((&*a.body, &*a.jwt), (&b"answer-1"[..], "jwt-1"));

        // The session was extended by another check meanwhile: the JWT (which does not show the
        // session's times) is kept, the answer (which does) is not.
        let mut extended = s.clone();
        extended.session.expires_at = s.session.expires_at + chrono::Duration::days(1);
        c.put(&extended, c.ticket());
        c.put_answer(&s, "jwt-2", Arc::from(&b"answer-2"[..]));
        assert!(
            c.answer("t1", reuse).is_none(),
            "an answer showing the old expiry"
        );
        assert_eq!(c.jwt("t1", &s.user, reuse).as_deref(), Some("jwt-2"));

        // The user changed: neither is kept.
        let mut renamed = extended.clone();
        renamed.user.name = "renamed".into();
        c.put(&renamed, c.ticket());
        c.put_answer(&extended, "jwt-3", Arc::from(&b"answer-3"[..]));
        assert!(c.answer("t1", reuse).is_none());
        assert_eq!(c.jwt("t1", &renamed.user, reuse), None);
        // What was kept before stays, for the user state it was signed for; jwt-3 was not taken.
        assert_eq!(c.jwt("t1", &extended.user, reuse).as_deref(), Some("jwt-2"));
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

    /// What the entries add up to, recomputed from scratch.
    fn recount(inner: &Inner) -> usize {
        inner.sessions.values().map(|e| e.bytes).sum::<usize>()
            + inner.users.values().map(|e| e.bytes).sum::<usize>()
            + inner
                .tokens_by_id
                .keys()
                .map(|id| id_bytes(id))
                .sum::<usize>()
    }

    fn with_profile(token: &str, user_id: &str, id: &str) -> SessionWithUser {
        let mut found = sample(token, user_id);
        found.session.id = id.into();
        found.session.user_agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0".into();
        found
            .user
            .profile
            .insert("softwareBackground".into(), "intermediate".into());
        found
            .user
            .profile
            .insert("hardwareBackground".into(), "beginner".into());
        found
    }

    #[test]
    fn the_cache_stays_within_its_byte_bound_and_drops_the_oldest_first() {
        let bound = 256 * 1024;
        let c = SessionCache::bounded(Duration::from_secs(60), bound);
        for i in 0..20_000 {
            let found = with_profile(&format!("t{i:031}"), &format!("u{i}"), &format!("s{i}"));
            assert!(c.put(&found, c.ticket()));
            c.put_jwt(&found.session.token, &found.user, &"j".repeat(600));
            assert!(
                c.bytes() <= bound,
                "{} bytes held after {i} puts",
                c.bytes()
            );
        }
        let inner = c.lock();
        assert_eq!(inner.bytes, recount(&inner));
        let kept = inner.sessions.len();
        assert!(kept > 100, "only {kept} sessions kept in {bound} bytes");
        drop(inner);
        // The newest are there, the oldest are not.
        assert!(c.get(&format!("t{:031}", 19_999)).is_some());
        assert!(c.get(&format!("t{:031}", 0)).is_none());
        assert!(c.token_for_session_id("s0").is_none());
        assert!(c.token_for_session_id("s19999").is_some());
    }

    #[test]
    fn the_byte_count_matches_the_entries_through_every_operation() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let c = SessionCache::bounded(Duration::from_secs(60), 64 * 1024);
        for step in 0..20_000 {
            let t = format!("t{}", rng.gen_range(0..300));
            let u = format!("u{}", rng.gen_range(0..50));
            let s = format!("s{}", rng.gen_range(0..300));
            match rng.gen_range(0..10) {
                0..=4 => {
                    c.put(&with_profile(&t, &u, &s), c.ticket());
                }
                5 => {
                    let found = with_profile(&t, &u, &s);
                    let jwt = "j".repeat(rng.gen_range(1..900));
                    if rng.gen_bool(0.5) {
                        c.put_jwt(&t, &found.user, &jwt);
                    } else {
                        let body = vec![b'a'; rng.gen_range(1..900)];
                        c.put_answer(&found, &jwt, Arc::from(body));
                    }
                }
                6 => c.invalidate(&Invalidation::Session(t)),
                7 => c.invalidate(&Invalidation::SessionDigest(token_digest(&t))),
                8 => c.invalidate(&Invalidation::User(u)),
                _ => {
                    if rng.gen_range(0..50) == 0 {
                        c.invalidate(&Invalidation::All);
                    } else {
                        let _ = c.get(&t);
                    }
                }
            }
            let inner = c.lock();
            assert_eq!(inner.bytes, recount(&inner), "after step {step}");
            assert!(inner.held() <= 64 * 1024);
            // Every digest names a cached session and every cached session has its digest.
            assert_eq!(inner.tokens_by_digest.len(), inner.sessions.len());
        }
    }

    #[test]
    fn concurrent_puts_and_invalidations_keep_the_bound_and_the_count() {
        let bound = 128 * 1024;
        let c = Arc::new(SessionCache::bounded(Duration::from_secs(60), bound));
        let threads: Vec<_> = (0..8)
            .map(|n| {
                let c = Arc::clone(&c);
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        let t = format!("t{n}-{}", i % 700);
                        let u = format!("u{}", i % 40);
                        let found = with_profile(&t, &u, &format!("s{n}-{i}"));
                        match i % 7 {
                            0 => c.invalidate(&Invalidation::User(u)),
                            1 => c.invalidate(&Invalidation::Session(t)),
                            2 => c.put_jwt(&t, &found.user, "jwt"),
                            3 => c.put_answer(&found, "jwt", Arc::from(&b"answer"[..])),
                            _ => {
                                c.put(&found, c.ticket());
                                let _ = c.get(&t);
                            }
                        }
                        assert!(c.bytes() <= bound);
                    }
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().is_ok());
        }
        let inner = c.lock();
        assert_eq!(inner.bytes, recount(&inner));
        assert!(inner.held() <= bound);
    }

    #[test]
    fn a_zero_byte_bound_disables_the_cache() {
        let c = SessionCache::bounded(Duration::from_secs(60), 0);
        assert!(!c.put(&sample("t1", "u1"), c.ticket()));
        assert!(c.get("t1").is_none());
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn an_unreadable_digest_from_the_feed_drops_everything() {
        let c = cache();
        c.put(&sample("t1", "u1"), c.ticket());
        let ticket = c.ticket();
        c.invalidate(&Invalidation::SessionDigest("not hex".into()));
        assert!(c.get("t1").is_none());
        assert!(!c.put(&sample("t1", "u1"), ticket));
    }

    type ReadFuture =
        std::pin::Pin<Box<dyn Future<Output = Result<Option<SessionWithUser>, ()>> + Send>>;

    /// A session that has not expired.
    fn live(token: &str, user_id: &str) -> SessionWithUser {
        let mut s = sample(token, user_id);
        s.session.expires_at = now() + chrono::Duration::hours(1);
        s
    }

    /// A read that counts how often it ran and answers after `release` is notified (or at once
    /// with no gate).
    fn counted_read(
        reads: &Arc<std::sync::atomic::AtomicUsize>,
        gate: Option<Arc<tokio::sync::Notify>>,
        answer: Option<SessionWithUser>,
    ) -> impl FnOnce() -> ReadFuture {
        let reads = Arc::clone(reads);
        move || {
            Box::pin(async move {
                reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if let Some(gate) = gate {
                    gate.notified().await;
                }
                Ok(answer)
            })
        }
    }

    /// Waits until `ready` holds, failing the test after five seconds.
    async fn until(what: &str, ready: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !ready() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn waiting_on(c: &SessionCache, token: &str) -> usize {
        c.flights
            .lock()
            .unwrap()
            .get(token)
            .map_or(0, |f| Arc::strong_count(f) - 1)
    }

    /// A cache, a read counter and a gate, with a check of "t1" under `ticket` spawned whose read
    /// has started and waits on the gate.
    async fn gated_first_read() -> (
        Arc<SessionCache>,
        Arc<std::sync::atomic::AtomicUsize>,
        Arc<tokio::sync::Notify>,
        ReadTicket,
        tokio::task::JoinHandle<Result<(Option<SessionWithUser>, bool), ()>>,
    ) {
        let c = Arc::new(cache());
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let ticket = c.ticket();
        let first = {
            let (c, reads, gate) = (Arc::clone(&c), Arc::clone(&reads), Arc::clone(&gate));
            tokio::spawn(async move {
                c.read_once(
                    "t1",
                    ticket,
                    counted_read(&reads, Some(gate), Some(live("t1", "u1"))),
                )
                .await
            })
        };
        until("the first read started", || {
            reads.load(std::sync::atomic::Ordering::SeqCst) == 1
        })
        .await;
        (c, reads, gate, ticket, first)
    }

    fn flights_in(c: &SessionCache) -> usize {
        c.flights.lock().unwrap().len()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn checks_that_miss_one_session_together_read_it_once() {
        let c = Arc::new(cache());
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let ticket = c.ticket();
        let mut checks = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let (c, reads, gate) = (Arc::clone(&c), Arc::clone(&reads), Arc::clone(&gate));
            checks.spawn(async move {
                c.read_once(
                    "t1",
                    ticket,
                    counted_read(&reads, Some(gate), Some(live("t1", "u1"))),
                )
                .await
            });
        }
        // All 32 are waiting on the one read before it answers.
        until("32 checks wait on one read", || waiting_on(&c, "t1") == 32).await;
        gate.notify_waiters();
        let mut readers = 0;
        while let Some(done) = checks.join_next().await {
            let (found, reader) = done.unwrap().unwrap();
            assert_eq!(found.unwrap().session.token, "t1");
            readers += usize::from(reader);
        }
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(
            readers, 1,
            "exactly one check made the read (and caches it)"
        );
        assert!(c.get("t1").is_some(), "what it read was cached");
        assert_eq!(flights_in(&c), 0, "the finished read is off the map");
        // Another token has its own read.
        let (other, reader) = c
            .read_once("t2", c.ticket(), counted_read(&reads, None, None))
            .await
            .unwrap();
        assert!(other.is_none() && reader);
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_check_that_starts_after_an_invalidation_does_not_join_an_earlier_read() {
        let (c, reads, gate, before, early) = gated_first_read().await;
        // The session ends (row deleted, then invalidated) while the early read is in flight.
        c.invalidate(&Invalidation::Session("t1".into()));
        let after = c.ticket();
        assert_ne!(before, after);
        let later = c.read_once("t1", after, counted_read(&reads, None, None));
        let (found, reader) = tokio::time::timeout(Duration::from_secs(5), later)
            .await
            .expect("the later check waited on the early read")
            .unwrap();
        assert!(reader, "the later check read the database itself");
        assert!(
            found.is_none(),
            "and saw the session gone, not the early read's answer"
        );
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2);
        gate.notify_waiters();
        let (early_found, _) = early.await.unwrap().unwrap();
        assert!(early_found.is_some());
        // What the early read found does not enter the cache either.
        assert!(!c.put(&early_found.unwrap(), before));
        assert_eq!(flights_in(&c), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn when_the_reading_check_goes_away_or_fails_a_waiting_one_reads() {
        let (c, reads, _gate, ticket, first) = gated_first_read().await;
        let second = {
            let (c, reads) = (Arc::clone(&c), Arc::clone(&reads));
            tokio::spawn(async move {
                c.read_once(
                    "t1",
                    ticket,
                    counted_read(&reads, None, Some(live("t1", "u1"))),
                )
                .await
            })
        };
        until("the second check waits on the first read", || {
            waiting_on(&c, "t1") == 2
        })
        .await;
        // The client of the first check went away mid-read.
        first.abort();
        let (found, reader) = second.await.unwrap().unwrap();
        assert!(
            reader && found.is_some(),
            "the waiting check made its own read"
        );
        assert_eq!(reads.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_eq!(flights_in(&c), 0, "neither left its flight behind");

        // A failed read is not handed to the others: the next one tries again.
        let failing = || async { Err::<Option<SessionWithUser>, ()>(()) };
        assert!(c.read_once("t1", ticket, failing).await.is_err());
        let (found, reader) = c
            .read_once(
                "t1",
                ticket,
                counted_read(&reads, None, Some(live("t1", "u1"))),
            )
            .await
            .unwrap();
        assert!(reader && found.is_some());
        assert_eq!(flights_in(&c), 0);
    }
}

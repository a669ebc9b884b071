//! Storage traits, split by role. Each database store (SQLite, PostgreSQL) implements all of them
//! over Better Auth's schema; the shared store test suite drives every implementation the same way.

use crate::cache::Invalidation;
use crate::clock::Timestamp;
use crate::model::{
    AccountInfo, CredentialAccount, Session, SessionWithUser, User, UserChanges, Verification,
};
use async_trait::async_trait;

/// What a store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique column already holds the value (the column is named).
    #[error("conflict on {0}")]
    Conflict(String),
    /// The database failed or could not be reached. Internal detail, for the log only.
    #[error("database error: {0}")]
    Backend(String),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Users and their credential accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user and its credential account in one transaction. A taken email is
    /// `Conflict("email")`, and then nothing is written.
    async fn insert_user(&self, user: &User, account: &CredentialAccount) -> StoreResult<()>;
    /// The user with this id.
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>>;
    /// The user with this (lower-cased) email.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// The password hash of the user's credential account, if it has one.
    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>>;
    /// Replaces the credential account's password hash; false when the user has none.
    async fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Applies changes and returns the updated user, or None when there is no such user.
    async fn update_user(&self, id: &str, changes: &UserChanges) -> StoreResult<Option<User>>;
    /// Deletes a user with its accounts and sessions; false when there was none.
    async fn delete_user(&self, id: &str) -> StoreResult<bool>;
    /// How many credential accounts have a password, and how many of those are Argon2id hashes
    /// (the rest are scrypt, Better Auth's format).
    async fn password_algorithms(&self) -> StoreResult<(u64, u64)>;
    /// The user's accounts (email and password: one `credential` account).
    async fn accounts(&self, user_id: &str) -> StoreResult<Vec<AccountInfo>>;
    /// Users ordered by creation time.
    async fn list_users(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>>;
}

/// Sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts a session.
    async fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// The session with this token, with its user.
    async fn session_with_user(&self, token: &str) -> StoreResult<Option<SessionWithUser>>;
    /// Sets a session's expiry and update time; returns the updated session, None when it is gone.
    async fn extend_session(
        &self,
        token: &str,
        expires_at: Timestamp,
        updated_at: Timestamp,
    ) -> StoreResult<Option<Session>>;
    /// Deletes the session with this token; false when there was none.
    async fn delete_session(&self, token: &str) -> StoreResult<bool>;
    /// Deletes the session with this token only if it belongs to the user.
    async fn delete_user_session(&self, user_id: &str, token: &str) -> StoreResult<bool>;
    /// Deletes the user's sessions, except the one with `keep` if given; returns the deleted tokens.
    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> StoreResult<Vec<String>>;
    /// The user's sessions that have not expired at `now`, oldest first.
    async fn user_sessions(&self, user_id: &str, now: Timestamp) -> StoreResult<Vec<Session>>;
}

/// A signing key as the `jwks` table holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredKey {
    /// 32-character id; the JWT `kid`.
    pub id: String,
    /// The public JWK, JSON-encoded.
    pub public_key: String,
    /// The private JWK, encrypted and JSON-encoded as Better Auth writes it.
    pub private_key: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// When the key stops signing (it is published for a grace period after).
    pub expires_at: Option<Timestamp>,
    /// JOSE algorithm (`EdDSA`).
    pub alg: Option<String>,
    /// Curve (`Ed25519`).
    pub crv: Option<String>,
}

/// Signing keys (the `jwks` table).
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Every stored key, newest first.
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>>;
    /// Stores a new key.
    async fn insert_signing_key(&self, key: &StoredKey) -> StoreResult<()>;
}

/// One-time values (Better Auth's `verification` table): password-reset tokens.
#[async_trait]
pub trait VerificationStore: Send + Sync {
    /// Stores a value.
    async fn insert_verification(&self, v: &Verification) -> StoreResult<()>;
    /// The value under an identifier, left in place.
    async fn verification(&self, identifier: &str) -> StoreResult<Option<Verification>>;
    /// Takes the value under an identifier: deletes and returns it, atomically, so two concurrent
    /// uses of one token cannot both succeed.
    async fn take_verification(&self, identifier: &str) -> StoreResult<Option<Verification>>;
    /// Deletes values that expired before `before`; returns how many.
    async fn prune_verifications(&self, before: Timestamp) -> StoreResult<u64>;
}

/// A rate-limit counter as it stands after [`CounterStore::consume`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    /// Requests counted in the current window; above the maximum means the last one was refused.
    pub count: i64,
    /// When the window's last allowed request came (epoch milliseconds).
    pub last_request_ms: i64,
}

impl Counter {
    /// Whether the request that produced this counter was allowed under `max`.
    pub fn allowed(&self, max: i64) -> bool {
        self.count <= max
    }

    /// Whole seconds until the window ends (at least 1), for `X-Retry-After`.
    pub fn retry_after_s(&self, window_ms: i64, now_ms: i64) -> u64 {
        let left = (self.last_request_ms + window_ms - now_ms).max(1);
        u64::try_from((left + 999) / 1000).unwrap_or(1)
    }
}

/// Rate-limit counters (Better Auth's `rateLimit` table), shared by every process on the database.
/// Better Auth's algorithm: a window starts at the first request and is extended by each allowed
/// one; once `max` requests are counted, requests are refused until `window` has passed since the
/// last allowed request.
#[async_trait]
pub trait CounterStore: Send + Sync {
    /// Creates the `rateLimit` table when it is missing. Like Better Auth, which creates it only
    /// for database storage, migrations leave it out: a Better Auth database stays as it was.
    async fn prepare_counters(&self) -> StoreResult<()>;
    /// Counts a request under `key`, atomically: refused ones are counted as `max + 1` and do not
    /// move the window.
    async fn consume(
        &self,
        key: &str,
        window_ms: i64,
        max: i64,
        now_ms: i64,
    ) -> StoreResult<Counter>;
    /// Gives back one request counted under `key` (a sign-in that turned out right).
    async fn release(&self, key: &str) -> StoreResult<()>;
    /// The counter under `key`, without counting anything.
    async fn peek(&self, key: &str) -> StoreResult<Option<Counter>>;
    /// Deletes counters whose last request is before `before_ms`; returns how many.
    async fn prune_counters(&self, before_ms: i64) -> StoreResult<u64>;
}

/// A whole store: every role, plus health and schema management.
#[async_trait]
pub trait Store: UserStore + SessionStore + KeyStore + CounterStore + VerificationStore {
    /// A short name of the backend, for logs (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// The SQL statements that would bring the schema up to date, without running them.
    async fn migration_plan(&self) -> StoreResult<Vec<String>>;
    /// Brings the schema up to date: creates what is missing, never drops or rewrites data.
    async fn migrate(&self) -> StoreResult<Vec<String>>;
    /// Connections of the pool: (open, idle), for metrics. None when not known.
    fn pool_stats(&self) -> Option<(u32, usize)> {
        None
    }
    /// Changes made by other processes sharing the database (PostgreSQL LISTEN/NOTIFY), so caches
    /// stay correct across processes. None for stores that only one server process uses.
    fn invalidations(&self) -> Option<tokio::sync::broadcast::Receiver<Invalidation>> {
        None
    }
}

//! Storage traits, split by role. Each database store (SQLite, PostgreSQL) implements all of them
//! over Better Auth's schema; the shared store test suite drives every implementation the same way.

use crate::cache::Invalidation;
use crate::clock::Timestamp;
use crate::model::{CredentialAccount, Session, SessionWithUser, User, UserChanges};
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

/// A whole store: every role, plus health and schema management.
#[async_trait]
pub trait Store: UserStore + SessionStore + KeyStore {
    /// A short name of the backend, for logs (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// The SQL statements that would bring the schema up to date, without running them.
    async fn migration_plan(&self) -> StoreResult<Vec<String>>;
    /// Brings the schema up to date: creates what is missing, never drops or rewrites data.
    async fn migrate(&self) -> StoreResult<Vec<String>>;
    /// Changes made by other processes sharing the database (PostgreSQL LISTEN/NOTIFY), so caches
    /// stay correct across processes. None for stores that only one server process uses.
    fn invalidations(&self) -> Option<tokio::sync::broadcast::Receiver<Invalidation>> {
        None
    }
}

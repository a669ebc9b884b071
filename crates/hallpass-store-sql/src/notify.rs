//! Cross-process cache invalidation over PostgreSQL LISTEN/NOTIFY.
//!
//! [`SharedStore`] wraps a PostgreSQL [`SqlStore`]: after every change that can make another process's
//! cached session or user wrong (a session deleted, a user changed or deleted), it sends a
//! notification on the `hallpass_invalidate` channel, *after* the change is committed, so a
//! process that drops its entry and reads again sees the new state. Every process listens on the
//! channel and feeds [`Store::invalidations`]. When the listening connection drops, notifications
//! may have been missed, so the feed says `All` and caches start over.

use crate::dialect::{Arg, Dialect, Pool};
use crate::SqlStore;
use async_trait::async_trait;
use hallpass_core::cache::{token_digest, Invalidation};
use hallpass_core::clock::Timestamp;
use hallpass_core::model::{
    AccountInfo, CredentialAccount, Session, SessionWithUser, User, UserChanges, Verification,
};
use hallpass_core::store::{
    Counter, CounterStore, KeyStore, SessionStore, Store, StoreResult, StoredKey, UserStore,
    VerificationStore,
};
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::broadcast;

/// The notification channel. Payloads are `s:<SHA-256 of a session token, hex>` or `u:<user id>`:
/// no session token ever travels through it.
pub const CHANNEL: &str = "hallpass_invalidate";

/// A PostgreSQL store shared by several hallpass processes.
pub struct SharedStore {
    inner: SqlStore,
    notify_sql: String,
    feed: broadcast::Sender<Invalidation>,
}

fn parse(payload: &str) -> Option<Invalidation> {
    match payload.split_once(':')? {
        ("s", digest) => Some(Invalidation::SessionDigest(digest.to_owned())),
        ("u", id) => Some(Invalidation::User(id.to_owned())),
        _ => None,
    }
}

impl SharedStore {
    /// Wraps a store and starts listening (needs a Tokio runtime). A SQLite store, which one
    /// process uses, gets no feed.
    pub fn start(inner: SqlStore) -> SharedStore {
        let (feed, _) = broadcast::channel(4096);
        let notify_sql = inner.dialect().render("select pg_notify(?, ?)");
        let Pool::Postgres(main) = inner.pool() else {
            return SharedStore {
                inner,
                notify_sql,
                feed,
            };
        };
        // A pool of its own, so the held LISTEN connection does not take one from request handling.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with((*main.connect_options()).clone());
        let tx = feed.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(mut listener) = PgListener::connect_with(&pool).await {
                    if listener.listen(CHANNEL).await.is_ok() {
                        // Anything sent while we were not listening is lost: start over.
                        let _ = tx.send(Invalidation::All);
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(n)) => {
                                    if let Some(what) = parse(n.payload()) {
                                        let _ = tx.send(what);
                                    }
                                }
                                // The connection dropped; the next call reconnects.
                                Ok(None) => {
                                    let _ = tx.send(Invalidation::All);
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "invalidation listener failed; reconnecting");
                                    break;
                                }
                            }
                        }
                    }
                }
                let _ = tx.send(Invalidation::All);
                if pool.is_closed() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        SharedStore {
            inner,
            notify_sql,
            feed,
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &SqlStore {
        &self.inner
    }

    async fn notify(&self, payload: String) {
        if self.inner.dialect() != Dialect::Postgres {
            return;
        }
        let args = vec![Arg::Text(CHANNEL.into()), Arg::Text(payload)];
        let sent = self.inner.pool().execute(&self.notify_sql, args).await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "could not notify other processes; their caches expire by TTL");
        }
    }
}

#[async_trait]
impl UserStore for SharedStore {
    async fn insert_user(&self, user: &User, account: &CredentialAccount) -> StoreResult<()> {
        self.inner.insert_user(user, account).await
    }
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.inner.user_by_id(id).await
    }
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.inner.user_by_email(email).await
    }
    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        self.inner.password_hash(user_id).await
    }
    async fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.inner.set_password_hash(user_id, hash, now).await
    }
    async fn update_user(&self, id: &str, changes: &UserChanges) -> StoreResult<Option<User>> {
        let out = self.inner.update_user(id, changes).await?;
        self.notify(format!("u:{id}")).await;
        Ok(out)
    }
    async fn delete_user(&self, id: &str) -> StoreResult<bool> {
        let out = self.inner.delete_user(id).await?;
        self.notify(format!("u:{id}")).await;
        Ok(out)
    }
    async fn accounts(&self, user_id: &str) -> StoreResult<Vec<AccountInfo>> {
        self.inner.accounts(user_id).await
    }
    async fn password_algorithms(&self) -> StoreResult<(u64, u64)> {
        self.inner.password_algorithms().await
    }
    async fn list_users(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>> {
        self.inner.list_users(limit, offset).await
    }
}

#[async_trait]
impl SessionStore for SharedStore {
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        self.inner.insert_session(session).await
    }
    async fn session_with_user(&self, token: &str) -> StoreResult<Option<SessionWithUser>> {
        self.inner.session_with_user(token).await
    }
    async fn extend_session(
        &self,
        token: &str,
        expires_at: Timestamp,
        updated_at: Timestamp,
    ) -> StoreResult<Option<Session>> {
        self.inner
            .extend_session(token, expires_at, updated_at)
            .await
    }
    async fn delete_session(&self, token: &str) -> StoreResult<bool> {
        let out = self.inner.delete_session(token).await?;
        self.notify(format!("s:{}", token_digest(token))).await;
        Ok(out)
    }
    async fn delete_user_session(&self, user_id: &str, token: &str) -> StoreResult<bool> {
        let out = self.inner.delete_user_session(user_id, token).await?;
        if out {
            self.notify(format!("s:{}", token_digest(token))).await;
        }
        Ok(out)
    }
    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        let out = self.inner.delete_user_sessions(user_id, keep).await?;
        // A few sessions are named one by one; beyond that one message for the user covers them
        // all (a long token list would not fit NOTIFY's payload limit).
        for token in out.iter().take(8) {
            self.notify(format!("s:{}", token_digest(token))).await;
        }
        if out.len() > 8 {
            self.notify(format!("u:{user_id}")).await;
        }
        Ok(out)
    }
    async fn user_sessions(&self, user_id: &str, now: Timestamp) -> StoreResult<Vec<Session>> {
        self.inner.user_sessions(user_id, now).await
    }
}

#[async_trait]
impl KeyStore for SharedStore {
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        self.inner.signing_keys().await
    }
    async fn insert_signing_key(&self, key: &StoredKey) -> StoreResult<()> {
        self.inner.insert_signing_key(key).await
    }
}

#[async_trait]
impl VerificationStore for SharedStore {
    async fn insert_verification(&self, v: &Verification) -> StoreResult<()> {
        self.inner.insert_verification(v).await
    }
    async fn verification(&self, identifier: &str) -> StoreResult<Option<Verification>> {
        self.inner.verification(identifier).await
    }
    async fn take_verification(&self, identifier: &str) -> StoreResult<Option<Verification>> {
        self.inner.take_verification(identifier).await
    }
    async fn prune_verifications(&self, before: Timestamp) -> StoreResult<u64> {
        self.inner.prune_verifications(before).await
    }
}

#[async_trait]
impl CounterStore for SharedStore {
    async fn prepare_counters(&self) -> StoreResult<()> {
        self.inner.prepare_counters().await
    }
    async fn consume(
        &self,
        key: &str,
        window_ms: i64,
        max: i64,
        now_ms: i64,
    ) -> StoreResult<Counter> {
        self.inner.consume(key, window_ms, max, now_ms).await
    }
    async fn release(&self, key: &str) -> StoreResult<()> {
        self.inner.release(key).await
    }
    async fn peek(&self, key: &str) -> StoreResult<Option<Counter>> {
        self.inner.peek(key).await
    }
    async fn prune_counters(&self, before_ms: i64) -> StoreResult<u64> {
        self.inner.prune_counters(before_ms).await
    }
}

#[async_trait]
impl Store for SharedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
    async fn migration_plan(&self) -> StoreResult<Vec<String>> {
        self.inner.migration_plan().await
    }
    async fn migrate(&self) -> StoreResult<Vec<String>> {
        self.inner.migrate().await
    }
    fn invalidations(&self) -> Option<broadcast::Receiver<Invalidation>> {
        Some(self.feed.subscribe())
    }
    fn pool_stats(&self) -> Option<(u32, usize)> {
        self.inner.pool_stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_what_changed() {
        assert_eq!(
            parse("s:abc"),
            Some(Invalidation::SessionDigest("abc".into()))
        );
        assert_eq!(parse("u:42"), Some(Invalidation::User("42".into())));
        assert_eq!(parse("x:1"), None);
        assert_eq!(parse("garbage"), None);
    }
}

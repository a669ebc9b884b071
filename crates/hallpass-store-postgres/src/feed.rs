//! Cross-process cache invalidation over PostgreSQL LISTEN/NOTIFY (DESIGN, decision 9).
//!
//! Every change a store makes to a session or a user is announced on one channel; every store
//! listens on a connection of its own and hands what *other* stores changed to the service's cache
//! (`Store::invalidations`). A notification lost with a dropped connection is covered by an
//! `Invalidation::All` after each (re)connection, and by the cache's TTL if all else fails.

use hallpass_core::cache::Invalidation;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// The notification channel.
pub const CHANNEL: &str = "hallpass_invalidate";

/// Invalidations buffered per receiver before it lags (and then clears its whole cache).
const BUFFER: usize = 1024;

const RETRY_MIN: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// One store's side of the feed: what it announces, and the listener it starts on first use.
pub struct Feed {
    /// Tags this store's notifications, so it does not invalidate what it changed itself (the
    /// service already did, at once).
    instance: String,
    sender: broadcast::Sender<Invalidation>,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl Feed {
    /// A feed with a fresh instance tag; nothing is started yet.
    pub fn new() -> Feed {
        Feed {
            instance: hallpass_core::id::generate_id(16),
            sender: broadcast::channel(BUFFER).0,
            listener: Mutex::new(None),
        }
    }

    /// The notification payload for a change this store made: `<instance> <kind> <key>`.
    pub fn payload(&self, what: &Invalidation) -> String {
        match what {
            Invalidation::Session(token) => format!("{} s {token}", self.instance),
            Invalidation::User(id) => format!("{} u {id}", self.instance),
            Invalidation::All => format!("{} a -", self.instance),
        }
    }

    /// A receiver of other stores' changes. The first call starts listening, on a connection of
    /// its own (not one of the pool's); None outside a Tokio runtime.
    pub fn subscribe(&self, pool: &PgPool) -> Option<broadcast::Receiver<Invalidation>> {
        let mut listener = self.listener.lock().ok()?;
        if listener.is_none() {
            let runtime = tokio::runtime::Handle::try_current().ok()?;
            let options = (*pool.connect_options()).clone();
            let own_pool = PgPoolOptions::new()
                .max_connections(1)
                .max_lifetime(None)
                .idle_timeout(None)
                .connect_lazy_with(options);
            *listener = Some(runtime.spawn(listen(
                own_pool,
                self.instance.clone(),
                self.sender.clone(),
            )));
        }
        Some(self.sender.subscribe())
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        if let Ok(mut listener) = self.listener.lock() {
            if let Some(task) = listener.take() {
                task.abort();
            }
        }
    }
}

/// What another store's payload says changed; None for this store's own and for garbage.
fn parse(payload: &str, own_instance: &str) -> Option<Invalidation> {
    let mut parts = payload.splitn(3, ' ');
    let (instance, kind, key) = (parts.next()?, parts.next()?, parts.next()?);
    if instance == own_instance {
        return None;
    }
    match kind {
        "s" => Some(Invalidation::Session(key.to_owned())),
        "u" => Some(Invalidation::User(key.to_owned())),
        "a" => Some(Invalidation::All),
        _ => None,
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Listens until aborted, reconnecting with backoff; after every (re)connection, anything may
/// have changed unseen, so receivers are told to drop everything.
async fn listen(pool: PgPool, instance: String, sender: broadcast::Sender<Invalidation>) {
    let mut retry = RETRY_MIN;
    let mut current: Option<PgListener> = None;
    loop {
        let listener = match current.as_mut() {
            Some(listener) => listener,
            None => match connect(&pool).await {
                Ok(listener) => {
                    let _ = sender.send(Invalidation::All);
                    current.insert(listener)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for invalidations; retrying");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(RETRY_MAX);
                    continue;
                }
            },
        };
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                retry = RETRY_MIN;
                if let Some(what) = parse(notification.payload(), &instance) {
                    // No receiver yet is not an error: there is nothing cached to invalidate.
                    let _ = sender.send(what);
                }
            }
            Ok(None) => {
                tracing::warn!("invalidation listener lost its connection; reconnecting");
                current = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "invalidation listener failed; reconnecting");
                current = None;
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(RETRY_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_of_other_stores_parse_and_own_ones_are_skipped() {
        let feed = Feed::new();
        let other = Feed::new();
        for what in [
            Invalidation::Session("tok".into()),
            Invalidation::User("uid".into()),
            Invalidation::All,
        ] {
            assert_eq!(parse(&other.payload(&what), &feed.instance), Some(what.clone()));
            assert_eq!(parse(&feed.payload(&what), &feed.instance), None);
        }
        assert_eq!(parse("garbage", &feed.instance), None);
        assert_eq!(parse("x q y", &feed.instance), None);
    }
}

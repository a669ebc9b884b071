//! Session checks on PostgreSQL, read together.
//!
//! Every session check that misses the cache reads one session joined with its user. Read one by
//! one, each costs a pooled connection, a round trip and a wake-up of a PostgreSQL backend, and
//! under load several backends compete with hallpass for the same cores. [`SessionReads`] puts the
//! tokens of the checks waiting at the same moment into one statement
//! (`where s."token" = any($1)`) and hands each check its own row.
//!
//! Nothing waits to fill a batch: the first check finds a reader free and is read at once, alone.
//! Only when every reader is busy do checks queue, and the next reader to come free takes all of
//! them (up to [`MOST_AT_ONCE`]). So batches grow with the load, and a quiet server reads as before.
//!
//! Each read starts after the check asked for it, so it sees every write committed before the
//! check began (a revoked session is never read back from before its revocation).

use crate::dialect::{db_error, read_again_on_lost_connection};
use hallpass_core::store::{StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row as _};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

/// Tokens read by one statement at most.
pub const MOST_AT_ONCE: usize = 64;

/// What a waiting check receives: its row (shared, as two checks of one token share it), or none.
type Answer = Result<Option<Arc<PgRow>>, String>;

struct Waiting {
    token: String,
    answer: oneshot::Sender<Answer>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    /// Readers running (each a task reading batches until the queue is empty).
    readers: usize,
}

struct Shared {
    pool: PgPool,
    /// The session join for many tokens, its `token` column at `token_column`.
    sql: String,
    token_column: usize,
    readers_at_most: usize,
    queue: Mutex<Queue>,
    /// Checks read, and the statements that read them.
    checks: AtomicU64,
    statements: AtomicU64,
}

/// Reads sessions for checks, several to a statement when checks wait at the same time.
#[derive(Clone)]
pub struct SessionReads {
    shared: Arc<Shared>,
}

impl SessionReads {
    /// `sql` selects sessions joined with their users where the token is any of `$1` (a `text[]`),
    /// with the token in column `token_column`. At most `readers` statements run at once.
    pub fn new(pool: PgPool, sql: String, token_column: usize, readers: usize) -> SessionReads {
        SessionReads {
            shared: Arc::new(Shared {
                pool,
                sql,
                token_column,
                readers_at_most: readers.max(1),
                queue: Mutex::new(Queue::default()),
                checks: AtomicU64::new(0),
                statements: AtomicU64::new(0),
            }),
        }
    }

    /// The row for this token, if a session has it.
    pub async fn read(&self, token: &str) -> StoreResult<Option<Arc<PgRow>>> {
        if token.contains('\0') {
            // PostgreSQL text cannot hold it, so no session has it; sent along, it would fail the
            // statement for every check that shares it.
            return Ok(None);
        }
        let (answer, answered) = oneshot::channel();
        let start_reader = {
            let mut q = self.shared.lock();
            q.waiting.push(Waiting {
                token: token.to_owned(),
                answer,
            });
            let start = q.readers < self.shared.readers_at_most;
            if start {
                q.readers += 1;
            }
            start
        };
        if start_reader {
            // A task of its own, not this check's future: a check whose client goes away must not
            // take the reads of the checks queued behind it down with it.
            tokio::spawn(read_batches(self.shared.clone()));
        }
        match answered.await {
            Ok(Ok(row)) => Ok(row),
            Ok(Err(e)) => Err(StoreError::Backend(e)),
            // The reader's task was dropped (the runtime is shutting down).
            Err(_) => Err(StoreError::Backend("the session read was abandoned".into())),
        }
    }

    /// Checks read so far, and the statements that read them.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.shared.checks.load(Ordering::Relaxed),
            self.shared.statements.load(Ordering::Relaxed),
        )
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        // Held for a push, a count or a drain: nothing that can leave the queue half-changed.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A reader: takes what is waiting, reads it in one statement, answers each check, and again,
/// until nothing waits. It counts itself out under the same lock that saw the queue empty, so a
/// check queued after that starts a reader of its own.
async fn read_batches(shared: Arc<Shared>) {
    let mut reader = Reader {
        shared,
        counted: true,
    };
    let mut batch = Vec::new();
    loop {
        {
            let mut q = reader.shared.lock();
            if q.waiting.is_empty() {
                q.readers -= 1;
                reader.counted = false;
                return;
            }
            let take = q.waiting.len().min(MOST_AT_ONCE);
            batch.extend(q.waiting.drain(..take));
        }
        read_one_batch(&reader.shared, &mut batch).await;
    }
}

/// A running reader. It counts itself out when it finds nothing waiting, or, when its task is
/// dropped in the middle of a read (the runtime shutting down), as it goes: its checks then hear
/// that their read was abandoned, and a later check starts a reader again.
struct Reader {
    shared: Arc<Shared>,
    counted: bool,
}

impl Drop for Reader {
    fn drop(&mut self) {
        if self.counted {
            self.shared.lock().readers -= 1;
        }
    }
}

async fn read_one_batch(shared: &Shared, batch: &mut Vec<Waiting>) {
    shared
        .checks
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    shared.statements.fetch_add(1, Ordering::Relaxed);
    metrics::counter!("hallpass_db_session_read_statements_total").increment(1);
    let mut tokens: Vec<&str> = batch.iter().map(|w| w.token.as_str()).collect();
    tokens.sort_unstable();
    tokens.dedup();
    let read = read_again_on_lost_connection(&shared.pool, |pool| {
        sqlx::query(&shared.sql).bind(&tokens).fetch_all(pool)
    })
    .await;
    match read {
        Ok(rows) => {
            let mut by_token = HashMap::with_capacity(rows.len());
            for row in rows {
                match row.try_get::<String, _>(shared.token_column) {
                    Ok(token) => {
                        by_token.insert(token, Arc::new(row));
                    }
                    Err(e) => {
                        let e = message(e);
                        for w in batch.drain(..) {
                            let _ = w.answer.send(Err(e.clone()));
                        }
                        return;
                    }
                }
            }
            for w in batch.drain(..) {
                // A check whose client went away no longer listens: nothing to do.
                let _ = w.answer.send(Ok(by_token.get(&w.token).cloned()));
            }
        }
        Err(e) => {
            let e = message(e);
            for w in batch.drain(..) {
                let _ = w.answer.send(Err(e.clone()));
            }
        }
    }
}

/// What a failed read tells each of its checks.
fn message(e: sqlx::Error) -> String {
    match db_error(e) {
        StoreError::Backend(m) | StoreError::Conflict(m) => m,
    }
}

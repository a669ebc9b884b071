//! hallpass storage on SQLite or PostgreSQL, in Better Auth's layout for each (reference, 6.1 and
//! 6.2): a database that Better Auth made is used in place, and one that hallpass made is usable
//! by Better Auth. Each statement, row decoder and migration step is written once, here; the
//! [`dialect`] module holds what truly differs between the two databases, and [`notify`] the
//! PostgreSQL feed that keeps several processes' caches coherent.

mod batch;
pub mod dialect;
pub mod notify;
pub mod schema;

use async_trait::async_trait;
use dialect::{ident, Arg, Dialect, Pool, Row};
use hallpass_core::clock::Timestamp;
use hallpass_core::model::{
    AccountInfo, CredentialAccount, Session, SessionWithUser, User, UserChanges, Verification,
};
use hallpass_core::profile::ProfileSchema;
use hallpass_core::store::{
    Counter, CounterStore, KeyStore, SessionStore, Store, StoreError, StoreResult, StoredKey,
    UserStore, VerificationStore,
};
use serde_json::{Map, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// The core columns of `user`, in the order [`SqlStore::user_from`] reads them; profile columns
/// follow.
const USER_CORE_COLS: [&str; 7] = [
    "id",
    "name",
    "email",
    "emailVerified",
    "image",
    "createdAt",
    "updatedAt",
];

/// Where `token` is in [`SESSION_COLS`].
const SESSION_TOKEN_COLUMN: usize = 1;

/// The columns of `session`, in the order [`session_from`] reads them.
const SESSION_COLS: [&str; 8] = [
    "id",
    "token",
    "userId",
    "expiresAt",
    "createdAt",
    "updatedAt",
    "ipAddress",
    "userAgent",
];

const KEY_COLS: &str =
    "\"id\", \"publicKey\", \"privateKey\", \"createdAt\", \"expiresAt\", \"alg\", \"crv\"";

fn column_list(cols: &[&str], alias: &str) -> String {
    cols.iter()
        .map(|c| format!("{alias}{}", ident(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every fixed statement, rendered for the dialect once, at connect: the hot ones (the session
/// join every cache miss runs) cost no formatting per call.
struct Statements {
    user_by_id: String,
    user_by_email: String,
    list_users: String,
    insert_account: String,
    password_hash: String,
    set_password_hash: String,
    delete_user: String,
    insert_session: String,
    session_with_user: String,
    /// The same for a `text[]` of tokens (PostgreSQL only).
    sessions_with_users: String,
    extend_session: String,
    delete_session: String,
    delete_user_session: String,
    delete_user_sessions: String,
    user_sessions: String,
    signing_keys: String,
    insert_signing_key: String,
    password_algorithms: String,
    accounts: String,
    insert_verification: String,
    verification: String,
    take_verification: String,
    prune_verifications: String,
    consume_counter: String,
    peek_counter: String,
    release_counter: String,
    prune_counters: String,
}

impl Statements {
    fn new(d: Dialect, user_cols: &str, user_cols_u: &str) -> Statements {
        let sessions = column_list(&SESSION_COLS, "");
        // A session joined with its user, by token: one token, or several at once (PostgreSQL).
        let session_join = format!(
            "select {}, {user_cols_u} from \"session\" s join \"user\" u on u.\"id\" = s.\"userId\" where s.\"token\"",
            column_list(&SESSION_COLS, "s.")
        );
        let s = |sql: String| d.render(&sql);
        Statements {
            user_by_id: s(format!("select {user_cols} from \"user\" where \"id\" = ?")),
            user_by_email: s(format!("select {user_cols} from \"user\" where \"email\" = ?")),
            list_users: s(format!(
                "select {user_cols} from \"user\" order by \"createdAt\", \"id\" limit ? offset ?"
            )),
            // A credential account as Better Auth writes it (reference, 6.4 "Credential account").
            insert_account: s("insert into \"account\" (\"id\", \"accountId\", \"providerId\", \"userId\", \"password\", \"createdAt\", \"updatedAt\") values (?, ?, 'credential', ?, ?, ?, ?)".into()),
            password_hash: s("select \"password\" from \"account\" where \"userId\" = ? and \"providerId\" = 'credential' and \"accountId\" = ? limit 1".into()),
            set_password_hash: s("update \"account\" set \"password\" = ?, \"updatedAt\" = ? where \"userId\" = ? and \"providerId\" = 'credential' and \"accountId\" = ?".into()),
            // Sessions and accounts go with it: their foreign keys are ON DELETE CASCADE.
            delete_user: s("delete from \"user\" where \"id\" = ?".into()),
            insert_session: s(format!(
                "insert into \"session\" ({sessions}) values (?, ?, ?, ?, ?, ?, ?, ?)"
            )),
            session_with_user: s(format!("{session_join} = ?")),
            sessions_with_users: s(format!("{session_join} = any(?)")),
            extend_session: s(format!(
                "update \"session\" set \"expiresAt\" = ?, \"updatedAt\" = ? where \"token\" = ? returning {sessions}"
            )),
            delete_session: s("delete from \"session\" where \"token\" = ?".into()),
            delete_user_session: s(
                "delete from \"session\" where \"token\" = ? and \"userId\" = ?".into(),
            ),
            delete_user_sessions: s(
                "delete from \"session\" where \"userId\" = ? and \"token\" <> ? returning \"token\""
                    .into(),
            ),
            user_sessions: s(format!(
                "select {sessions} from \"session\" where \"userId\" = ? and \"expiresAt\" > ? order by \"createdAt\""
            )),
            signing_keys: s(format!(
                "select {KEY_COLS} from \"jwks\" order by \"createdAt\" desc"
            )),
            insert_signing_key: s(format!(
                "insert into \"jwks\" ({KEY_COLS}) values (?, ?, ?, ?, ?, ?, ?)"
            )),
            accounts: s("select \"id\", \"providerId\", \"accountId\", \"userId\", \"createdAt\", \"updatedAt\" from \"account\" where \"userId\" = ? order by \"createdAt\"".into()),
            insert_verification: s("insert into \"verification\" (\"id\", \"identifier\", \"value\", \"expiresAt\", \"createdAt\", \"updatedAt\") values (?, ?, ?, ?, ?, ?)".into()),
            verification: s("select \"id\", \"identifier\", \"value\", \"expiresAt\", \"createdAt\" from \"verification\" where \"identifier\" = ? order by \"createdAt\" desc limit 1".into()),
            take_verification: s("delete from \"verification\" where \"identifier\" = ? returning \"id\", \"identifier\", \"value\", \"expiresAt\", \"createdAt\"".into()),
            prune_verifications: s("delete from \"verification\" where \"expiresAt\" < ?".into()),
            password_algorithms: s("select count(*), coalesce(sum(case when \"password\" like '$argon2%' then 1 else 0 end), 0) from \"account\" where \"providerId\" = 'credential' and \"password\" is not null".into()),
            // One atomic statement (an upsert both databases run the same way: SET reads the old
            // row). Arguments: id, key, now; then now, window (reset?); count, max (refused?),
            // max; now, window, count, max, now (lastRequest).
            consume_counter: s("insert into \"rateLimit\" (\"id\", \"key\", \"count\", \"lastRequest\") values (?, ?, 1, ?) \
                on conflict (\"key\") do update set \
                \"count\" = case when ? - \"rateLimit\".\"lastRequest\" >= ? then 1 \
                  when \"rateLimit\".\"count\" >= ? then ? + 1 \
                  else \"rateLimit\".\"count\" + 1 end, \
                \"lastRequest\" = case when ? - \"rateLimit\".\"lastRequest\" >= ? or \"rateLimit\".\"count\" < ? then ? \
                  else \"rateLimit\".\"lastRequest\" end \
                returning \"count\", \"lastRequest\"".into()),
            peek_counter: s("select \"count\", \"lastRequest\" from \"rateLimit\" where \"key\" = ?".into()),
            release_counter: s("update \"rateLimit\" set \"count\" = \"count\" - 1 where \"key\" = ? and \"count\" > 0".into()),
            prune_counters: s("delete from \"rateLimit\" where \"lastRequest\" < ?".into()),
        }
    }
}

/// A store on one database, SQLite or PostgreSQL.
pub struct SqlStore {
    dialect: Dialect,
    pool: Pool,
    /// On SQLite, the connections that read sessions for checks (see [`dialect::SqliteReaders`]).
    session_readers: Option<dialect::SqliteReaders>,
    /// PostgreSQL: the reads of session checks, several to a statement under load.
    session_reads: Option<batch::SessionReads>,
    schema: ProfileSchema,
    /// The `user` select list (core columns, then profile columns as the dialect reads them).
    user_cols: String,
    sql: Statements,
}

/// The `user` select list for a table alias (`""` or `"u."`).
fn user_select(d: Dialect, schema: &ProfileSchema, alias: &str) -> String {
    let mut cols = column_list(&USER_CORE_COLS, alias);
    for f in schema.fields() {
        cols.push_str(", ");
        cols.push_str(&d.profile_select(&format!("{alias}{}", ident(&f.key))));
    }
    cols
}

/// The SQL for a profile value: a literal `null` (which fits a column of any type, where a bound
/// NULL of the wrong type would not on PostgreSQL), or a placeholder with its argument.
fn profile_value(v: &Value, args: &mut Vec<Arg>) -> &'static str {
    let arg = match v {
        Value::Null => return "null",
        Value::Bool(b) => Arg::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Arg::Int(i),
            None => Arg::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Arg::Text(s.clone()),
        other => Arg::Text(other.to_string()),
    };
    args.push(arg);
    "?"
}

fn text(s: &str) -> Arg {
    Arg::Text(s.to_owned())
}

/// A session from [`SESSION_COLS`]; a NULL IP or agent reads as `""`, as Better Auth writes them.
fn session_from(row: &Row) -> StoreResult<Session> {
    Ok(Session {
        id: row.text(0)?,
        token: row.text(SESSION_TOKEN_COLUMN)?,
        user_id: row.text(2)?,
        expires_at: row.date(3)?,
        created_at: row.date(4)?,
        updated_at: row.date(5)?,
        ip_address: row.opt_text(6)?.unwrap_or_default(),
        user_agent: row.opt_text(7)?.unwrap_or_default(),
    })
}

/// Connections to a SQLite file (readers run in parallel in WAL mode; writes take turns).
const SQLITE_CONNECTIONS: u32 = 8;
/// SQLite connections outside the pool that read sessions for checks, on the calling thread: one
/// per core (the runtime's worker threads, so that each can read at once), two to eight.
fn sqlite_session_readers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8))
}
/// Whether a SQLite URL names a file and nothing else (no in-memory database, no parameters), so
/// that the session readers can open the same file by its path.
fn sqlite_plain_file(url: &str) -> bool {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or("");
    !rest.is_empty() && rest != ":memory:" && !rest.contains('?')
}
/// SQLite's page cache per connection, in KiB.
const SQLITE_CACHE_KIB: u32 = 1024;
/// PostgreSQL connections kept open when idle (at most the configured maximum).
const PG_WARM_CONNECTIONS: u32 = 2;
/// Statements reading sessions for checks at once, on PostgreSQL (at most the pool's size): more
/// checks waiting at the same time share a statement (`batch`).
const PG_SESSION_READERS: u32 = 2;
/// A pooled PostgreSQL connection idle this long is pinged before it is used (under load none is,
/// so checks skip that round trip; after a quiet spell, writes do not meet a dead connection).
const PG_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

impl SqlStore {
    /// Opens the database a `sqlite://` or `postgres://` URL names. SQLite files are created if
    /// missing and run in WAL mode with foreign keys on, with a pool of eight connections and, for
    /// a plain file (no parameters, not in memory), one connection per core (two to eight) that
    /// reads sessions for checks on the calling thread ([`dialect::SqliteReaders`]); PostgreSQL
    /// gets a pool of at most `max_connections`, and session checks that wait at the same time are
    /// read in one statement (`batch`). Does not migrate.
    pub async fn connect(
        url: &str,
        schema: ProfileSchema,
        max_connections: u32,
    ) -> StoreResult<SqlStore> {
        let dialect = Dialect::of_url(url).ok_or_else(|| {
            StoreError::Backend("the database URL must start with sqlite:// or postgres://".into())
        })?;
        let mut session_readers = None;
        let pool = match dialect {
            Dialect::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(dialect::db_error)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // Page cache per connection, in KiB (negative): set here, not left to the
                    // library's default, so memory is bounded by (SQLITE_CONNECTIONS + the session
                    // readers) × this whatever the database grows to; the operating system
                    // caches the file too.
                    .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"));
                let pool = SqlitePoolOptions::new()
                    .max_connections(SQLITE_CONNECTIONS)
                    .min_connections(1)
                    // The library pings every connection it hands out by default: a round trip
                    // to the connection's thread before each query. A local file cannot hang up.
                    .test_before_acquire(false)
                    .connect_with(opts.clone())
                    .await
                    .map_err(dialect::db_error)?;
                if sqlite_plain_file(url) {
                    session_readers = Some(dialect::SqliteReaders::open(
                        opts.get_filename(),
                        sqlite_session_readers(),
                        // The pool's size: 4 MiB (to keep the inner pages of the four B-trees a
                        // check walks cached at a million users) measured no faster in
                        // alternated runs on a quiet machine, for 6 to 10 MiB more resident.
                        SQLITE_CACHE_KIB,
                    )?);
                }
                Pool::Sqlite(pool)
            }
            Dialect::Postgres => {
                let max = max_connections.max(1);
                let pool = PgPoolOptions::new()
                    .max_connections(max)
                    // A few connections stay open, so that a burst of reads after a quiet spell
                    // does not start new server processes on a busy machine.
                    .min_connections(max.min(PG_WARM_CONNECTIONS))
                    .acquire_timeout(Duration::from_secs(10))
                    // The library pings every connection it hands out by default, a round trip
                    // before each query; only one that sat idle may have been dropped by the
                    // server or the network, so only those are tried first.
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // Every statement here looks rows up by a key, so one plan per
                            // prepared statement serves all its arguments. Left to choose, the
                            // server plans the batched session read (`= any($1)`) again on every
                            // run: its generic plan assumes ten tokens, so small batches look
                            // cheaper planned for. Measured at a million sessions: 9,300 checks/s
                            // planned each time, 12,300 with one plan. A server without the
                            // setting (before 12) plans as it did.
                            let set = sqlx::query("set plan_cache_mode = force_generic_plan")
                                .execute(&mut *conn)
                                .await;
                            if let Err(e) = set {
                                tracing::debug!(error = %e, "plan_cache_mode not set");
                            }
                            Ok(())
                        })
                    })
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for < PG_PING_AFTER_IDLE {
                                return Ok(true);
                            }
                            sqlx::Connection::ping(conn).await.map(|()| true)
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(dialect::db_error)?;
                Pool::Postgres(pool)
            }
        };
        let user_cols = user_select(dialect, &schema, "");
        let sql = Statements::new(dialect, &user_cols, &user_select(dialect, &schema, "u."));
        let session_reads = match &pool {
            Pool::Postgres(pg) => Some(batch::SessionReads::new(
                pg.clone(),
                sql.sessions_with_users.clone(),
                SESSION_TOKEN_COLUMN,
                max_connections.clamp(1, PG_SESSION_READERS) as usize,
            )),
            Pool::Sqlite(_) => None,
        };
        Ok(SqlStore {
            dialect,
            pool,
            session_readers,
            session_reads,
            schema,
            user_cols,
            sql,
        })
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The connection pool (for the notification feed, and tests that inspect rows directly).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// PostgreSQL: the session checks read from the database so far, and the statements that
    /// read them (several checks waiting at once share one). None on SQLite.
    pub fn session_read_counts(&self) -> Option<(u64, u64)> {
        self.session_reads.as_ref().map(batch::SessionReads::counts)
    }

    /// A user from the columns starting at `at`: [`USER_CORE_COLS`] then the profile fields.
    fn user_from(&self, row: &Row, at: usize) -> StoreResult<User> {
        let mut profile = Map::new();
        for (n, f) in self.schema.fields().iter().enumerate() {
            profile.insert(f.key.clone(), row.profile(at + 7 + n, &f.kind)?);
        }
        Ok(User {
            id: row.text(at)?,
            name: row.text(at + 1)?,
            email: row.text(at + 2)?,
            email_verified: row.bool(at + 3)?,
            image: row.opt_text(at + 4)?,
            created_at: row.date(at + 5)?,
            updated_at: row.date(at + 6)?,
            profile,
        })
    }

    async fn one_user(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Option<User>> {
        let row = self.pool.fetch_optional(sql, args).await?;
        row.map(|r| self.user_from(&r, 0)).transpose()
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn insert_user(&self, user: &User, account: &CredentialAccount) -> StoreResult<()> {
        let mut cols = column_list(&USER_CORE_COLS, "");
        let mut values = String::from("?, ?, ?, ?, ?, ?, ?");
        let mut args = vec![
            text(&user.id),
            text(&user.name),
            text(&user.email),
            Arg::Bool(user.email_verified),
            Arg::OptText(user.image.clone()),
            Arg::Date(user.created_at),
            Arg::Date(user.updated_at),
        ];
        for f in self.schema.fields() {
            cols.push_str(&format!(", {}", ident(&f.key)));
            let v = user.profile.get(&f.key).unwrap_or(&Value::Null);
            values.push_str(&format!(", {}", profile_value(v, &mut args)));
        }
        let insert_user = self
            .dialect
            .render(&format!("insert into \"user\" ({cols}) values ({values})"));
        let account_args = vec![
            text(&account.id),
            text(&account.user_id),
            text(&account.user_id),
            text(&account.password_hash),
            Arg::Date(account.created_at),
            Arg::Date(account.created_at),
        ];
        self.pool
            .transaction(vec![
                (&insert_user, args),
                (&self.sql.insert_account, account_args),
            ])
            .await
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.one_user(&self.sql.user_by_id, vec![text(id)]).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.one_user(&self.sql.user_by_email, vec![text(email)])
            .await
    }

    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        let args = vec![text(user_id), text(user_id)];
        match self
            .pool
            .fetch_optional(&self.sql.password_hash, args)
            .await?
        {
            Some(row) => row.opt_text(0),
            None => Ok(None),
        }
    }

    async fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let args = vec![text(hash), Arg::Date(now), text(user_id), text(user_id)];
        Ok(self.pool.execute(&self.sql.set_password_hash, args).await? > 0)
    }

    async fn update_user(&self, id: &str, changes: &UserChanges) -> StoreResult<Option<User>> {
        let mut sets: Vec<String> = Vec::new();
        let mut args: Vec<Arg> = Vec::new();
        let mut set = |col: &str, arg: Arg| {
            sets.push(format!("{} = ?", ident(col)));
            args.push(arg);
        };
        if let Some(name) = &changes.name {
            set("name", text(name));
        }
        if let Some(image) = &changes.image {
            set("image", Arg::OptText(image.clone()));
        }
        if let Some(email) = &changes.email {
            set("email", text(email));
        }
        if let Some(v) = changes.email_verified {
            set("emailVerified", Arg::Bool(v));
        }
        if let Some(t) = changes.updated_at {
            set("updatedAt", Arg::Date(t));
        }
        for f in self.schema.fields() {
            if let Some(v) = changes.profile.get(&f.key) {
                let value = profile_value(v, &mut args);
                sets.push(format!("{} = {value}", ident(&f.key)));
            }
        }
        if sets.is_empty() {
            return self.user_by_id(id).await;
        }
        args.push(text(id));
        let sql = self.dialect.render(&format!(
            "update \"user\" set {} where \"id\" = ? returning {}",
            sets.join(", "),
            self.user_cols
        ));
        self.one_user(&sql, args).await
    }

    async fn delete_user(&self, id: &str) -> StoreResult<bool> {
        Ok(self
            .pool
            .execute(&self.sql.delete_user, vec![text(id)])
            .await?
            > 0)
    }

    async fn accounts(&self, user_id: &str) -> StoreResult<Vec<AccountInfo>> {
        let rows = self
            .pool
            .fetch_all(&self.sql.accounts, vec![text(user_id)])
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AccountInfo {
                    id: r.text(0)?,
                    provider_id: r.text(1)?,
                    account_id: r.text(2)?,
                    user_id: r.text(3)?,
                    created_at: r.date(4)?,
                    updated_at: r.date(5)?,
                })
            })
            .collect()
    }

    async fn password_algorithms(&self) -> StoreResult<(u64, u64)> {
        let row = self
            .pool
            .fetch_optional(&self.sql.password_algorithms, vec![])
            .await?;
        let count = |i| row.as_ref().map_or(Ok(0), |r| r.int(i));
        let (all, argon2) = (count(0)?, count(1)?);
        Ok((
            u64::try_from(all).unwrap_or(0),
            u64::try_from(argon2).unwrap_or(0),
        ))
    }

    async fn list_users(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>> {
        let args = vec![Arg::Int(i64::from(limit)), Arg::Int(i64::from(offset))];
        let rows = self.pool.fetch_all(&self.sql.list_users, args).await?;
        rows.iter().map(|r| self.user_from(r, 0)).collect()
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        let args = vec![
            text(&s.id),
            text(&s.token),
            text(&s.user_id),
            Arg::Date(s.expires_at),
            Arg::Date(s.created_at),
            Arg::Date(s.updated_at),
            text(&s.ip_address),
            text(&s.user_agent),
        ];
        self.pool.execute(&self.sql.insert_session, args).await?;
        Ok(())
    }

    async fn session_with_user(&self, token: &str) -> StoreResult<Option<SessionWithUser>> {
        let on_this_thread = self
            .session_readers
            .as_ref()
            .and_then(|readers| readers.fetch_optional(&self.sql.session_with_user, token));
        let row = if let Some(row) = on_this_thread {
            row
        } else if let Some(reads) = &self.session_reads {
            reads.read(token).await?.map(Row::Postgres)
        } else {
            self.pool
                .fetch_optional(&self.sql.session_with_user, vec![text(token)])
                .await?
        };
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionWithUser {
            session: session_from(&row)?,
            user: self.user_from(&row, SESSION_COLS.len())?,
        }))
    }

    async fn extend_session(
        &self,
        token: &str,
        expires_at: Timestamp,
        updated_at: Timestamp,
    ) -> StoreResult<Option<Session>> {
        let args = vec![Arg::Date(expires_at), Arg::Date(updated_at), text(token)];
        let row = self
            .pool
            .fetch_optional(&self.sql.extend_session, args)
            .await?;
        row.as_ref().map(session_from).transpose()
    }

    async fn delete_session(&self, token: &str) -> StoreResult<bool> {
        let args = vec![text(token)];
        Ok(self.pool.execute(&self.sql.delete_session, args).await? > 0)
    }

    async fn delete_user_session(&self, user_id: &str, token: &str) -> StoreResult<bool> {
        let args = vec![text(token), text(user_id)];
        Ok(self
            .pool
            .execute(&self.sql.delete_user_session, args)
            .await?
            > 0)
    }

    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        // No token is empty, so "" keeps none.
        let args = vec![text(user_id), text(keep.unwrap_or(""))];
        let rows = self
            .pool
            .fetch_all(&self.sql.delete_user_sessions, args)
            .await?;
        rows.iter().map(|r| r.text(0)).collect()
    }

    async fn user_sessions(&self, user_id: &str, now: Timestamp) -> StoreResult<Vec<Session>> {
        let args = vec![text(user_id), Arg::Date(now)];
        let rows = self.pool.fetch_all(&self.sql.user_sessions, args).await?;
        rows.iter().map(session_from).collect()
    }
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        let rows = self.pool.fetch_all(&self.sql.signing_keys, vec![]).await?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    id: r.text(0)?,
                    public_key: r.text(1)?,
                    private_key: r.text(2)?,
                    created_at: r.date(3)?,
                    expires_at: r.opt_date(4)?,
                    alg: r.opt_text(5)?,
                    crv: r.opt_text(6)?,
                })
            })
            .collect()
    }

    async fn insert_signing_key(&self, k: &StoredKey) -> StoreResult<()> {
        let args = vec![
            text(&k.id),
            text(&k.public_key),
            text(&k.private_key),
            Arg::Date(k.created_at),
            Arg::OptDate(k.expires_at),
            Arg::OptText(k.alg.clone()),
            Arg::OptText(k.crv.clone()),
        ];
        self.pool
            .execute(&self.sql.insert_signing_key, args)
            .await?;
        Ok(())
    }
}

fn verification_from(row: &Row) -> StoreResult<Verification> {
    Ok(Verification {
        id: row.text(0)?,
        identifier: row.text(1)?,
        value: row.text(2)?,
        expires_at: row.date(3)?,
        created_at: row.date(4)?,
    })
}

#[async_trait]
impl VerificationStore for SqlStore {
    async fn insert_verification(&self, v: &Verification) -> StoreResult<()> {
        let args = vec![
            text(&v.id),
            text(&v.identifier),
            text(&v.value),
            Arg::Date(v.expires_at),
            Arg::Date(v.created_at),
            Arg::Date(v.created_at),
        ];
        self.pool
            .execute(&self.sql.insert_verification, args)
            .await?;
        Ok(())
    }

    async fn verification(&self, identifier: &str) -> StoreResult<Option<Verification>> {
        let row = self
            .pool
            .fetch_optional(&self.sql.verification, vec![text(identifier)])
            .await?;
        row.as_ref().map(verification_from).transpose()
    }

    async fn take_verification(&self, identifier: &str) -> StoreResult<Option<Verification>> {
        let rows = self
            .pool
            .fetch_all(&self.sql.take_verification, vec![text(identifier)])
            .await?;
        rows.first().map(verification_from).transpose()
    }

    async fn prune_verifications(&self, before: Timestamp) -> StoreResult<u64> {
        self.pool
            .execute(&self.sql.prune_verifications, vec![Arg::Date(before)])
            .await
    }
}

fn counter_from(row: &Row) -> StoreResult<Counter> {
    Ok(Counter {
        count: row.int(0)?,
        last_request_ms: row.int(1)?,
    })
}

#[async_trait]
impl CounterStore for SqlStore {
    async fn prepare_counters(&self) -> StoreResult<()> {
        let create = "create table if not exists \"rateLimit\" (\"id\" text not null primary key, \"key\" text not null unique, \"count\" integer not null, \"lastRequest\" bigint not null)";
        match self.pool.execute(create, vec![]).await {
            Ok(_) => Ok(()),
            // Two processes creating it at the same moment: one wins, and the table is there.
            Err(e) => match self
                .pool
                .execute("select 1 from \"rateLimit\" limit 1", vec![])
                .await
            {
                Ok(_) => Ok(()),
                Err(_) => Err(e),
            },
        }
    }

    async fn consume(
        &self,
        key: &str,
        window_ms: i64,
        max: i64,
        now_ms: i64,
    ) -> StoreResult<Counter> {
        let id = hallpass_core::id::generate_id(32);
        let args = vec![
            text(&id),
            text(key),
            Arg::Int(now_ms),
            Arg::Int(now_ms),
            Arg::Int(window_ms),
            Arg::Int(max),
            Arg::Int(max),
            Arg::Int(now_ms),
            Arg::Int(window_ms),
            Arg::Int(max),
            Arg::Int(now_ms),
        ];
        let row = self
            .pool
            .fetch_optional(&self.sql.consume_counter, args)
            .await?
            .ok_or_else(|| StoreError::Backend("rate limit upsert returned no row".into()))?;
        counter_from(&row)
    }

    async fn release(&self, key: &str) -> StoreResult<()> {
        self.pool
            .execute(&self.sql.release_counter, vec![text(key)])
            .await?;
        Ok(())
    }

    async fn peek(&self, key: &str) -> StoreResult<Option<Counter>> {
        let row = self
            .pool
            .fetch_optional(&self.sql.peek_counter, vec![text(key)])
            .await?;
        row.as_ref().map(counter_from).transpose()
    }

    async fn prune_counters(&self, before_ms: i64) -> StoreResult<u64> {
        self.pool
            .execute(&self.sql.prune_counters, vec![Arg::Int(before_ms)])
            .await
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        self.pool.execute("select 1", vec![]).await?;
        Ok(())
    }

    fn pool_stats(&self) -> Option<(u32, usize)> {
        Some(self.pool.stats())
    }

    async fn migration_plan(&self) -> StoreResult<Vec<String>> {
        let catalog = self.pool.catalog().await?;
        Ok(schema::plan(self.dialect, &self.schema, &catalog))
    }

    async fn migrate(&self) -> StoreResult<Vec<String>> {
        self.pool
            .migrate(|catalog| schema::plan(self.dialect, &self.schema, catalog))
            .await
    }
}

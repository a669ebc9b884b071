//! What truly differs between SQLite and PostgreSQL, and nothing else: placeholders, how values
//! are bound (dates as ISO text or `timestamptz`, booleans as 0/1 or `boolean`), how columns are
//! read back, how profile columns are selected, the catalog the migration planner reads, and the
//! lock migrations run under. Every statement is written once, with `?` placeholders, and
//! rendered for the dialect by [`Dialect::render`].

use chrono::{NaiveDateTime, Utc};
use hallpass_core::clock::{from_millis, parse_iso, to_iso, truncate_to_millis, Timestamp};
use hallpass_core::profile::FieldType;
use hallpass_core::store::{StoreError, StoreResult};
use serde_json::Value;
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{Column, PgPool, Postgres, Row as _, Sqlite, SqlitePool, TypeInfo};
use std::sync::Arc;

/// Key of the advisory lock that serializes PostgreSQL migrations ("hallpass" in ASCII).
const MIGRATION_LOCK: i64 = 0x6861_6c6c_7061_7373;

/// The database family a store speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: Better Auth's Kysely SQLite layout.
    Sqlite,
    /// PostgreSQL: Better Auth's Kysely PostgreSQL layout.
    Postgres,
}

/// A value to bind, in domain terms; the dialect decides its SQL type.
#[derive(Clone, Debug)]
pub enum Arg {
    /// Text.
    Text(String),
    /// Text or NULL.
    OptText(Option<String>),
    /// A whole number.
    Int(i64),
    /// A fractional number.
    Float(f64),
    /// A boolean (0/1 on SQLite).
    Bool(bool),
    /// An instant (ISO text with milliseconds on SQLite, `timestamptz` on PostgreSQL).
    Date(Timestamp),
    /// An instant or NULL.
    OptDate(Option<Timestamp>),
}

/// Quotes an identifier (a profile column named in the configuration), doubling any quote in it.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Dialect {
    /// The dialect a database URL names.
    pub fn of_url(url: &str) -> Option<Dialect> {
        if url.starts_with("sqlite:") {
            Some(Dialect::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Dialect::Postgres)
        } else {
            None
        }
    }

    /// A statement written with `?` placeholders, as this dialect wants it: unchanged for SQLite,
    /// `$1, $2, …` for PostgreSQL. `?` inside quotes is left alone.
    pub fn render(self, sql: &str) -> String {
        if self == Dialect::Sqlite {
            return sql.to_owned();
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let (mut n, mut quote) = (0, None::<char>);
        for c in sql.chars() {
            match (c, quote) {
                ('\'' | '"', None) => quote = Some(c),
                (q, Some(open)) if q == open => quote = None,
                ('?', None) => {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                    continue;
                }
                _ => {}
            }
            out.push(c);
        }
        out
    }

    /// How a profile column is selected: as stored on SQLite (read by type), as JSON text on
    /// PostgreSQL (so any column type reads back as it is stored).
    pub fn profile_select(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => column.to_owned(),
            Dialect::Postgres => format!("to_jsonb({column})::text"),
        }
    }

    /// The column type of a date in Better Auth's layout.
    pub fn date_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "date",
            Dialect::Postgres => "timestamptz",
        }
    }

    /// The column type of a boolean in Better Auth's layout.
    pub fn bool_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "integer",
            Dialect::Postgres => "boolean",
        }
    }

    /// ` default CURRENT_TIMESTAMP` where Better Auth's PostgreSQL layout has one, else nothing.
    pub fn now_default(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " default CURRENT_TIMESTAMP",
        }
    }

    /// The column type of a profile field (reference, 6.1 and 6.2).
    pub fn field_type(self, kind: &FieldType) -> &'static str {
        match kind {
            FieldType::String | FieldType::Enum => "text",
            FieldType::Number => "integer",
            FieldType::Boolean => self.bool_type(),
        }
    }
}

/// A store error from a database error: a unique violation names the column the constraint
/// guards (PostgreSQL names the constraint, SQLite the column in its message), the rest is
/// `Backend`, for the log.
pub fn db_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            let hint = db
                .constraint()
                .map_or_else(|| db.message().to_owned(), str::to_owned);
            let field = ["email", "token"]
                .into_iter()
                .find(|f| hint.contains(f))
                .unwrap_or("id");
            return StoreError::Conflict(field.into());
        }
    }
    StoreError::Backend(e.to_string())
}

/// Whether a PostgreSQL error says the connection was gone (the server restarted or ended it, or
/// the network dropped it), rather than that the statement failed.
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        // Class 57P: operator intervention (admin_shutdown, crash_shutdown, cannot_connect_now).
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("57P")),
        _ => false,
    }
}

/// Runs a read, and runs it again while it fails because its pooled connection was gone: pooled
/// connections are not pinged before each use (only after sitting idle), so after a restart of
/// the server each dead connection is met once, and dropped by the pool when it is given back.
/// Reads only: a write that lost its connection may or may not have happened.
pub(crate) async fn read_again_on_lost_connection<'p, T, F, Fut>(
    pool: &'p PgPool,
    read: F,
) -> Result<T, sqlx::Error>
where
    F: Fn(&'p PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
{
    // Each failure takes a dead connection out of the pool; past its size, something else is wrong.
    let mut tries = pool.options().get_max_connections() + 1;
    loop {
        match read(pool).await {
            Err(e) if tries > 1 && connection_lost(&e) => {
                tracing::info!(error = %e, "a pooled PostgreSQL connection was gone; reading again");
                tries -= 1;
            }
            done => return done,
        }
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

fn bind_sqlite(q: SqliteQuery<'_>, arg: Arg) -> SqliteQuery<'_> {
    match arg {
        Arg::Text(s) => q.bind(s),
        Arg::OptText(s) => q.bind(s),
        Arg::Int(i) => q.bind(i),
        Arg::Float(f) => q.bind(f),
        Arg::Bool(b) => q.bind(i64::from(b)),
        Arg::Date(t) => q.bind(to_iso(&t)),
        Arg::OptDate(t) => q.bind(t.as_ref().map(to_iso)),
    }
}

fn bind_pg(q: PgQuery<'_>, arg: Arg) -> PgQuery<'_> {
    match arg {
        Arg::Text(s) => q.bind(s),
        Arg::OptText(s) => q.bind(s),
        Arg::Int(i) => q.bind(i),
        Arg::Float(f) => q.bind(f),
        Arg::Bool(b) => q.bind(b),
        // Microseconds PostgreSQL could keep are dropped, so both databases hold the same instants.
        Arg::Date(t) => q.bind(truncate_to_millis(t)),
        Arg::OptDate(t) => q.bind(t.map(truncate_to_millis)),
    }
}

/// A connection pool of either kind.
#[derive(Clone)]
pub enum Pool {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// A row of either kind, read by column index.
pub enum Row {
    /// SQLite.
    Sqlite(SqliteRow),
    /// PostgreSQL (shared: checks of one token read together share its row).
    Postgres(Arc<PgRow>),
    /// SQLite, read by a [`SqliteReaders`] connection: the values as stored. Read back as sqlx
    /// reads a SQLite row (a value of another storage class than asked for is an error, a NULL
    /// where a value is required reads as empty, 0 or false), which
    /// `tests::both_sqlite_readers_decode_alike` checks.
    Cells(Vec<rusqlite::types::Value>),
}

/// What the migration planner needs to know about a database.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Tables of the current schema.
    pub tables: Vec<String>,
    /// Columns of `user`.
    pub user_columns: Vec<String>,
    /// Index names.
    pub indexes: Vec<String>,
}

/// A query with its arguments bound by the dialect's binder.
macro_rules! bound {
    ($sql:expr, $args:expr, $bind:ident) => {{
        let mut q = sqlx::query($sql);
        for a in $args {
            q = $bind(q, a);
        }
        q
    }};
}

/// SQLite connections kept outside the pool that read sessions for checks on the calling thread.
///
/// sqlx runs each SQLite connection on a thread of its own: a query is a message to that thread
/// and a wake-up back, and a pooled connection is also pinged each time it goes back to the pool.
/// For a session check that reads one indexed row in microseconds, those thread switches cost
/// more than the read (see bench/README.md). These connections (rusqlite, on the SQLite library
/// sqlx links) answer on the task's own thread instead. A read takes a connection that is free
/// at that moment and never waits for one: when every one is in use, or SQLite answers busy or
/// with any error, the caller reads through the pool, which waits as long as it must.
///
/// The cost: a read holds its worker thread for as long as SQLite takes. With the file in the
/// operating system's cache (the usual case once a server has run a while) that is microseconds;
/// right after a machine starts, with the file still on disk, the first reads wait for the disk
/// on the worker, and other requests on that worker wait with them.
pub struct SqliteReaders {
    conns: Vec<std::sync::Mutex<rusqlite::Connection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl SqliteReaders {
    /// Opens `n` connections (at least one) to the SQLite file at `path`, which must exist (the
    /// pool created it), with a page cache of `cache_kib` KiB each.
    pub fn open(path: &std::path::Path, n: usize, cache_kib: u32) -> StoreResult<SqliteReaders> {
        use rusqlite::OpenFlags;
        let open = || -> rusqlite::Result<rusqlite::Connection> {
            // Each connection is behind a mutex here: SQLite's own locking would be a second one.
            let conn = rusqlite::Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            // Never waits for a lock (the pool does that); never writes.
            conn.busy_timeout(std::time::Duration::ZERO)?;
            conn.pragma_update(None, "query_only", true)?;
            conn.pragma_update(None, "cache_size", -i64::from(cache_kib))?;
            Ok(conn)
        };
        let conns = (0..n.max(1))
            .map(|_| open().map(std::sync::Mutex::new))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| StoreError::Backend(format!("cannot open a session reader: {e}")))?;
        Ok(SqliteReaders {
            conns,
            next: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The first row `sql` returns for one text argument, read on this thread; `None` when no
    /// connection is free at once or the read failed (the caller then reads through the pool).
    pub fn fetch_optional(&self, sql: &str, arg: &str) -> Option<Option<Row>> {
        let n = self.conns.len();
        let first = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let conn = (0..n).find_map(|k| match self.conns[(first + k) % n].try_lock() {
            Ok(conn) => Some(conn),
            // A panic while reading leaves the connection as usable as before.
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        })?;
        let read = || -> rusqlite::Result<Option<Row>> {
            let mut stmt = conn.prepare_cached(sql)?;
            let columns = stmt.column_count();
            let mut rows = stmt.query([arg])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            let cells = (0..columns)
                .map(|i| row.get::<_, rusqlite::types::Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some(Row::Cells(cells)))
        };
        match read() {
            Ok(row) => Some(row),
            Err(e) => {
                tracing::debug!(error = %e, "session reader failed; reading through the pool");
                None
            }
        }
    }
}

impl Pool {
    /// Runs a statement (already rendered); returns the rows it changed.
    /// Open and idle connections.
    pub fn stats(&self) -> (u32, usize) {
        match self {
            Pool::Sqlite(p) => (p.size(), p.num_idle()),
            Pool::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    pub async fn execute(&self, sql: &str, args: Vec<Arg>) -> StoreResult<u64> {
        match self {
            Pool::Sqlite(p) => bound!(sql, args, bind_sqlite)
                .execute(p)
                .await
                .map(|d| d.rows_affected()),
            Pool::Postgres(p) => bound!(sql, args, bind_pg)
                .execute(p)
                .await
                .map(|d| d.rows_affected()),
        }
        .map_err(db_error)
    }

    /// The first row a statement returns, if any.
    pub async fn fetch_optional(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Option<Row>> {
        match self {
            Pool::Sqlite(p) => bound!(sql, args, bind_sqlite)
                .fetch_optional(p)
                .await
                .map(|r| r.map(Row::Sqlite)),
            Pool::Postgres(p) => read_again_on_lost_connection(p, |p| {
                bound!(sql, args.clone(), bind_pg).fetch_optional(p)
            })
            .await
            .map(|r| r.map(|r| Row::Postgres(Arc::new(r)))),
        }
        .map_err(db_error)
    }

    /// Every row a statement returns.
    pub async fn fetch_all(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        match self {
            Pool::Sqlite(p) => bound!(sql, args, bind_sqlite)
                .fetch_all(p)
                .await
                .map(|rows| rows.into_iter().map(Row::Sqlite).collect()),
            Pool::Postgres(p) => read_again_on_lost_connection(p, |p| {
                bound!(sql, args.clone(), bind_pg).fetch_all(p)
            })
            .await
            .map(|rows| {
                rows.into_iter()
                    .map(|r| Row::Postgres(Arc::new(r)))
                    .collect()
            }),
        }
        .map_err(db_error)
    }

    /// Runs statements in one transaction: all or nothing.
    pub async fn transaction(&self, statements: Vec<(&str, Vec<Arg>)>) -> StoreResult<()> {
        match self {
            Pool::Sqlite(p) => {
                let mut tx = p.begin().await.map_err(db_error)?;
                for (sql, args) in statements {
                    let q = bound!(sql, args, bind_sqlite);
                    q.execute(&mut *tx).await.map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db_error)?;
                for (sql, args) in statements {
                    bound!(sql, args, bind_pg)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)
            }
        }
    }

    /// What the database holds now.
    pub async fn catalog(&self) -> StoreResult<Catalog> {
        match self {
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(db_error)?;
                sqlite_catalog(&mut conn).await
            }
            Pool::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(db_error)?;
                pg_catalog(&mut conn).await
            }
        }
    }

    /// Plans from the catalog and applies the plan, under the dialect's migration lock, so
    /// processes migrating one database at once take turns and the later ones find nothing to
    /// do: `BEGIN IMMEDIATE` on SQLite (the write lock, taken before planning), a
    /// transaction-scoped advisory lock on PostgreSQL. Returns what was applied.
    pub async fn migrate(
        &self,
        plan: impl Fn(&Catalog) -> Vec<String>,
    ) -> StoreResult<Vec<String>> {
        match self {
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(db_error)?;
                sqlx::query("begin immediate")
                    .execute(&mut *conn)
                    .await
                    .map_err(db_error)?;
                let applied = async {
                    let steps = plan(&sqlite_catalog(&mut conn).await?);
                    for step in &steps {
                        tracing::info!(statement = %step, "migrating");
                        sqlx::query(step)
                            .execute(&mut *conn)
                            .await
                            .map_err(db_error)?;
                    }
                    Ok::<_, StoreError>(steps)
                }
                .await;
                let end = if applied.is_ok() {
                    "commit"
                } else {
                    "rollback"
                };
                let ended = sqlx::query(end).execute(&mut *conn).await.map_err(db_error);
                let steps = applied?;
                ended?;
                Ok(steps)
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await.map_err(db_error)?;
                sqlx::query("select pg_advisory_xact_lock($1)")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                let steps = plan(&pg_catalog(&mut tx).await?);
                for step in &steps {
                    tracing::info!(statement = %step, "migrating");
                    sqlx::query(step)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)?;
                Ok(steps)
            }
        }
    }
}

async fn sqlite_catalog(conn: &mut SqliteConnection) -> StoreResult<Catalog> {
    let names = |kind: &'static str| {
        sqlx::query_scalar::<_, String>("select name from sqlite_master where type = ?").bind(kind)
    };
    Ok(Catalog {
        tables: names("table")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?,
        indexes: names("index")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?,
        user_columns: sqlx::query_scalar("select name from pragma_table_info('user')")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?,
    })
}

async fn pg_catalog(conn: &mut PgConnection) -> StoreResult<Catalog> {
    Ok(Catalog {
        tables: sqlx::query_scalar(
            "select table_name::text from information_schema.tables where table_schema = current_schema()",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?,
        user_columns: sqlx::query_scalar(
            "select column_name::text from information_schema.columns where table_schema = current_schema() and table_name = 'user'",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?,
        indexes: sqlx::query_scalar(
            "select indexname::text from pg_indexes where schemaname = current_schema()",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?,
    })
}

fn pg_type(row: &PgRow, i: usize) -> &str {
    row.columns().get(i).map_or("", |c| c.type_info().name())
}

fn unreadable(i: usize, what: &str) -> StoreError {
    StoreError::Backend(format!("column {i}: {what}"))
}

use rusqlite::types::Value as Cell;

fn cell(cells: &[Cell], i: usize) -> StoreResult<&Cell> {
    cells.get(i).ok_or_else(|| unreadable(i, "no such column"))
}

/// A value of another storage class than the accessor reads.
fn mismatch(i: usize, wanted: &str, got: &Cell) -> StoreError {
    let got = match got {
        Cell::Null => "NULL",
        Cell::Integer(_) => "an integer",
        Cell::Real(_) => "a real",
        Cell::Text(_) => "text",
        Cell::Blob(_) => "a blob",
    };
    unreadable(i, &format!("expected {wanted}, found {got}"))
}

impl Row {
    /// Text.
    pub fn text(&self, i: usize) -> StoreResult<String> {
        match self {
            Row::Sqlite(r) => r.try_get(i).map_err(db_error),
            Row::Postgres(r) => r.try_get(i).map_err(db_error),
            Row::Cells(c) => match cell(c, i)? {
                Cell::Text(s) => Ok(s.clone()),
                // As sqlx reads a NULL where a value is required.
                Cell::Null => Ok(String::new()),
                other => Err(mismatch(i, "text", other)),
            },
        }
    }

    /// A whole number (`integer` or `bigint`).
    pub fn int(&self, i: usize) -> StoreResult<i64> {
        match self {
            Row::Sqlite(r) => r.try_get(i).map_err(db_error),
            Row::Postgres(r) => match pg_type(r, i) {
                "INT2" => Ok(i64::from(r.try_get::<i16, _>(i).map_err(db_error)?)),
                "INT4" => Ok(i64::from(r.try_get::<i32, _>(i).map_err(db_error)?)),
                _ => r.try_get(i).map_err(db_error),
            },
            Row::Cells(c) => match cell(c, i)? {
                Cell::Integer(n) => Ok(*n),
                Cell::Null => Ok(0),
                other => Err(mismatch(i, "an integer", other)),
            },
        }
    }

    /// Text or NULL.
    pub fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        match self {
            Row::Sqlite(r) => r.try_get(i).map_err(db_error),
            Row::Postgres(r) => r.try_get(i).map_err(db_error),
            Row::Cells(c) => match cell(c, i)? {
                Cell::Text(s) => Ok(Some(s.clone())),
                Cell::Null => Ok(None),
                other => Err(mismatch(i, "text", other)),
            },
        }
    }

    /// A required date.
    pub fn date(&self, i: usize) -> StoreResult<Timestamp> {
        self.opt_date(i)?
            .ok_or_else(|| unreadable(i, "missing date"))
    }

    /// A date as Better Auth stores it (ISO text on SQLite, `timestamptz` on PostgreSQL), or as
    /// other tools lay it out (epoch milliseconds, `timestamp` taken as UTC, text).
    pub fn opt_date(&self, i: usize) -> StoreResult<Option<Timestamp>> {
        let iso = |s: String| {
            parse_iso(&s).ok_or_else(|| unreadable(i, &format!("unreadable date {s:?}")))
        };
        let date = match self {
            Row::Sqlite(r) => match r.try_get::<Option<String>, _>(i) {
                Ok(text) => text.map(iso).transpose()?,
                Err(_) => r
                    .try_get::<Option<i64>, _>(i)
                    .map_err(db_error)?
                    .and_then(from_millis),
            },
            Row::Postgres(r) => match pg_type(r, i) {
                "TIMESTAMP" => r
                    .try_get::<Option<NaiveDateTime>, _>(i)
                    .map_err(db_error)?
                    .map(|d| d.and_utc()),
                "TEXT" | "VARCHAR" => r
                    .try_get::<Option<String>, _>(i)
                    .map_err(db_error)?
                    .map(iso)
                    .transpose()?,
                "INT8" => r
                    .try_get::<Option<i64>, _>(i)
                    .map_err(db_error)?
                    .and_then(from_millis),
                _ => r
                    .try_get::<Option<chrono::DateTime<Utc>>, _>(i)
                    .map_err(db_error)?,
            },
            Row::Cells(c) => match cell(c, i)? {
                Cell::Text(s) => Some(iso(s.clone())?),
                Cell::Null => None,
                Cell::Integer(ms) => from_millis(*ms),
                other => return Err(mismatch(i, "a date", other)),
            },
        };
        Ok(date.map(truncate_to_millis))
    }

    /// A boolean, stored as 0/1, `boolean`, or text.
    pub fn bool(&self, i: usize) -> StoreResult<bool> {
        match self {
            Row::Sqlite(r) => match r.try_get::<i64, _>(i) {
                Ok(n) => Ok(n != 0),
                Err(_) => {
                    let s: String = r.try_get(i).map_err(db_error)?;
                    Ok(s == "1" || s.eq_ignore_ascii_case("true"))
                }
            },
            Row::Postgres(r) => match pg_type(r, i) {
                "INT2" => Ok(r.try_get::<i16, _>(i).map_err(db_error)? != 0),
                "INT4" => Ok(r.try_get::<i32, _>(i).map_err(db_error)? != 0),
                "INT8" => Ok(r.try_get::<i64, _>(i).map_err(db_error)? != 0),
                _ => r.try_get(i).map_err(db_error),
            },
            Row::Cells(c) => match cell(c, i)? {
                Cell::Integer(n) => Ok(*n != 0),
                Cell::Null => Ok(false),
                Cell::Text(s) => Ok(s == "1" || s.eq_ignore_ascii_case("true")),
                other => Err(mismatch(i, "a boolean", other)),
            },
        }
    }

    /// A profile value as it is stored, whatever its type (values written before a schema change
    /// are returned as they are), selected with [`Dialect::profile_select`].
    pub fn profile(&self, i: usize, kind: &FieldType) -> StoreResult<Value> {
        match self {
            Row::Sqlite(r) => {
                if let Ok(Some(n)) = r.try_get::<Option<i64>, _>(i) {
                    return Ok(match kind {
                        FieldType::Boolean => Value::Bool(n != 0),
                        _ => Value::from(n),
                    });
                }
                if let Ok(Some(s)) = r.try_get::<Option<String>, _>(i) {
                    return Ok(Value::String(s));
                }
                if let Ok(Some(f)) = r.try_get::<Option<f64>, _>(i) {
                    return Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number));
                }
                Ok(Value::Null)
            }
            Row::Postgres(r) => match r.try_get::<Option<String>, _>(i).map_err(db_error)? {
                None => Ok(Value::Null),
                Some(json) => serde_json::from_str(&json)
                    .map_err(|e| unreadable(i, &format!("unreadable value: {e}"))),
            },
            Row::Cells(c) => Ok(match cell(c, i)? {
                Cell::Integer(n) => match kind {
                    FieldType::Boolean => Value::Bool(*n != 0),
                    _ => Value::from(*n),
                },
                Cell::Text(s) => Value::String(s.clone()),
                Cell::Real(f) => {
                    serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
                }
                Cell::Null | Cell::Blob(_) => Value::Null,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every accessor makes of column `i`, errors reduced to "error" (their wording differs
    /// between the two drivers; whether a value is refused must not).
    fn decoded(row: &Row, i: usize) -> Vec<String> {
        fn show<T: std::fmt::Debug>(r: StoreResult<T>) -> String {
            r.map_or_else(|_| "error".to_owned(), |v| format!("{v:?}"))
        }
        let mut out = vec![
            show(row.text(i)),
            show(row.int(i)),
            show(row.opt_text(i)),
            show(row.opt_date(i)),
            show(row.date(i)),
            show(row.bool(i)),
        ];
        for kind in [
            FieldType::String,
            FieldType::Number,
            FieldType::Boolean,
            FieldType::Enum,
        ] {
            out.push(show(row.profile(i, &kind)));
        }
        out
    }

    /// The session readers (rusqlite, on the request's thread) read every stored value as the
    /// pool (sqlx) does: dates as ISO text or epoch milliseconds, booleans as integers or text,
    /// profile values of every storage class, NULLs, and values of the wrong class.
    #[tokio::test]
    async fn both_sqlite_readers_decode_alike() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("cells.db");
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = Pool::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(2)
                .connect_with(opts)
                .await
                .expect("pool"),
        );
        pool.execute("create table t (k text primary key, v)", vec![])
            .await
            .expect("table");
        let values = [
            ("iso", "'2026-12-05T14:30:24.123Z'"),
            ("iso-no-millis", "'2026-12-05T14:30:24Z'"),
            ("bad-date", "'yesterday'"),
            ("millis", "1764945024123"),
            ("zero", "0"),
            ("one", "1"),
            ("negative", "-42"),
            ("true", "'true'"),
            ("TRUE", "'TRUE'"),
            ("text-one", "'1'"),
            ("text", "'intermediate'"),
            ("unicode", "'Zoë \u{1F600} \u{202E}'"),
            ("empty", "''"),
            ("real", "2.5"),
            ("whole-real", "3.0"),
            ("null", "null"),
            ("blob", "x'00ff'"),
        ];
        for (k, v) in values {
            pool.execute(&format!("insert into t values ('{k}', {v})"), vec![])
                .await
                .expect("insert");
        }
        let readers = SqliteReaders::open(&path, 2, 256).expect("readers");
        let sql = "select v from t where k = ?";
        for (k, _) in values {
            let by_pool = pool
                .fetch_optional(sql, vec![Arg::Text(k.to_owned())])
                .await
                .expect("pool read")
                .expect("a row");
            let by_reader = readers
                .fetch_optional(sql, k)
                .expect("a free reader")
                .expect("a row");
            assert!(
                matches!(by_reader, Row::Cells(_)),
                "{k}: read on this thread"
            );
            assert_eq!(decoded(&by_reader, 0), decoded(&by_pool, 0), "{k}");
        }
        assert!(
            readers
                .fetch_optional(sql, "absent")
                .expect("a free reader")
                .is_none(),
            "no row is no row"
        );
        // A statement the reader cannot run is not an answer: the caller reads through the pool.
        assert!(readers
            .fetch_optional("select nope from t where k = ?", "iso")
            .is_none());
        // Each reader has the page cache it was given, and cannot write.
        for conn in &readers.conns {
            let conn = conn.lock().expect("a reader");
            let cache: i64 = conn
                .pragma_query_value(None, "cache_size", |r| r.get(0))
                .expect("cache_size");
            assert_eq!(cache, -256);
            assert!(conn.execute("delete from t", []).is_err(), "a reader wrote");
        }
        let left = pool
            .fetch_optional("select count(*) from t", vec![])
            .await
            .expect("count")
            .expect("a row");
        assert_eq!(
            left.int(0).expect("a count"),
            i64::try_from(values.len()).expect("small")
        );
    }

    #[test]
    fn placeholders_are_numbered_for_postgres_outside_quotes_only() {
        let sql = "select \"a?\" from t where x = ? and y = '?' and z = ?";
        assert_eq!(Dialect::Sqlite.render(sql), sql);
        assert_eq!(
            Dialect::Postgres.render(sql),
            "select \"a?\" from t where x = $1 and y = '?' and z = $2"
        );
    }

    #[test]
    fn identifiers_are_quoted_with_inner_quotes_doubled() {
        assert_eq!(ident("software_background"), "\"software_background\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn urls_name_their_dialect() {
        assert_eq!(Dialect::of_url("sqlite://x.db"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::of_url("postgres://h/db"), Some(Dialect::Postgres));
        assert_eq!(
            Dialect::of_url("postgresql://h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(Dialect::of_url("mysql://h/db"), None);
    }
}

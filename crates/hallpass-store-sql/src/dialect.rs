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
async fn read_again_on_lost_connection<'p, T, F, Fut>(
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
    /// PostgreSQL.
    Postgres(PgRow),
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

/// SQLite connections kept outside the pool for one kind of read. sqlx pings a pooled connection
/// every time it goes back to the pool, a second round trip to the connection's thread for each
/// query; these go back to their mutex instead.
pub struct SqliteReaders {
    conns: Vec<tokio::sync::Mutex<SqliteConnection>>,
    next: std::sync::atomic::AtomicUsize,
}

impl SqliteReaders {
    /// Opens `n` connections (at least one) with these options.
    pub async fn open(
        opts: &sqlx::sqlite::SqliteConnectOptions,
        n: usize,
    ) -> StoreResult<SqliteReaders> {
        use sqlx::ConnectOptions;
        let mut conns = Vec::with_capacity(n.max(1));
        for _ in 0..n.max(1) {
            conns.push(tokio::sync::Mutex::new(
                opts.connect().await.map_err(db_error)?,
            ));
        }
        Ok(SqliteReaders {
            conns,
            next: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The first row a statement returns, on a free connection (or the next one's turn).
    pub async fn fetch_optional(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Option<Row>> {
        let mut conn = match self.conns.iter().find_map(|c| c.try_lock().ok()) {
            Some(free) => free,
            None => {
                let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.conns[i % self.conns.len()].lock().await
            }
        };
        bound!(sql, args, bind_sqlite)
            .fetch_optional(&mut *conn)
            .await
            .map(|r| r.map(Row::Sqlite))
            .map_err(db_error)
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
            .map(|r| r.map(Row::Postgres)),
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
            .map(|rows| rows.into_iter().map(Row::Postgres).collect()),
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

impl Row {
    /// Text.
    pub fn text(&self, i: usize) -> StoreResult<String> {
        match self {
            Row::Sqlite(r) => r.try_get(i).map_err(db_error),
            Row::Postgres(r) => r.try_get(i).map_err(db_error),
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
        }
    }

    /// Text or NULL.
    pub fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        match self {
            Row::Sqlite(r) => r.try_get(i).map_err(db_error),
            Row::Postgres(r) => r.try_get(i).map_err(db_error),
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

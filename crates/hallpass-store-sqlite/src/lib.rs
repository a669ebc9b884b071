//! hallpass storage on SQLite, in Better Auth's SQLite layout: dates as ISO-8601 text with
//! milliseconds, booleans as 0/1, profile fields as columns of `user`. A database that Better Auth
//! made is opened in place; one that hallpass made is usable by Better Auth.

mod schema;

use async_trait::async_trait;
use hallpass_core::clock::{from_millis, parse_iso, to_iso, Timestamp};
use hallpass_core::model::{CredentialAccount, Session, SessionWithUser, User, UserChanges};
use hallpass_core::profile::{FieldType, ProfileSchema};
use hallpass_core::store::{
    KeyStore, SessionStore, Store, StoreError, StoreResult, StoredKey, UserStore,
};
use serde_json::{Map, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// A store on one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    schema: ProfileSchema,
    user_cols: String,
    /// The session-with-user join, built once: it runs on every session check the cache misses.
    session_join: String,
}

fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            let msg = db.message();
            let col = if msg.contains("email") {
                "email"
            } else if msg.contains("token") {
                "token"
            } else {
                "id"
            };
            return StoreError::Conflict(col.into());
        }
    }
    StoreError::Backend(e.to_string())
}

fn quote(col: &str) -> String {
    format!("\"{col}\"")
}

fn date_at(row: &SqliteRow, i: usize) -> StoreResult<Timestamp> {
    opt_date_at(row, i)?.ok_or_else(|| StoreError::Backend(format!("column {i}: missing date")))
}

/// Reads a date stored as ISO text (Better Auth's Kysely layout) or as epoch milliseconds.
fn opt_date_at(row: &SqliteRow, i: usize) -> StoreResult<Option<Timestamp>> {
    if let Ok(s) = row.try_get::<Option<String>, _>(i) {
        return match s {
            None => Ok(None),
            Some(s) => parse_iso(&s)
                .map(Some)
                .ok_or_else(|| StoreError::Backend(format!("column {i}: unreadable date {s:?}"))),
        };
    }
    let ms: Option<i64> = row.try_get(i).map_err(backend)?;
    Ok(ms.and_then(from_millis))
}

fn bool_at(row: &SqliteRow, i: usize) -> StoreResult<bool> {
    if let Ok(n) = row.try_get::<i64, _>(i) {
        return Ok(n != 0);
    }
    let s: String = row.try_get(i).map_err(backend)?;
    Ok(s == "1" || s.eq_ignore_ascii_case("true"))
}

/// Reads a profile value as it is stored, whatever its type: values written before a schema
/// change are returned as they are.
fn profile_at(row: &SqliteRow, i: usize, kind: &FieldType) -> Value {
    if let Ok(Some(n)) = row.try_get::<Option<i64>, _>(i) {
        return match kind {
            FieldType::Boolean => Value::Bool(n != 0),
            _ => Value::from(n),
        };
    }
    if let Ok(Some(s)) = row.try_get::<Option<String>, _>(i) {
        return Value::String(s);
    }
    if let Ok(Some(f)) = row.try_get::<Option<f64>, _>(i) {
        return serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number);
    }
    Value::Null
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

fn bind_json<'q>(q: Query<'q>, v: &Value) -> Query<'q> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => q.bind(i),
            None => q.bind(n.as_f64()),
        },
        Value::String(s) => q.bind(s.clone()),
        other => q.bind(other.to_string()),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at a `sqlite://` URL, in WAL mode with foreign keys on.
    pub async fn connect(url: &str, schema: ProfileSchema) -> StoreResult<SqliteStore> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(opts)
            .await
            .map_err(backend)?;
        let mut user_cols = [
            "id",
            "name",
            "email",
            "emailVerified",
            "image",
            "createdAt",
            "updatedAt",
        ]
        .map(quote)
        .join(", ");
        for f in schema.fields() {
            user_cols.push_str(", ");
            user_cols.push_str(&quote(&f.key));
        }
        let prefixed = |cols: &str, alias: &str| {
            cols.split(", ")
                .map(|c| format!("{alias}.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let session_join = format!(
            "select {}, {} from \"session\" s join \"user\" u on u.\"id\" = s.\"userId\" where s.\"token\" = ?",
            prefixed(SESSION_COLS, "s"),
            prefixed(&user_cols, "u")
        );
        Ok(SqliteStore {
            pool,
            schema,
            user_cols,
            session_join,
        })
    }

    /// The connection pool (for tests that inspect rows directly).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn user_from(&self, row: &SqliteRow, at: usize) -> StoreResult<User> {
        let mut profile = Map::new();
        for (n, f) in self.schema.fields().iter().enumerate() {
            profile.insert(f.key.clone(), profile_at(row, at + 7 + n, &f.kind));
        }
        Ok(User {
            id: row.try_get(at).map_err(backend)?,
            name: row.try_get(at + 1).map_err(backend)?,
            email: row.try_get(at + 2).map_err(backend)?,
            email_verified: bool_at(row, at + 3)?,
            image: row.try_get(at + 4).map_err(backend)?,
            created_at: date_at(row, at + 5)?,
            updated_at: date_at(row, at + 6)?,
            profile,
        })
    }

    async fn user_where(&self, col: &str, value: &str) -> StoreResult<Option<User>> {
        let sql = format!(
            "select {} from \"user\" where \"{col}\" = ?",
            self.user_cols
        );
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| self.user_from(&r, 0)).transpose()
    }

    /// What is missing, read on one connection (so `migrate` can plan inside its own lock).
    async fn plan_on(&self, conn: &mut sqlx::SqliteConnection) -> StoreResult<Vec<String>> {
        let existing: Vec<String> =
            sqlx::query_scalar("select name from sqlite_master where type in ('table', 'index')")
                .fetch_all(&mut *conn)
                .await
                .map_err(backend)?;
        let mut plan = Vec::new();
        for t in schema::tables(&self.schema) {
            if !existing.iter().any(|e| e == t.name) {
                plan.push(t.create);
            }
        }
        if existing.iter().any(|e| e == "user") {
            let cols: Vec<String> =
                sqlx::query_scalar("select name from pragma_table_info('user')")
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(backend)?;
            for f in self.schema.fields() {
                if !cols.iter().any(|c| c == &f.key) {
                    plan.push(format!(
                        "alter table \"user\" add column {} {}",
                        quote(&f.key),
                        schema::column_type(&f.kind)
                    ));
                }
            }
        }
        for (name, create) in schema::INDEXES {
            if !existing.iter().any(|e| e == name) {
                plan.push(create.to_string());
            }
        }
        Ok(plan)
    }

    async fn plan_and_apply(&self, conn: &mut sqlx::SqliteConnection) -> StoreResult<Vec<String>> {
        let plan = self.plan_on(conn).await?;
        for stmt in &plan {
            sqlx::query(stmt)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
        }
        Ok(plan)
    }
}

const SESSION_COLS: &str =
    "\"id\", \"token\", \"userId\", \"expiresAt\", \"createdAt\", \"updatedAt\", \"ipAddress\", \"userAgent\"";

fn session_from(row: &SqliteRow) -> StoreResult<Session> {
    Ok(Session {
        id: row.try_get(0).map_err(backend)?,
        token: row.try_get(1).map_err(backend)?,
        user_id: row.try_get(2).map_err(backend)?,
        expires_at: date_at(row, 3)?,
        created_at: date_at(row, 4)?,
        updated_at: date_at(row, 5)?,
        ip_address: row
            .try_get::<Option<String>, _>(6)
            .map_err(backend)?
            .unwrap_or_default(),
        user_agent: row
            .try_get::<Option<String>, _>(7)
            .map_err(backend)?
            .unwrap_or_default(),
    })
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, user: &User, account: &CredentialAccount) -> StoreResult<()> {
        let mut cols = String::from("\"id\", \"name\", \"email\", \"emailVerified\", \"image\", \"createdAt\", \"updatedAt\"");
        let mut marks = String::from("?, ?, ?, ?, ?, ?, ?");
        for f in self.schema.fields() {
            cols.push_str(&format!(", {}", quote(&f.key)));
            marks.push_str(", ?");
        }
        let sql = format!("insert into \"user\" ({cols}) values ({marks})");
        let mut q = sqlx::query(&sql)
            .bind(&user.id)
            .bind(&user.name)
            .bind(&user.email)
            .bind(i64::from(user.email_verified))
            .bind(&user.image)
            .bind(to_iso(&user.created_at))
            .bind(to_iso(&user.updated_at));
        for f in self.schema.fields() {
            q = bind_json(q, user.profile.get(&f.key).unwrap_or(&Value::Null));
        }
        let mut tx = self.pool.begin().await.map_err(backend)?;
        q.execute(&mut *tx).await.map_err(backend)?;
        sqlx::query(
            "insert into \"account\" (\"id\", \"accountId\", \"providerId\", \"userId\", \"password\", \"createdAt\", \"updatedAt\") values (?, ?, 'credential', ?, ?, ?, ?)",
        )
        .bind(&account.id)
        .bind(&account.user_id)
        .bind(&account.user_id)
        .bind(&account.password_hash)
        .bind(to_iso(&account.created_at))
        .bind(to_iso(&account.created_at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.user_where("id", id).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.user_where("email", email).await
    }

    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        let hash: Option<Option<String>> = sqlx::query_scalar(
            "select \"password\" from \"account\" where \"userId\" = ? and \"providerId\" = 'credential' and \"accountId\" = ? limit 1",
        )
        .bind(user_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(hash.flatten())
    }

    async fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "update \"account\" set \"password\" = ?, \"updatedAt\" = ? where \"userId\" = ? and \"providerId\" = 'credential' and \"accountId\" = ?",
        )
        .bind(hash)
        .bind(to_iso(&now))
        .bind(user_id)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn update_user(&self, id: &str, changes: &UserChanges) -> StoreResult<Option<User>> {
        let mut sets: Vec<String> = Vec::new();
        if changes.name.is_some() {
            sets.push("\"name\" = ?".into());
        }
        if changes.image.is_some() {
            sets.push("\"image\" = ?".into());
        }
        if changes.email_verified.is_some() {
            sets.push("\"emailVerified\" = ?".into());
        }
        if changes.updated_at.is_some() {
            sets.push("\"updatedAt\" = ?".into());
        }
        let known: Vec<(&String, &Value)> = changes
            .profile
            .iter()
            .filter(|(k, _)| self.schema.fields().iter().any(|f| &f.key == *k))
            .collect();
        for (k, _) in &known {
            sets.push(format!("{} = ?", quote(k)));
        }
        if sets.is_empty() {
            return self.user_by_id(id).await;
        }
        let sql = format!(
            "update \"user\" set {} where \"id\" = ? returning {}",
            sets.join(", "),
            self.user_cols
        );
        let mut q = sqlx::query(&sql);
        if let Some(name) = &changes.name {
            q = q.bind(name.clone());
        }
        if let Some(image) = &changes.image {
            q = q.bind(image.clone());
        }
        if let Some(v) = changes.email_verified {
            q = q.bind(i64::from(v));
        }
        if let Some(t) = &changes.updated_at {
            q = q.bind(to_iso(t));
        }
        for (_, v) in &known {
            q = bind_json(q, v);
        }
        let row = q
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| self.user_from(&r, 0)).transpose()
    }

    async fn delete_user(&self, id: &str) -> StoreResult<bool> {
        // Foreign keys cascade to sessions and accounts.
        let done = sqlx::query("delete from \"user\" where \"id\" = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_users(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>> {
        let sql = format!(
            "select {} from \"user\" order by \"createdAt\", \"id\" limit ? offset ?",
            self.user_cols
        );
        let rows = sqlx::query(&sql)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(|r| self.user_from(r, 0)).collect()
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        sqlx::query(&format!(
            "insert into \"session\" ({SESSION_COLS}) values (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&s.id)
        .bind(&s.token)
        .bind(&s.user_id)
        .bind(to_iso(&s.expires_at))
        .bind(to_iso(&s.created_at))
        .bind(to_iso(&s.updated_at))
        .bind(&s.ip_address)
        .bind(&s.user_agent)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn session_with_user(&self, token: &str) -> StoreResult<Option<SessionWithUser>> {
        let row = sqlx::query(&self.session_join)
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionWithUser {
            session: session_from(&row)?,
            user: self.user_from(&row, 8)?,
        }))
    }

    async fn extend_session(
        &self,
        token: &str,
        expires_at: Timestamp,
        updated_at: Timestamp,
    ) -> StoreResult<Option<Session>> {
        let row = sqlx::query(&format!(
            "update \"session\" set \"expiresAt\" = ?, \"updatedAt\" = ? where \"token\" = ? returning {SESSION_COLS}"
        ))
        .bind(to_iso(&expires_at))
        .bind(to_iso(&updated_at))
        .bind(token)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(|r| session_from(&r)).transpose()
    }

    async fn delete_session(&self, token: &str) -> StoreResult<bool> {
        let done = sqlx::query("delete from \"session\" where \"token\" = ?")
            .bind(token)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user_session(&self, user_id: &str, token: &str) -> StoreResult<bool> {
        let done = sqlx::query("delete from \"session\" where \"token\" = ? and \"userId\" = ?")
            .bind(token)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "delete from \"session\" where \"userId\" = ? and \"token\" != ? returning \"token\"",
        )
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn user_sessions(&self, user_id: &str, now: Timestamp) -> StoreResult<Vec<Session>> {
        let rows = sqlx::query(&format!(
            "select {SESSION_COLS} from \"session\" where \"userId\" = ? and \"expiresAt\" > ? order by \"createdAt\""
        ))
        .bind(user_id)
        .bind(to_iso(&now))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(session_from).collect()
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        let rows = sqlx::query(
            "select \"id\", \"publicKey\", \"privateKey\", \"createdAt\", \"expiresAt\", \"alg\", \"crv\" from \"jwks\" order by \"createdAt\" desc",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    id: r.try_get(0).map_err(backend)?,
                    public_key: r.try_get(1).map_err(backend)?,
                    private_key: r.try_get(2).map_err(backend)?,
                    created_at: date_at(r, 3)?,
                    expires_at: opt_date_at(r, 4)?,
                    alg: r.try_get(5).map_err(backend)?,
                    crv: r.try_get(6).map_err(backend)?,
                })
            })
            .collect()
    }

    async fn insert_signing_key(&self, k: &StoredKey) -> StoreResult<()> {
        sqlx::query(
            "insert into \"jwks\" (\"id\", \"publicKey\", \"privateKey\", \"createdAt\", \"expiresAt\", \"alg\", \"crv\") values (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&k.id)
        .bind(&k.public_key)
        .bind(&k.private_key)
        .bind(to_iso(&k.created_at))
        .bind(k.expires_at.as_ref().map(to_iso))
        .bind(&k.alg)
        .bind(&k.crv)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn migration_plan(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        self.plan_on(&mut conn).await
    }

    async fn migrate(&self) -> StoreResult<Vec<String>> {
        // BEGIN IMMEDIATE takes the write lock before planning: two processes migrating one file
        // at the same moment take turns, and the second finds nothing left to do.
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        sqlx::query("begin immediate")
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        match self.plan_and_apply(&mut conn).await {
            Ok(plan) => {
                sqlx::query("commit")
                    .execute(&mut *conn)
                    .await
                    .map_err(backend)?;
                Ok(plan)
            }
            Err(e) => {
                let _ = sqlx::query("rollback").execute(&mut *conn).await;
                Err(e)
            }
        }
    }
}

//! hallpass storage on PostgreSQL, in Better Auth's PostgreSQL layout (reference, 6.2): dates as
//! `timestamptz`, native booleans, profile fields as columns of `user`. A database that Better Auth
//! made is used in place, and any number of hallpass processes may share one database.

pub mod notify;
mod rows;
mod schema;

use async_trait::async_trait;
use hallpass_core::clock::{truncate_to_millis, Timestamp};
use hallpass_core::model::{CredentialAccount, Session, SessionWithUser, User, UserChanges};
use hallpass_core::profile::ProfileSchema;
use hallpass_core::store::{KeyStore, SessionStore, Store, StoreResult, StoredKey, UserStore};
use rows::{date_at, db_error, opt_date_at, session_from, user_from, SESSION_COLS, USER_CORE_COLS};
use serde_json::Value;
use sqlx::postgres::{PgArguments, PgConnection, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row};
use std::time::Duration;

/// Key of the advisory lock that serializes migrations across processes ("hallpass" in ASCII).
const MIGRATION_LOCK: i64 = 0x6861_6c6c_7061_7373;

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// A store on one PostgreSQL database (the tables live in the connection's current schema).
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    schema: ProfileSchema,
    /// The `user` columns every user query selects, in [`rows::user_from`]'s order.
    user_cols: String,
    /// The same, qualified by the alias `u` (for the session join).
    /// The session-with-user join, built once: it runs on every session check the cache misses.
    session_join: String,
}

/// The select list of `user`: the core columns, then each profile column as JSON text, so a value
/// reads back as it is stored whatever the column's type (reference, section 7: Better Auth itself
/// stores whatever it was given).
fn user_select(schema: &ProfileSchema, alias: &str) -> String {
    let mut cols: Vec<String> = USER_CORE_COLS
        .iter()
        .map(|c| format!("{alias}\"{c}\""))
        .collect();
    for f in schema.fields() {
        cols.push(format!("to_jsonb({alias}\"{}\")::text", f.key));
    }
    cols.join(", ")
}

/// Drops the microseconds PostgreSQL could keep, so both stores hold the same instants.
fn ms(t: &Timestamp) -> Timestamp {
    truncate_to_millis(*t)
}

/// The SQL for a profile value: a literal `null` (which fits a column of any type), or the next
/// `$n` placeholder.
fn value_sql(v: &Value, next: &mut usize) -> String {
    if v.is_null() {
        "null".into()
    } else {
        *next += 1;
        format!("${next}")
    }
}

/// Binds a non-null profile value with its own type; PostgreSQL assigns it to the column.
fn bind_value<'q>(q: PgQuery<'q>, v: &Value) -> PgQuery<'q> {
    match v {
        Value::Null => q,
        Value::Bool(b) => q.bind(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => q.bind(i),
            None => q.bind(n.as_f64()),
        },
        Value::String(s) => q.bind(s.clone()),
        other => q.bind(other.to_string()),
    }
}

impl PostgresStore {
    /// Connects a pool of at most `max_connections` to a `postgres://` URL. Does not migrate.
    pub async fn connect(
        url: &str,
        schema: ProfileSchema,
        max_connections: u32,
    ) -> StoreResult<PostgresStore> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(db_error)?;
        Ok(PostgresStore {
            pool,
            user_cols: user_select(&schema, ""),
            session_join: format!(
                "select {}, {} from \"session\" s join \"user\" u on u.\"id\" = s.\"userId\" where s.\"token\" = $1",
                SESSION_COLS
                    .split(", ")
                    .map(|c| format!("s.{c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                user_select(&schema, "u.")
            ),
            schema,
        })
    }

    /// The connection pool (for tests that inspect rows directly, and for health checks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn is_profile_key(&self, key: &str) -> bool {
        self.schema.fields().iter().any(|f| f.key == key)
    }

    async fn user_where(&self, col: &str, value: &str) -> StoreResult<Option<User>> {
        let sql = format!(
            "select {} from \"user\" where \"{col}\" = $1",
            self.user_cols
        );
        let row = sqlx::query(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(|r| user_from(&r, 0, &self.schema)).transpose()
    }

    /// What is missing from the database the connection is on, as statements: tables, profile
    /// columns of `user`, Better Auth's indexes. Never a drop or a rewrite.
    async fn plan_on(&self, conn: &mut PgConnection) -> StoreResult<Vec<String>> {
        let tables: Vec<String> = sqlx::query_scalar(
            "select table_name::text from information_schema.tables where table_schema = current_schema()",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
        let has = |name: &str| tables.iter().any(|t| t == name);
        let mut plan: Vec<String> = schema::tables(&self.schema)
            .into_iter()
            .filter(|t| !has(t.name))
            .map(|t| t.create)
            .collect();
        if has("user") {
            let cols: Vec<String> = sqlx::query_scalar(
                "select column_name::text from information_schema.columns where table_schema = current_schema() and table_name = 'user'",
            )
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
            for f in self.schema.fields() {
                if !cols.iter().any(|c| c == &f.key) {
                    plan.push(format!(
                        "alter table \"user\" add column \"{}\" {}",
                        f.key,
                        schema::column_type(&f.kind)
                    ));
                }
            }
        }
        let indexes: Vec<String> = sqlx::query_scalar(
            "select indexname::text from pg_indexes where schemaname = current_schema()",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
        for (name, create) in schema::INDEXES {
            if !indexes.iter().any(|i| i == name) {
                plan.push(create.to_string());
            }
        }
        Ok(plan)
    }
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn insert_user(&self, user: &User, account: &CredentialAccount) -> StoreResult<()> {
        let mut cols = String::from(
            "\"id\", \"name\", \"email\", \"emailVerified\", \"image\", \"createdAt\", \"updatedAt\"",
        );
        let mut values = String::from("$1, $2, $3, $4, $5, $6, $7");
        let mut next = 7;
        let profile: Vec<&Value> = self
            .schema
            .fields()
            .iter()
            .map(|f| user.profile.get(&f.key).unwrap_or(&Value::Null))
            .collect();
        for (f, v) in self.schema.fields().iter().zip(&profile) {
            cols.push_str(&format!(", \"{}\"", f.key));
            values.push_str(&format!(", {}", value_sql(v, &mut next)));
        }
        let sql = format!("insert into \"user\" ({cols}) values ({values})");
        let mut q = sqlx::query(&sql)
            .bind(&user.id)
            .bind(&user.name)
            .bind(&user.email)
            .bind(user.email_verified)
            .bind(&user.image)
            .bind(ms(&user.created_at))
            .bind(ms(&user.updated_at));
        for v in profile {
            q = bind_value(q, v);
        }
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        q.execute(&mut *tx).await.map_err(db_error)?;
        // A credential account as Better Auth writes it (reference, 6.4 "Credential account").
        sqlx::query(
            "insert into \"account\" (\"id\", \"accountId\", \"providerId\", \"userId\", \"password\", \"createdAt\", \"updatedAt\") values ($1, $2, 'credential', $2, $3, $4, $4)",
        )
        .bind(&account.id)
        .bind(&account.user_id)
        .bind(&account.password_hash)
        .bind(ms(&account.created_at))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.user_where("id", id).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        self.user_where("email", email).await
    }

    async fn password_hash(&self, user_id: &str) -> StoreResult<Option<String>> {
        let hash: Option<Option<String>> = sqlx::query_scalar(
            "select \"password\" from \"account\" where \"userId\" = $1 and \"providerId\" = 'credential' and \"accountId\" = $1 limit 1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(hash.flatten())
    }

    async fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "update \"account\" set \"password\" = $1, \"updatedAt\" = $2 where \"userId\" = $3 and \"providerId\" = 'credential' and \"accountId\" = $3",
        )
        .bind(hash)
        .bind(ms(&now))
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn update_user(&self, id: &str, changes: &UserChanges) -> StoreResult<Option<User>> {
        let mut sets: Vec<String> = Vec::new();
        let mut next = 1; // $1 is the id
        let mut placeholder = || {
            next += 1;
            format!("${next}")
        };
        if changes.name.is_some() {
            sets.push(format!("\"name\" = {}", placeholder()));
        }
        if changes.image.is_some() {
            sets.push(format!("\"image\" = {}", placeholder()));
        }
        if changes.email_verified.is_some() {
            sets.push(format!("\"emailVerified\" = {}", placeholder()));
        }
        if changes.updated_at.is_some() {
            sets.push(format!("\"updatedAt\" = {}", placeholder()));
        }
        let known: Vec<(&String, &Value)> = changes
            .profile
            .iter()
            .filter(|(k, _)| self.is_profile_key(k))
            .collect();
        for (k, v) in &known {
            sets.push(format!("\"{k}\" = {}", value_sql(v, &mut next)));
        }
        if sets.is_empty() {
            return self.user_by_id(id).await;
        }
        let sql = format!(
            "update \"user\" set {} where \"id\" = $1 returning {}",
            sets.join(", "),
            self.user_cols
        );
        let mut q = sqlx::query(&sql).bind(id);
        if let Some(name) = &changes.name {
            q = q.bind(name.clone());
        }
        if let Some(image) = &changes.image {
            q = q.bind(image.clone());
        }
        if let Some(v) = changes.email_verified {
            q = q.bind(v);
        }
        if let Some(t) = &changes.updated_at {
            q = q.bind(ms(t));
        }
        for (_, v) in &known {
            q = bind_value(q, v);
        }
        let row = q.fetch_optional(&self.pool).await.map_err(db_error)?;
        row.map(|r| user_from(&r, 0, &self.schema)).transpose()
    }

    async fn delete_user(&self, id: &str) -> StoreResult<bool> {
        // Sessions and accounts go with it: their foreign keys are ON DELETE CASCADE.
        let done = sqlx::query("delete from \"user\" where \"id\" = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_users(&self, limit: u32, offset: u32) -> StoreResult<Vec<User>> {
        let sql = format!(
            "select {} from \"user\" order by \"createdAt\", \"id\" limit $1 offset $2",
            self.user_cols
        );
        let rows = sqlx::query(&sql)
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(|r| user_from(r, 0, &self.schema)).collect()
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn insert_session(&self, s: &Session) -> StoreResult<()> {
        sqlx::query(&format!(
            "insert into \"session\" ({SESSION_COLS}) values ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&s.id)
        .bind(&s.token)
        .bind(&s.user_id)
        .bind(ms(&s.expires_at))
        .bind(ms(&s.created_at))
        .bind(ms(&s.updated_at))
        .bind(&s.ip_address)
        .bind(&s.user_agent)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn session_with_user(&self, token: &str) -> StoreResult<Option<SessionWithUser>> {
        let row = sqlx::query(&self.session_join)
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionWithUser {
            session: session_from(&row)?,
            user: user_from(&row, 8, &self.schema)?,
        }))
    }

    async fn extend_session(
        &self,
        token: &str,
        expires_at: Timestamp,
        updated_at: Timestamp,
    ) -> StoreResult<Option<Session>> {
        let row = sqlx::query(&format!(
            "update \"session\" set \"expiresAt\" = $1, \"updatedAt\" = $2 where \"token\" = $3 returning {SESSION_COLS}"
        ))
        .bind(ms(&expires_at))
        .bind(ms(&updated_at))
        .bind(token)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.map(|r| session_from(&r)).transpose()
    }

    async fn delete_session(&self, token: &str) -> StoreResult<bool> {
        let done = sqlx::query("delete from \"session\" where \"token\" = $1")
            .bind(token)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user_session(&self, user_id: &str, token: &str) -> StoreResult<bool> {
        let done = sqlx::query("delete from \"session\" where \"token\" = $1 and \"userId\" = $2")
            .bind(token)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "delete from \"session\" where \"userId\" = $1 and ($2::text is null or \"token\" <> $2) returning \"token\"",
        )
        .bind(user_id)
        .bind(keep)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)
    }

    async fn user_sessions(&self, user_id: &str, now: Timestamp) -> StoreResult<Vec<Session>> {
        let rows = sqlx::query(&format!(
            "select {SESSION_COLS} from \"session\" where \"userId\" = $1 and \"expiresAt\" > $2 order by \"createdAt\""
        ))
        .bind(user_id)
        .bind(ms(&now))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(session_from).collect()
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        let rows = sqlx::query(
            "select \"id\", \"publicKey\", \"privateKey\", \"createdAt\", \"expiresAt\", \"alg\", \"crv\" from \"jwks\" order by \"createdAt\" desc",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    id: r.try_get(0).map_err(db_error)?,
                    public_key: r.try_get(1).map_err(db_error)?,
                    private_key: r.try_get(2).map_err(db_error)?,
                    created_at: date_at(r, 3)?,
                    expires_at: opt_date_at(r, 4)?,
                    alg: r.try_get(5).map_err(db_error)?,
                    crv: r.try_get(6).map_err(db_error)?,
                })
            })
            .collect()
    }

    async fn insert_signing_key(&self, k: &StoredKey) -> StoreResult<()> {
        sqlx::query(
            "insert into \"jwks\" (\"id\", \"publicKey\", \"privateKey\", \"createdAt\", \"expiresAt\", \"alg\", \"crv\") values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&k.id)
        .bind(&k.public_key)
        .bind(&k.private_key)
        .bind(ms(&k.created_at))
        .bind(k.expires_at.as_ref().map(ms))
        .bind(&k.alg)
        .bind(&k.crv)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn migration_plan(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        self.plan_on(&mut conn).await
    }

    /// Plans and applies in one transaction, under a transaction-scoped advisory lock: processes
    /// starting together migrate one after the other, and the later ones find nothing to do.
    async fn migrate(&self) -> StoreResult<Vec<String>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let plan = self.plan_on(&mut tx).await?;
        for statement in &plan {
            tracing::info!(%statement, "migrating");
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(plan)
    }
}

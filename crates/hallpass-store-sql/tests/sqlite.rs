//! The shared store suite against SQLite (a fresh file per test), and the compatibility checks
//! against a database laid out by Better Auth itself (reference, 6.1).

// A failed expectation in a test or its helpers is a test failure: panicking is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hallpass_core::profile::ProfileSchema;
use hallpass_store_sql::dialect::Pool;
use hallpass_store_sql::SqlStore;
use hallpass_store_tests::{store_tests, StoreUnderTest};
use std::sync::Arc;

/// A store on a new file in a temporary directory that lives as long as the test.
async fn fresh_store() -> Option<StoreUnderTest> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&url_in(&dir), ProfileSchema::default(), 1)
        .await
        .unwrap();
    Some(StoreUnderTest::new(Arc::new(store), dir))
}

fn url_in(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("hallpass.db").display())
}

store_tests!(fresh_store());

/// Better Auth's SQLite tables exactly as `npx auth migrate` creates them (reference, 6.1), with
/// the default profile fields in place of the reference's example fields.
const BETTER_AUTH_DDL: [&str; 8] = [
    r#"create table "user" ("id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" integer not null, "image" text, "createdAt" date not null, "updatedAt" date not null, "software_background" text, "hardware_background" text)"#,
    r#"create table "session" ("id" text not null primary key, "expiresAt" date not null, "token" text not null unique, "createdAt" date not null, "updatedAt" date not null, "ipAddress" text, "userAgent" text, "userId" text not null references "user" ("id") on delete cascade)"#,
    r#"create table "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null, "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text, "accessTokenExpiresAt" date, "refreshTokenExpiresAt" date, "scope" text, "password" text, "createdAt" date not null, "updatedAt" date not null)"#,
    r#"create table "verification" ("id" text not null primary key, "identifier" text not null, "value" text not null, "expiresAt" date not null, "createdAt" date not null, "updatedAt" date not null)"#,
    r#"create table "jwks" ("id" text not null primary key, "publicKey" text not null, "privateKey" text not null, "createdAt" date not null, "expiresAt" date, "alg" text, "crv" text)"#,
    r#"create index "session_userId_idx" on "session" ("userId")"#,
    r#"create index "account_userId_idx" on "account" ("userId")"#,
    r#"create index "verification_identifier_idx" on "verification" ("identifier")"#,
];

/// Rows as Better Auth writes them (reference, 6.1 "Example rows"): ISO dates with milliseconds,
/// booleans 0/1, empty IP and agent, the private key as a JSON string.
const BETTER_AUTH_ROWS: [&str; 4] = [
    r#"insert into "user" values ('YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X', 'A', 'a@example.com', 1, null, '2026-11-22T02:02:43.318Z', '2026-11-22T02:05:00.001Z', 'intermediate', null)"#,
    r#"insert into "session" values ('F9O7mwBqm69dKN30eBix5cEzZtcPAvKC', '2026-11-29T02:02:43.322Z', 'GHb7zBCzNQ9gpAhDeSL17U5xvGBS8HOg', '2026-11-22T02:02:43.322Z', '2026-11-22T02:02:43.322Z', '', '', 'YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X')"#,
    r#"insert into "account" values ('eKmOVHy2ragURXrHmsue0uiauadlQIfD', 'YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X', 'credential', 'YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X', null, null, null, null, null, null, '92a6f8dd7af64791d43e735868787f52:ef81', '2026-11-22T02:02:43.320Z', '2026-11-22T02:02:43.320Z')"#,
    r#"insert into "jwks" values ('f8sI4XDXZIIc69xeEMPNKnXzeqVFVF8T', '{"crv":"Ed25519","x":"IUDv","kty":"OKP"}', '"a5c463d8"', '2026-11-22T02:02:43.500Z', null, 'EdDSA', 'Ed25519')"#,
];

mod better_auth_layout {
    use super::*;
    use hallpass_core::clock::parse_iso;
    use hallpass_core::model::{CredentialAccount, Session, User};
    use hallpass_core::profile::FieldDef;
    use hallpass_core::store::{KeyStore, SessionStore, Store, StoredKey, UserStore};
    use serde_json::{json, Map, Value};
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{Row, SqlitePool};
    use std::str::FromStr;

    fn t(iso: &str) -> chrono::DateTime<chrono::Utc> {
        parse_iso(iso).unwrap()
    }

    /// A database laid out by running `statements` on a new file, the way Better Auth's migrator
    /// would, before hallpass ever opens it.
    async fn database_made_with(dir: &tempfile::TempDir, statements: &[&str]) {
        let opts = SqliteConnectOptions::from_str(&url_in(dir))
            .unwrap()
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = SqlitePool::connect_with(opts).await.unwrap();
        for statement in statements {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }

    /// `sqlite_master` as (type, name, table, sql), sorted: the schema exactly as written.
    async fn schema_of(pool: &SqlitePool) -> Vec<(String, String, String, Option<String>)> {
        sqlx::query_as("select type, name, tbl_name, sql from sqlite_master order by type, name")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn hallpass_creates_the_schema_better_auth_creates() {
        let by_better_auth = tempfile::tempdir().unwrap();
        database_made_with(&by_better_auth, &BETTER_AUTH_DDL).await;
        let by_better_auth =
            SqlStore::connect(&url_in(&by_better_auth), ProfileSchema::default(), 1)
                .await
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let by_hallpass = SqlStore::connect(&url_in(&dir), ProfileSchema::default(), 1)
            .await
            .unwrap();

        by_hallpass.migrate().await.unwrap();

        let expected = schema_of(lite(&by_better_auth)).await;
        // Five tables, three indexes, and the automatic indexes of the five text primary keys and
        // of the two unique columns.
        assert_eq!(expected.len(), 15, "{expected:#?}");
        assert_eq!(schema_of(lite(&by_hallpass)).await, expected);
    }

    #[tokio::test]
    async fn a_database_made_by_better_auth_needs_no_migration_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut statements = BETTER_AUTH_DDL.to_vec();
        statements.extend(BETTER_AUTH_ROWS);
        database_made_with(&dir, &statements).await;

        let store = SqlStore::connect(&url_in(&dir), ProfileSchema::default(), 1)
            .await
            .unwrap();

        assert_eq!(store.migration_plan().await.unwrap(), Vec::<String>::new());
        let mut profile = Map::new();
        profile.insert("software_background".into(), json!("intermediate"));
        profile.insert("hardware_background".into(), Value::Null);
        let user = User {
            id: "YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X".into(),
            name: "A".into(),
            email: "a@example.com".into(),
            email_verified: true,
            image: None,
            created_at: t("2026-11-22T02:02:43.318Z"),
            updated_at: t("2026-11-22T02:05:00.001Z"),
            profile,
        };
        assert_eq!(
            store.user_by_email("a@example.com").await.unwrap(),
            Some(user.clone())
        );
        assert_eq!(
            store.password_hash(&user.id).await.unwrap().as_deref(),
            Some("92a6f8dd7af64791d43e735868787f52:ef81")
        );
        let session = Session {
            id: "F9O7mwBqm69dKN30eBix5cEzZtcPAvKC".into(),
            token: "GHb7zBCzNQ9gpAhDeSL17U5xvGBS8HOg".into(),
            user_id: user.id.clone(),
            expires_at: t("2026-11-29T02:02:43.322Z"),
            created_at: t("2026-11-22T02:02:43.322Z"),
            updated_at: t("2026-11-22T02:02:43.322Z"),
            ip_address: String::new(),
            user_agent: String::new(),
        };
        let found = store
            .session_with_user(&session.token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.session, found.user), (session.clone(), user.clone()));
        assert_eq!(
            store
                .user_sessions(&user.id, t("2026-11-29T02:02:43.321Z"))
                .await
                .unwrap(),
            vec![session]
        );
        assert_eq!(
            store
                .user_sessions(&user.id, t("2026-11-29T02:02:43.322Z"))
                .await
                .unwrap(),
            Vec::new()
        );
        assert_eq!(
            store.signing_keys().await.unwrap(),
            vec![StoredKey {
                id: "f8sI4XDXZIIc69xeEMPNKnXzeqVFVF8T".into(),
                public_key: r#"{"crv":"Ed25519","x":"IUDv","kty":"OKP"}"#.into(),
                private_key: r#""a5c463d8""#.into(),
                created_at: t("2026-11-22T02:02:43.500Z"),
                expires_at: None,
                alg: Some("EdDSA".into()),
                crv: Some("Ed25519".into()),
            }]
        );
        // And the user is deleted the way Better Auth's foreign keys say.
        assert!(store.delete_user(&user.id).await.unwrap());
        let left: i64 = sqlx::query_scalar(
            r#"select (select count(*) from "session") + (select count(*) from "account")"#,
        )
        .fetch_one(lite(&store))
        .await
        .unwrap();
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn hallpass_writes_rows_the_way_better_auth_does() {
        let dir = tempfile::tempdir().unwrap();
        database_made_with(&dir, &BETTER_AUTH_DDL).await;
        let store = SqlStore::connect(&url_in(&dir), ProfileSchema::default(), 1)
            .await
            .unwrap();
        let mut profile = Map::new();
        profile.insert("software_background".into(), json!("advanced"));
        profile.insert("hardware_background".into(), Value::Null);
        let user = User {
            id: "u".repeat(32),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            email_verified: false,
            image: None,
            created_at: t("2026-11-22T02:02:43.000Z"),
            updated_at: t("2026-11-22T02:02:43.318Z"),
            profile,
        };
        let account = CredentialAccount {
            id: "a".repeat(32),
            user_id: user.id.clone(),
            password_hash: "00:11".into(),
            created_at: user.created_at,
        };
        store.insert_user(&user, &account).await.unwrap();
        store
            .insert_session(&Session {
                id: "s".repeat(32),
                token: "T".repeat(32),
                user_id: user.id.clone(),
                expires_at: t("2026-11-29T02:02:43.318Z"),
                created_at: user.created_at,
                updated_at: user.created_at,
                ip_address: String::new(),
                user_agent: String::new(),
            })
            .await
            .unwrap();

        let row = sqlx::query(
            r#"select "emailVerified", typeof("emailVerified"), "createdAt", typeof("createdAt"), "updatedAt", "software_background", "hardware_background" from "user""#,
        )
        .fetch_one(lite(&store))
        .await
        .unwrap();
        assert_eq!(row.get::<i64, _>(0), 0);
        assert_eq!(row.get::<String, _>(1), "integer");
        assert_eq!(row.get::<String, _>(2), "2026-11-22T02:02:43.000Z");
        assert_eq!(row.get::<String, _>(3), "text");
        assert_eq!(row.get::<String, _>(4), "2026-11-22T02:02:43.318Z");
        assert_eq!(row.get::<Option<String>, _>(5).as_deref(), Some("advanced"));
        assert_eq!(row.get::<Option<String>, _>(6), None);
        let account_row: (String, String, String, String, String) = sqlx::query_as(
            r#"select "accountId", "providerId", "userId", "password", "createdAt" from "account""#,
        )
        .fetch_one(lite(&store))
        .await
        .unwrap();
        assert_eq!(
            account_row,
            (
                user.id.clone(),
                "credential".into(),
                user.id.clone(),
                "00:11".into(),
                "2026-11-22T02:02:43.000Z".into()
            )
        );
        let session_row: (String, String, String) =
            sqlx::query_as(r#"select "expiresAt", "ipAddress", "userAgent" from "session""#)
                .fetch_one(lite(&store))
                .await
                .unwrap();
        assert_eq!(
            session_row,
            (
                "2026-11-29T02:02:43.318Z".into(),
                String::new(),
                String::new()
            )
        );
    }

    #[tokio::test]
    async fn a_better_auth_database_without_the_profile_columns_gets_only_them_added() {
        let dir = tempfile::tempdir().unwrap();
        let mut statements: Vec<String> = BETTER_AUTH_DDL.iter().map(|s| s.to_string()).collect();
        statements[0] = statements[0].replace(
            r#", "software_background" text, "hardware_background" text"#,
            "",
        );
        statements.push(
            r#"insert into "user" values ('u1', 'A', 'a@example.com', 0, null, '2026-11-22T02:02:43.318Z', '2026-11-22T02:02:43.318Z')"#.into(),
        );
        database_made_with(
            &dir,
            &statements.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await;
        let store = SqlStore::connect(&url_in(&dir), ProfileSchema::default(), 1)
            .await
            .unwrap();

        let plan = store.migration_plan().await.unwrap();
        let applied = store.migrate().await.unwrap();

        let expected = vec![
            r#"alter table "user" add column "software_background" text"#.to_string(),
            r#"alter table "user" add column "hardware_background" text"#.to_string(),
        ];
        assert_eq!(plan, expected);
        assert_eq!(applied, expected);
        assert_eq!(store.migration_plan().await.unwrap(), Vec::<String>::new());
        let user = store.user_by_id("u1").await.unwrap().unwrap();
        assert_eq!(
            Value::Object(user.profile),
            json!({"software_background": null, "hardware_background": null})
        );
    }

    #[tokio::test]
    async fn profile_values_stored_with_another_type_are_returned_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let mut statements = BETTER_AUTH_DDL.to_vec();
        statements[0] = r#"create table "user" ("id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" integer not null, "image" text, "createdAt" date not null, "updatedAt" date not null, "age" text, "newsletter" integer, "nick" integer)"#;
        statements.push(
            r#"insert into "user" values ('u1', 'A', 'a@example.com', 0, null, '2026-11-22T02:02:43.318Z', '2026-11-22T02:02:43.318Z', 'notanumber', 1, 42)"#,
        );
        database_made_with(&dir, &statements).await;
        let fields: Vec<FieldDef> = serde_json::from_value(json!([
            {"key": "age", "type": "number"},
            {"key": "newsletter", "type": "boolean"},
            {"key": "nick", "type": "string"}
        ]))
        .unwrap();
        let schema = ProfileSchema::new(fields).unwrap();
        let store = SqlStore::connect(&url_in(&dir), schema, 1).await.unwrap();

        let user = store.user_by_id("u1").await.unwrap().unwrap();

        assert_eq!(store.migration_plan().await.unwrap(), Vec::<String>::new());
        assert_eq!(
            Value::Object(user.profile),
            json!({"age": "notanumber", "newsletter": true, "nick": 42})
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_migrating_one_file_at_once_take_turns() {
    use hallpass_core::Store;
    let dir = tempfile::tempdir().unwrap();
    let url = url_in(&dir);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = SqlStore::connect(&url, ProfileSchema::default(), 1)
            .await
            .unwrap();
        tasks.push(tokio::spawn(async move {
            store.migrate().await.map(|plan| plan.len())
        }));
    }
    let mut applied = Vec::new();
    for t in tasks {
        applied.push(t.await.unwrap().unwrap());
    }
    assert_eq!(
        applied.iter().filter(|n| **n > 0).count(),
        1,
        "exactly one applies: {applied:?}"
    );
    assert_eq!(
        applied.iter().sum::<usize>(),
        8,
        "5 tables and 3 indexes: {applied:?}"
    );
}

/// The SQLite pool under a store.
fn lite(store: &SqlStore) -> &sqlx::SqlitePool {
    match store.pool() {
        Pool::Sqlite(p) => p,
        Pool::Postgres(_) => panic!("a SQLite store"),
    }
}

//! The suites on SQLite.

use super::{ddl, rows};
use hallpass_core::profile::ProfileSchema;
use hallpass_store_sql::dialect::Dialect;
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

/// Every pooled connection runs in WAL mode with a 1 MiB page cache, set by hallpass rather than
/// left to the library, so memory stays bounded however large the file grows.
#[tokio::test]
async fn connections_have_a_bounded_page_cache_and_wal() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&url_in(&dir), ProfileSchema::default(), 1)
        .await
        .unwrap();
    let Pool::Sqlite(pool) = store.pool() else {
        panic!("a SQLite URL gives a SQLite pool")
    };
    // Hold several connections at once, so new ones are opened and checked too.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut conn = pool.acquire().await.unwrap();
        let cache: i64 = sqlx::query_scalar("pragma cache_size")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let mode: String = sqlx::query_scalar("pragma journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!((cache, mode.as_str()), (-1024, "wal"));
        held.push(conn);
    }
}

mod better_auth_layout {
    use super::*;
    use hallpass_core::profile::FieldDef;
    use hallpass_core::store::{Store, UserStore};
    use serde_json::{json, Value};
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{Row, SqlitePool};
    use std::str::FromStr;

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
        database_made_with(&by_better_auth, &ddl(Dialect::Sqlite)).await;
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
        let mut statements = ddl(Dialect::Sqlite);
        statements.extend(rows(Dialect::Sqlite));
        database_made_with(&dir, &statements).await;
        let store = SqlStore::connect(&url_in(&dir), ProfileSchema::default(), 1)
            .await
            .unwrap();
        hallpass_store_tests::better_auth_example_rows_read_back(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn hallpass_writes_rows_the_way_better_auth_does() {
        let dir = tempfile::tempdir().unwrap();
        database_made_with(&dir, &ddl(Dialect::Sqlite)).await;
        let store = SqlStore::connect(&url_in(&dir), ProfileSchema::default(), 1)
            .await
            .unwrap();
        let user = hallpass_store_tests::ada_written(&store).await;

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
        // The credential account as Better Auth writes it, dates as ISO text.
        let account: String = sqlx::query_scalar(
            r#"select "accountId" || ' ' || "providerId" || ' ' || "userId" || ' ' || "password" || ' ' || "createdAt" from "account""#,
        )
        .fetch_one(lite(&store))
        .await
        .unwrap();
        let created = "2026-11-22T02:02:43.000Z";
        assert_eq!(
            account,
            format!("{0} credential {0} 00:11 {created}", user.id)
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
        let mut statements: Vec<String> =
            ddl(Dialect::Sqlite).iter().map(|s| s.to_string()).collect();
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

        hallpass_store_tests::only_the_profile_columns_are_added(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn profile_values_stored_with_another_type_are_returned_as_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let mut statements = ddl(Dialect::Sqlite);
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
    let dir = tempfile::tempdir().unwrap();
    let mut stores: Vec<Arc<dyn hallpass_core::Store>> = Vec::new();
    for _ in 0..4 {
        let url = url_in(&dir);
        let store = SqlStore::connect(&url, ProfileSchema::default(), 1).await;
        stores.push(Arc::new(store.unwrap()));
    }
    hallpass_store_tests::migrations_started_together_take_turns(stores).await;
}

/// The SQLite pool under a store.
/// A migrated store on a new file (the folder lives as long as the returned guard), shared
/// between tasks.
async fn migrated_shared_store() -> (tempfile::TempDir, Arc<dyn hallpass_core::Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn hallpass_core::Store> = Arc::new(
        SqlStore::connect(&url_in(&dir), ProfileSchema::default(), 1)
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    (dir, store)
}

fn lite(store: &SqlStore) -> &sqlx::SqlitePool {
    match store.pool() {
        Pool::Sqlite(p) => p,
        Pool::Postgres(_) => panic!("a SQLite store"),
    }
}

/// Session reads for checks run on connections of their own, outside the pool, each behind a
/// lock: many at once, over several sessions, while sessions are written and deleted, each read
/// answers with its own session and user, and a deleted session is gone for reads after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_session_reads_each_answer_their_own_session() {
    use hallpass_store_tests::{inserted, inserted_session, t0};
    let (_dir, store) = migrated_shared_store().await;
    let mut sessions = Vec::new();
    for i in 0..8 {
        let user = inserted(store.as_ref(), &format!("reader{i}@example.com"), t0()).await;
        let session = inserted_session(store.as_ref(), &user, t0()).await;
        sessions.push((user, session));
    }
    let sessions = Arc::new(sessions);
    let mut reads = tokio::task::JoinSet::new();
    for n in 0..256 {
        let (reader, sessions) = (Arc::clone(&store), Arc::clone(&sessions));
        reads.spawn(async move {
            let (user, session) = &sessions[n % sessions.len()];
            let found = reader.session_with_user(&session.token).await.unwrap();
            let found = found.expect("the session is there");
            assert_eq!(&found.user, user);
            assert_eq!(&found.session, session);
        });
        if n == 128 {
            // Writes go through the pool meanwhile.
            let extra = inserted(store.as_ref(), "writer@example.com", t0()).await;
            let gone = inserted_session(store.as_ref(), &extra, t0()).await;
            assert!(store
                .session_with_user(&gone.token)
                .await
                .unwrap()
                .is_some());
            assert!(store.delete_session(&gone.token).await.unwrap());
            assert!(store
                .session_with_user(&gone.token)
                .await
                .unwrap()
                .is_none());
        }
    }
    while let Some(done) = reads.join_next().await {
        done.unwrap();
    }
}

/// Session checks read on the request's own thread, on connections of their own: every one of
/// them sees a session as soon as the pool has written it, and sees it gone as soon as the pool
/// has deleted it (no reader keeps an older snapshot), with many reads at once each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_session_reader_sees_each_write_at_once() {
    use hallpass_store_tests::{inserted, inserted_session, t0};
    let (_dir, store) = migrated_shared_store().await;
    let user = inserted(store.as_ref(), "fresh@example.com", t0()).await;
    let reads = |token: String| {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let (store, token) = (Arc::clone(&store), token.clone());
            set.spawn(async move { store.session_with_user(&token).await.unwrap().is_some() });
        }
        set
    };
    for round in 0..40 {
        let session = inserted_session(store.as_ref(), &user, t0()).await;
        let mut seen = reads(session.token.clone());
        while let Some(found) = seen.join_next().await {
            assert!(
                found.unwrap(),
                "round {round}: a reader missed a new session"
            );
        }
        assert!(store.delete_session(&session.token).await.unwrap());
        let mut gone = reads(session.token.clone());
        while let Some(found) = gone.join_next().await {
            assert!(
                !found.unwrap(),
                "round {round}: a reader saw a deleted session"
            );
        }
    }
}

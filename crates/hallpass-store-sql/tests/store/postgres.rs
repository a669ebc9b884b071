//! The suites on PostgreSQL.

use super::{ddl, rows};
use hallpass_core::profile::ProfileSchema;
use hallpass_store_sql::dialect::Dialect;
use hallpass_store_sql::dialect::Pool;
use hallpass_store_sql::SqlStore;
use hallpass_store_tests::{store_tests, StoreUnderTest};
use sqlx::{Connection, PgConnection, PgPool};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Scratch databases older than this are leftovers of runs that died before cleaning up.
const LEFTOVER_AGE_SECS: u64 = 3600;

fn server_url() -> String {
    std::env::var("HALLPASS_TEST_PG").unwrap_or_else(|_| DEFAULT_SERVER.into())
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Checks once per test process that the server answers, and removes old scratch databases.
async fn server_reachable(server: &str) -> Result<(), String> {
    static PROBE: tokio::sync::OnceCell<Result<(), String>> = tokio::sync::OnceCell::const_new();
    PROBE
        .get_or_init(|| async {
            let mut admin = admin_connection(server).await?;
            drop_leftovers(&mut admin).await;
            let _ = admin.close().await;
            Ok(())
        })
        .await
        .clone()
}

async fn admin_connection(server: &str) -> Result<PgConnection, String> {
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(server)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 5 seconds".into()),
    }
}

async fn drop_database(admin: &mut PgConnection, name: &str) {
    let forced = sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
        .execute(&mut *admin)
        .await;
    if forced.is_err() {
        // Servers before 13 have no FORCE.
        let _ = sqlx::query(&format!("drop database if exists \"{name}\""))
            .execute(&mut *admin)
            .await;
    }
}

async fn drop_leftovers(admin: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        r"select datname::text from pg_database where datname like 'hp\_test\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    for name in names {
        let born: Option<u64> = name.split('_').nth(2).and_then(|s| s.parse().ok());
        if born.is_some_and(|born| born + LEFTOVER_AGE_SECS < unix_secs()) {
            drop_database(admin, &name).await;
        }
    }
}

/// Says once why the PostgreSQL tests are skipped, past the test harness's output capture.
fn report_skip(server: &str, why: &str) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::SeqCst) {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: PostgreSQL store tests: cannot reach {server} ({why}); set HALLPASS_REQUIRE_PG=1 to fail instead"
        );
    }
}

/// A database of its own for one test: `hp_test_<unix seconds>_<random>`, dropped (forcibly) when
/// the guard goes, even when the test panics.
struct ScratchDatabase {
    server: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// None when the server cannot be reached and that is allowed.
    async fn create() -> Option<ScratchDatabase> {
        let server = server_url();
        let required =
            std::env::var("HALLPASS_REQUIRE_PG").is_ok_and(|v| !v.is_empty() && v != "0");
        let reachable = match server_reachable(&server).await {
            Ok(()) => admin_connection(&server).await,
            Err(why) => Err(why),
        };
        let mut admin = match reachable {
            Ok(admin) => admin,
            Err(why) if required => {
                panic!(
                    "HALLPASS_REQUIRE_PG is set but PostgreSQL at {server} is not reachable: {why}"
                )
            }
            Err(why) => {
                report_skip(&server, &why);
                return None;
            }
        };
        let name = format!(
            "hp_test_{}_{}",
            unix_secs(),
            hallpass_core::id::generate_id(12).to_lowercase()
        );
        sqlx::query(&format!("create database \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("creating scratch database {name}: {e}"));
        let _ = admin.close().await;
        let mut url = url::Url::parse(&server).unwrap();
        url.set_path(&format!("/{name}"));
        Some(ScratchDatabase {
            server,
            name,
            url: url.to_string(),
        })
    }

    /// A plain pool on the scratch database, for laying out tables by hand and reading raw rows.
    async fn pool(&self) -> PgPool {
        PgPool::connect(&self.url).await.unwrap()
    }

    async fn store(&self, schema: ProfileSchema) -> SqlStore {
        SqlStore::connect(&self.url, schema, 4).await.unwrap()
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        // Drop runs outside any async context we could await in; clean up on a thread of its own.
        let server = self.server.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = admin_connection(&server).await {
                    drop_database(&mut admin, &name).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// A store on a scratch database of its own.
async fn fresh_store() -> Option<StoreUnderTest> {
    let db = ScratchDatabase::create().await?;
    let store = db.store(ProfileSchema::default()).await;
    Some(StoreUnderTest::new(Arc::new(store), db))
}

store_tests!(fresh_store());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processes_migrating_at_once_take_turns() {
    let Some(db) = ScratchDatabase::create().await else {
        return;
    };
    let mut stores: Vec<Arc<dyn hallpass_core::Store>> = Vec::new();
    for _ in 0..4 {
        stores.push(Arc::new(db.store(ProfileSchema::default()).await));
    }
    hallpass_store_tests::migrations_started_together_take_turns(stores).await;
}

/// Session checks read together (`batch`): statements shared under load, and checks that give up.
mod session_reads {
    use super::*;
    use hallpass_core::store::{SessionStore, Store};
    use hallpass_store_tests::{inserted, inserted_session, t0};

    async fn migrated(db: &ScratchDatabase) -> (Arc<SqlStore>, Vec<String>) {
        let store = Arc::new(db.store(ProfileSchema::default()).await);
        store.migrate().await.unwrap();
        let mut tokens = Vec::new();
        for i in 0..32 {
            let u = inserted(store.as_ref(), &format!("r{i}@example.com"), t0()).await;
            tokens.push(inserted_session(store.as_ref(), &u, t0()).await.token);
        }
        (store, tokens)
    }

    /// Checks that wait at the same time share statements: 512 checks from 512 tasks on four
    /// threads take fewer statements than checks, and each check reads its own session.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn checks_waiting_at_once_share_a_statement() {
        let Some(db) = ScratchDatabase::create().await else {
            return;
        };
        let (store, tokens) = migrated(&db).await;
        let (checks_before, statements_before) = store.session_read_counts().unwrap();
        let mut checks = tokio::task::JoinSet::new();
        for n in 0..512 {
            let (store, token) = (store.clone(), tokens[n % tokens.len()].clone());
            checks.spawn(async move {
                let found = store.session_with_user(&token).await.unwrap().unwrap();
                assert_eq!(found.session.token, token);
            });
        }
        while let Some(done) = checks.join_next().await {
            done.unwrap();
        }
        let (checks_after, statements_after) = store.session_read_counts().unwrap();
        let (checks, statements) = (
            checks_after - checks_before,
            statements_after - statements_before,
        );
        assert_eq!(checks, 512);
        assert!(
            statements < checks / 2,
            "{checks} checks took {statements} statements: they were not read together"
        );
    }

    /// Checks abandoned while they wait (their clients gone) cost the others nothing: the checks
    /// left all get their sessions, and the store reads on afterwards, one check at a time too.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn abandoned_checks_leave_the_others_and_later_ones_answered() {
        let Some(db) = ScratchDatabase::create().await else {
            return;
        };
        let (store, tokens) = migrated(&db).await;
        for round in 0..20 {
            let mut kept = Vec::new();
            let mut dropped = Vec::new();
            for n in 0..64 {
                let (store, token) = (store.clone(), tokens[n % tokens.len()].clone());
                let check = tokio::spawn(async move {
                    let found = store.session_with_user(&token).await.unwrap().unwrap();
                    assert_eq!(found.session.token, token);
                });
                if n % 2 == 0 {
                    kept.push(check)
                } else {
                    dropped.push(check)
                }
            }
            for check in &dropped {
                check.abort();
            }
            for check in kept {
                tokio::time::timeout(Duration::from_secs(10), check)
                    .await
                    .unwrap_or_else(|_| panic!("round {round}: a check kept waiting"))
                    .unwrap();
            }
        }
        for token in &tokens {
            let found =
                tokio::time::timeout(Duration::from_secs(10), store.session_with_user(token))
                    .await
                    .expect("a check after the abandoned ones kept waiting")
                    .unwrap()
                    .unwrap();
            assert_eq!(&found.session.token, token);
        }
    }

    /// A check of the database's own failure is an error for every check waiting with it, and the
    /// next check after the database is back reads normally.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_failed_read_is_an_error_for_each_check_in_it() {
        let Some(db) = ScratchDatabase::create().await else {
            return;
        };
        let (store, tokens) = migrated(&db).await;
        let raw = db.pool().await;
        sqlx::query(r#"alter table "session" rename to "session_away""#)
            .execute(&raw)
            .await
            .unwrap();
        let mut checks = tokio::task::JoinSet::new();
        for n in 0..48 {
            let (store, token) = (store.clone(), tokens[n % tokens.len()].clone());
            checks.spawn(async move { store.session_with_user(&token).await });
        }
        while let Some(done) = checks.join_next().await {
            assert!(done.unwrap().is_err(), "a check read a table that is gone");
        }
        sqlx::query(r#"alter table "session_away" rename to "session""#)
            .execute(&raw)
            .await
            .unwrap();
        let found = store.session_with_user(&tokens[0]).await.unwrap().unwrap();
        assert_eq!(found.session.token, tokens[0]);
    }
}

mod shared_store {
    use super::*;
    use hallpass_core::cache::{token_digest, Invalidation};
    use hallpass_core::model::UserChanges;
    use hallpass_core::store::{SessionStore, Store, UserStore};
    use hallpass_store_sql::notify::SharedStore;
    use hallpass_store_tests::{inserted, inserted_session, t0, t0_plus_ms};
    use tokio::sync::broadcast::Receiver;

    /// The next invalidation, waiting at most two seconds.
    async fn next(feed: &mut Receiver<Invalidation>) -> Invalidation {
        tokio::time::timeout(Duration::from_secs(2), feed.recv())
            .await
            .expect("an invalidation within 2 s")
            .expect("an open feed")
    }

    /// The next invalidation that is not `All` (sent whenever a listener (re)connects).
    async fn next_change(feed: &mut Receiver<Invalidation>) -> Invalidation {
        loop {
            match next(feed).await {
                Invalidation::All => continue,
                what => return what,
            }
        }
    }

    #[tokio::test]
    async fn changes_made_by_one_process_reach_the_others() {
        let Some(db) = ScratchDatabase::create().await else {
            return;
        };
        let here = SharedStore::start(db.store(ProfileSchema::default()).await);
        let there = SharedStore::start(db.store(ProfileSchema::default()).await);
        let mut feed = there
            .invalidations()
            .expect("a PostgreSQL store has a feed");
        // Listening has started once the listener says everything may have changed.
        assert_eq!(next(&mut feed).await, Invalidation::All);
        here.migrate().await.unwrap();
        let ada = inserted(&here, "ada@example.com", t0()).await;
        let signed_out = inserted_session(&here, &ada, t0()).await;
        let first = inserted_session(&here, &ada, t0_plus_ms(1)).await;
        let second = inserted_session(&here, &ada, t0_plus_ms(2)).await;

        assert!(here.delete_session(&signed_out.token).await.unwrap());
        assert_eq!(
            next_change(&mut feed).await,
            Invalidation::SessionDigest(token_digest(&signed_out.token))
        );

        let changes = UserChanges {
            name: Some("Ada King".into()),
            updated_at: Some(t0_plus_ms(10)),
            ..UserChanges::default()
        };
        here.update_user(&ada.id, &changes).await.unwrap();
        assert_eq!(
            next_change(&mut feed).await,
            Invalidation::User(ada.id.clone())
        );

        let revoked = here.delete_user_sessions(&ada.id, None).await.unwrap();
        assert_eq!(revoked.len(), 2);
        let mut announced = vec![next_change(&mut feed).await, next_change(&mut feed).await];
        announced.sort_by_key(|what| format!("{what:?}"));
        let mut expected = vec![
            Invalidation::SessionDigest(token_digest(&first.token)),
            Invalidation::SessionDigest(token_digest(&second.token)),
        ];
        expected.sort_by_key(|what| format!("{what:?}"));
        assert_eq!(announced, expected);

        assert!(here.delete_user(&ada.id).await.unwrap());
        assert_eq!(
            next_change(&mut feed).await,
            Invalidation::User(ada.id.clone())
        );
    }
}

mod better_auth_layout {
    use super::*;
    use hallpass_core::model::UserChanges;
    use hallpass_core::profile::FieldDef;
    use hallpass_core::store::{Store, UserStore};
    use serde_json::{json, Value};

    async fn run(pool: &PgPool, statements: &[&str]) {
        for statement in statements {
            sqlx::query(statement).execute(pool).await.unwrap();
        }
    }

    type Columns = Vec<(String, String, i32, String, String, Option<String>)>;
    type Constraints = Vec<(String, String, String, String)>;
    type Indexes = Vec<(String, String)>;

    /// The schema as PostgreSQL describes it: every column with its type, nullability and
    /// default; every named constraint (not the NOT NULL checks, whose names hold OIDs) with its
    /// delete rule; every index with its definition.
    async fn schema_of(pool: &PgPool) -> (Columns, Constraints, Indexes) {
        let columns = sqlx::query_as(
            "select table_name::text, column_name::text, ordinal_position::int4, data_type::text, is_nullable::text, column_default::text
             from information_schema.columns where table_schema = current_schema()
             order by table_name, ordinal_position",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let constraints = sqlx::query_as(
            "select tc.constraint_name::text, tc.table_name::text, tc.constraint_type::text, coalesce(rc.delete_rule::text, '')
             from information_schema.table_constraints tc
             left join information_schema.referential_constraints rc
               on rc.constraint_schema = tc.constraint_schema and rc.constraint_name = tc.constraint_name
             where tc.table_schema = current_schema() and tc.constraint_type <> 'CHECK'
             order by 1",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        let indexes = sqlx::query_as(
            "select indexname::text, indexdef::text from pg_indexes where schemaname = current_schema() order by 1",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        (columns, constraints, indexes)
    }

    #[tokio::test]
    async fn hallpass_creates_the_schema_better_auth_creates() {
        let Some(by_better_auth) = ScratchDatabase::create().await else {
            return;
        };
        let Some(by_hallpass) = ScratchDatabase::create().await else {
            return;
        };
        let better_auth_pool = by_better_auth.pool().await;
        run(&better_auth_pool, &ddl(Dialect::Postgres)).await;
        let store = by_hallpass.store(ProfileSchema::default()).await;

        store.migrate().await.unwrap();

        let expected = schema_of(&better_auth_pool).await;
        let (columns, constraints, indexes) = &expected;
        assert_eq!(columns.len(), 9 + 8 + 13 + 6 + 7, "{columns:#?}");
        let names: Vec<&str> = constraints.iter().map(|c| c.0.as_str()).collect();
        for name in [
            "user_email_key",
            "session_token_key",
            "session_userId_fkey",
            "user_pkey",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        assert_eq!(indexes.len(), 5 + 2 + 3, "{indexes:#?}");
        assert_eq!(schema_of(pg(&store)).await, expected);
    }

    #[tokio::test]
    async fn a_database_made_by_better_auth_needs_no_migration_and_reads_back() {
        let Some(db) = ScratchDatabase::create().await else {
            return;
        };
        let pool = db.pool().await;
        run(&pool, &ddl(Dialect::Postgres)).await;
        run(&pool, &rows(Dialect::Postgres)).await;
        let store = db.store(ProfileSchema::default()).await;
        hallpass_store_tests::better_auth_example_rows_read_back(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn hallpass_writes_rows_the_way_better_auth_does() {
        let Some(db) = ScratchDatabase::create().await else {
            return;
        };
        let pool = db.pool().await;
        run(&pool, &ddl(Dialect::Postgres)).await;
        let store = db.store(ProfileSchema::default()).await;
        let user = hallpass_store_tests::ada_written(&store).await;

        let user_row: (bool, String, String, Option<String>, Option<String>) = sqlx::query_as(
            r#"select "emailVerified", to_char("createdAt" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), to_char("updatedAt" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), "software_background", "hardware_background" from "user""#,
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            user_row,
            (
                false,
                "2026-11-22T02:02:43.000000Z".into(),
                "2026-11-22T02:02:43.318000Z".into(),
                Some("advanced".into()),
                None
            )
        );
        // The credential account as Better Auth writes it, created and updated at once.
        let account: String = sqlx::query_scalar(
            r#"select concat_ws(' ', "accountId", "providerId", "userId", "password", "createdAt" = "updatedAt") from "account""#,
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(account, format!("{0} credential {0} 00:11 t", user.id));
        let session_row: (String, String) =
            sqlx::query_as(r#"select "ipAddress", "userAgent" from "session""#)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(session_row, (String::new(), String::new()));
    }

    #[tokio::test]
    async fn a_better_auth_database_without_the_profile_columns_gets_only_them_added() {
        let Some(db) = ScratchDatabase::create().await else {
            return;
        };
        let pool = db.pool().await;
        let user_table = ddl(Dialect::Postgres)[0].replace(
            r#", "software_background" text, "hardware_background" text"#,
            "",
        );
        let mut statements = vec![user_table.as_str()];
        statements.extend(&ddl(Dialect::Postgres)[1..]);
        statements.push(
            r#"insert into "user" values ('u1', 'A', 'a@example.com', false, null, now(), now())"#,
        );
        run(&pool, &statements).await;
        let store = db.store(ProfileSchema::default()).await;

        hallpass_store_tests::only_the_profile_columns_are_added(Arc::new(store)).await;
    }

    #[tokio::test]
    async fn missing_indexes_are_created_and_nothing_else() {
        let Some(db) = ScratchDatabase::create().await else {
            return;
        };
        let pool = db.pool().await;
        run(&pool, &ddl(Dialect::Postgres)[..5]).await;
        let store = db.store(ProfileSchema::default()).await;

        let plan = store.migration_plan().await.unwrap();

        assert_eq!(plan, ddl(Dialect::Postgres)[5..].to_vec());
    }

    #[tokio::test]
    async fn profile_values_stored_with_another_type_are_returned_as_they_are() {
        let Some(db) = ScratchDatabase::create().await else {
            return;
        };
        let pool = db.pool().await;
        let user_table = ddl(Dialect::Postgres)[0].replace(
            r#""software_background" text, "hardware_background" text"#,
            r#""age" text, "newsletter" integer, "nick" integer, "score" numeric"#,
        );
        let mut statements = vec![user_table.as_str()];
        statements.extend(&ddl(Dialect::Postgres)[1..]);
        statements.push(
            r#"insert into "user" values ('u1', 'A', 'a@example.com', false, null, now(), now(), 'notanumber', 1, 42, 1.5)"#,
        );
        run(&pool, &statements).await;
        let fields: Vec<FieldDef> = serde_json::from_value(json!([
            {"key": "age", "type": "number"},
            {"key": "newsletter", "type": "boolean"},
            {"key": "nick", "type": "string"},
            {"key": "score", "type": "number"}
        ]))
        .unwrap();
        let store = db.store(ProfileSchema::new(fields).unwrap()).await;

        let user = store.user_by_id("u1").await.unwrap().unwrap();

        assert_eq!(store.migration_plan().await.unwrap(), Vec::<String>::new());
        assert_eq!(
            Value::Object(user.profile),
            json!({"age": "notanumber", "newsletter": 1, "nick": 42, "score": 1.5})
        );
        // A valid new value still fits the old column: PostgreSQL assigns the number to text.
        let mut changes = UserChanges::default();
        changes.profile.insert("age".into(), json!(7));
        let updated = store.update_user("u1", &changes).await.unwrap().unwrap();
        assert_eq!(updated.profile["age"], json!("7"));
    }
}

/// The PostgreSQL pool under a store.
fn pg(store: &SqlStore) -> &PgPool {
    match store.pool() {
        Pool::Postgres(p) => p,
        Pool::Sqlite(_) => panic!("a PostgreSQL store"),
    }
}

/// Pooled connections are not pinged before each use (a round trip per statement), only after
/// sitting idle. When the server ends them (a restart, a failover, an operator), reads on the
/// pool must still answer: each dead connection is met once, read again on another, and dropped.
/// After a second of quiet, writes find live connections too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_the_server_ended_are_replaced_without_a_failed_read() {
    use hallpass_store_tests::{inserted, t0};
    let Some(db) = ScratchDatabase::create().await else {
        return;
    };
    let store: Arc<dyn hallpass_core::Store> = Arc::new(
        SqlStore::connect(&db.url, ProfileSchema::default(), 4)
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let mut admin = admin_connection(&db.server).await.unwrap();
    let end_all = format!(
        "select count(pg_terminate_backend(pid))::int8 from pg_stat_activity \
         where datname = '{}' and pid <> pg_backend_pid()",
        db.name
    );
    for round in 0..2 {
        // Open every pooled connection: four reads at once, each slow enough to hold its own.
        let reads: Vec<_> = (0..4)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.ping().await })
            })
            .collect();
        for r in reads {
            r.await.unwrap().unwrap();
        }
        let ended: i64 = sqlx::query_scalar(&end_all)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert!(ended >= 1, "round {round}: the pool had connections to end");
        if round == 0 {
            // At once: reads meet the dead connections and read again.
            for i in 0..8 {
                let found = store.user_by_email("ada@example.com").await;
                assert_eq!(
                    found.unwrap_or_else(|e| panic!("read {i} after the connections ended: {e}")),
                    Some(ada.clone())
                );
            }
        } else {
            // After a quiet second: a write goes first, on a connection checked before use.
            tokio::time::sleep(Duration::from_millis(1200)).await;
            let bob = inserted(store.as_ref(), "bob@example.com", t0()).await;
            assert_eq!(
                store.user_by_email("bob@example.com").await.unwrap(),
                Some(bob)
            );
        }
    }
}

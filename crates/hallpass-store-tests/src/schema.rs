//! Schema management and health.

use crate::fixtures::*;
use hallpass_core::Store;
use std::sync::Arc;

/// The statement prefixes an empty database needs, in order: Better Auth's five tables (`user`
/// before the tables that reference it), then its three indexes (reference, 6.1 and 6.2).
const FULL_PLAN: [&str; 8] = [
    "create table \"user\" (",
    "create table \"session\" (",
    "create table \"account\" (",
    "create table \"verification\" (",
    "create table \"jwks\" (",
    "create index \"session_userId_idx\" on \"session\" (\"userId\")",
    "create index \"account_userId_idx\" on \"account\" (\"userId\")",
    "create index \"verification_identifier_idx\" on \"verification\" (\"identifier\")",
];

/// On an empty database the plan creates every table and index, the profile fields as columns of
/// `user`; migrating applies exactly that plan, after which there is nothing left to do.
pub async fn migrating_an_empty_database_creates_every_table_and_index_once(store: Arc<dyn Store>) {
    let plan = store.migration_plan().await.unwrap();
    assert_eq!(plan.len(), FULL_PLAN.len(), "{plan:#?}");
    for (statement, prefix) in plan.iter().zip(FULL_PLAN) {
        assert!(
            statement.starts_with(prefix),
            "expected {prefix:?}, got {statement:?}"
        );
    }
    for column in [
        "\"software_background\" text",
        "\"hardware_background\" text",
    ] {
        assert!(
            plan[0].contains(column),
            "{column} missing in {:?}",
            plan[0]
        );
    }
    // The plan is only a plan: nothing exists yet.
    assert_eq!(store.migration_plan().await.unwrap(), plan);

    let applied = store.migrate().await.unwrap();

    assert_eq!(applied, plan);
    assert_eq!(store.migration_plan().await.unwrap(), Vec::<String>::new());
    // And the schema works.
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    assert_eq!(store.user_by_id(&ada.id).await.unwrap(), Some(ada));
}

/// Migrating a migrated database plans and applies nothing, and keeps the data.
pub async fn migrating_twice_does_nothing_the_second_time(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;

    let plan = store.migration_plan().await.unwrap();
    let applied = store.migrate().await.unwrap();

    assert_eq!(plan, Vec::<String>::new());
    assert_eq!(applied, Vec::<String>::new());
    assert_eq!(store.user_by_id(&ada.id).await.unwrap(), Some(ada));
}

/// The database answers, and the store names its backend.
pub async fn a_migrated_store_answers_ping(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert!(
        ["sqlite", "postgres"].contains(&store.backend()),
        "unexpected backend name {:?}",
        store.backend()
    );
}

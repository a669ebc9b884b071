//! Cases about databases Better Auth laid out, written once for both databases. The store crate
//! lays out the database with Better Auth's own DDL and example rows for its dialect (reference,
//! 6.1 and 6.2 "Example rows"; the rows hold the same values in both), then hands the store here.

use crate::fixtures::at;
use hallpass_core::model::{Session, User};
use hallpass_core::store::StoredKey;
use hallpass_core::Store;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The statements of a `.sql` file: split on `;` at line ends, `--` comment lines left out.
pub fn sql_statements(file: &str) -> Vec<&str> {
    file.split(";\n")
        .map(|chunk| {
            let start = chunk
                .lines()
                .take_while(|l| l.trim_start().starts_with("--") || l.trim().is_empty())
                .map(|l| l.len() + 1)
                .sum::<usize>();
            chunk.get(start..).unwrap_or("").trim()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// The user of Better Auth's example rows.
pub fn better_auth_example_user() -> User {
    let mut profile = Map::new();
    profile.insert("software_background".into(), json!("intermediate"));
    profile.insert("hardware_background".into(), Value::Null);
    User {
        id: "YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X".into(),
        name: "A".into(),
        email: "a@example.com".into(),
        email_verified: true,
        image: None,
        created_at: at("2026-11-22T02:02:43.318Z"),
        updated_at: at("2026-11-22T02:05:00.001Z"),
        profile,
    }
}

/// A store on a database Better Auth made and filled with its example rows: nothing to migrate,
/// every row reads back exactly, and deleting the user takes its sessions and account with it.
pub async fn better_auth_example_rows_read_back(store: Arc<dyn Store>) {
    assert_eq!(store.migration_plan().await.unwrap(), Vec::<String>::new());
    let user = better_auth_example_user();
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
        expires_at: at("2026-11-29T02:02:43.322Z"),
        created_at: at("2026-11-22T02:02:43.322Z"),
        updated_at: at("2026-11-22T02:02:43.322Z"),
        ip_address: String::new(),
        user_agent: String::new(),
    };
    let found = store
        .session_with_user(&session.token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.session, found.user), (session.clone(), user.clone()));
    let live_at = |iso| store.user_sessions(&user.id, at(iso));
    assert_eq!(
        live_at("2026-11-29T02:02:43.321Z").await.unwrap(),
        vec![session.clone()]
    );
    assert_eq!(
        live_at("2026-11-29T02:02:43.322Z").await.unwrap(),
        Vec::new()
    );
    assert_eq!(
        store.signing_keys().await.unwrap(),
        vec![StoredKey {
            id: "f8sI4XDXZIIc69xeEMPNKnXzeqVFVF8T".into(),
            public_key: r#"{"crv":"Ed25519","x":"IUDv","kty":"OKP"}"#.into(),
            private_key: r#""a5c463d8""#.into(),
            created_at: at("2026-11-22T02:02:43.500Z"),
            expires_at: None,
            alg: Some("EdDSA".into()),
            crv: Some("Ed25519".into()),
        }]
    );
    // Deleted the way Better Auth's foreign keys say: sessions and the account go too.
    assert!(store.delete_user(&user.id).await.unwrap());
    assert!(store
        .session_with_user(&session.token)
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.password_hash(&user.id).await.unwrap(), None);
}

/// Several processes migrating one empty database at the same moment take turns: exactly one
/// applies the five tables and three indexes, the others find nothing left to do.
pub async fn migrations_started_together_take_turns(stores: Vec<Arc<dyn Store>>) {
    let runs = stores.iter().map(|s| {
        let s = Arc::clone(s);
        async move { s.migrate().await.map(|plan| plan.len()) }
    });
    let tasks: Vec<_> = runs.map(tokio_spawn).collect();
    let mut applied = Vec::new();
    for t in tasks {
        applied.push(
            t.await
                .expect("the task ends")
                .expect("every migration succeeds"),
        );
    }
    applied.sort_unstable();
    let mut expected = vec![0; stores.len() - 1];
    expected.push(8);
    assert_eq!(applied, expected, "statements applied per process");
    assert_eq!(
        stores[0].migration_plan().await.unwrap(),
        Vec::<String>::new()
    );
}

fn tokio_spawn<F>(f: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(f)
}

/// Writes Ada (a user with a credential account and a session, at fixed instants) through the
/// store, for the checks that read the raw rows back in each database's layout.
pub async fn ada_written(store: &dyn Store) -> User {
    use hallpass_core::model::CredentialAccount;
    let mut profile = Map::new();
    profile.insert("software_background".into(), json!("advanced"));
    profile.insert("hardware_background".into(), Value::Null);
    let user = User {
        id: "u".repeat(32),
        name: "Ada".into(),
        email: "ada@example.com".into(),
        email_verified: false,
        image: None,
        created_at: at("2026-11-22T02:02:43.000Z"),
        updated_at: at("2026-11-22T02:02:43.318Z"),
        profile,
    };
    let account = CredentialAccount {
        id: "a".repeat(32),
        user_id: user.id.clone(),
        password_hash: "00:11".into(),
        created_at: user.created_at,
    };
    store.insert_user(&user, &account).await.unwrap();
    let session = Session {
        id: "s".repeat(32),
        token: "T".repeat(32),
        user_id: user.id.clone(),
        expires_at: at("2026-11-29T02:02:43.318Z"),
        created_at: user.created_at,
        updated_at: user.created_at,
        ip_address: String::new(),
        user_agent: String::new(),
    };
    store.insert_session(&session).await.unwrap();
    user
}

/// A store on a Better Auth database whose `user` table lacks the profile columns and holds a
/// user `u1`: migrating adds exactly those two columns, and `u1` reads back with an empty profile.
pub async fn only_the_profile_columns_are_added(store: Arc<dyn Store>) {
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

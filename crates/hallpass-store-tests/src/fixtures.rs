//! Records to store: users, accounts, sessions and keys with fixed, millisecond-precise times, so
//! every assertion compares concrete values.

use hallpass_core::clock::{parse_iso, Timestamp};
use hallpass_core::id::new_id;
use hallpass_core::model::{CredentialAccount, Session, User};
use hallpass_core::store::StoredKey;
use hallpass_core::Store;
use serde_json::{Map, Value};

/// A fixed instant from an ISO string.
pub fn at(iso: &str) -> Timestamp {
    parse_iso(iso).unwrap_or_else(|| panic!("bad test date {iso:?}"))
}

/// The instant the fixtures are built around.
pub fn t0() -> Timestamp {
    at("2026-11-22T02:02:43.318Z")
}

/// `t0` plus some milliseconds.
pub fn t0_plus_ms(ms: i64) -> Timestamp {
    t0() + chrono::Duration::milliseconds(ms)
}

/// Profile values of the default schema; `None` is stored as null.
pub fn profile(software: Option<&str>, hardware: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("software_background".into(), software.into());
    m.insert("hardware_background".into(), hardware.into());
    m
}

/// A user created at `created_at`, with a fresh id, no image and an empty profile.
pub fn user(email: &str, created_at: Timestamp) -> User {
    User {
        id: new_id(),
        name: format!("Name of {email}"),
        email: email.into(),
        email_verified: false,
        image: None,
        created_at,
        updated_at: created_at,
        profile: profile(None, None),
    }
}

/// A password hash unique to the user, in Better Auth's scrypt layout.
pub fn hash_for(user: &User) -> String {
    format!("{}:{}", "a".repeat(32), user.id.to_lowercase())
}

/// The user's credential account.
pub fn account(user: &User) -> CredentialAccount {
    CredentialAccount {
        id: new_id(),
        user_id: user.id.clone(),
        password_hash: hash_for(user),
        created_at: user.created_at,
    }
}

/// Inserts the user with its credential account ([`hash_for`]).
pub async fn insert(store: &dyn Store, user: &User) {
    store
        .insert_user(user, &account(user))
        .await
        .unwrap_or_else(|e| panic!("inserting {}: {e}", user.email));
}

/// Inserts a user made by [`user`] and returns it.
pub async fn inserted(store: &dyn Store, email: &str, created_at: Timestamp) -> User {
    let u = user(email, created_at);
    insert(store, &u).await;
    u
}

/// A session of the user, created at `created_at`, expiring a week later.
pub fn session(user: &User, created_at: Timestamp) -> Session {
    Session {
        id: new_id(),
        token: new_id(),
        user_id: user.id.clone(),
        expires_at: created_at + chrono::Duration::days(7),
        created_at,
        updated_at: created_at,
        ip_address: "203.0.113.7".into(),
        user_agent: "Mozilla/5.0 (test)".into(),
    }
}

/// Inserts a session made by [`session`] and returns it.
pub async fn inserted_session(store: &dyn Store, user: &User, created_at: Timestamp) -> Session {
    let s = session(user, created_at);
    store
        .insert_session(&s)
        .await
        .unwrap_or_else(|e| panic!("inserting a session: {e}"));
    s
}

/// A signing key as the key ring writes it.
pub fn key(created_at: Timestamp, expires_at: Option<Timestamp>) -> StoredKey {
    StoredKey {
        id: new_id(),
        public_key:
            r#"{"crv":"Ed25519","x":"IUDvzs3Yq4Z0f6m0s9m5b1ZrQG2W7l8d0YxJvZ8mQ0o","kty":"OKP"}"#
                .into(),
        private_key: format!("\"{}\"", "0123456789abcdef".repeat(8)),
        created_at,
        expires_at,
        alg: Some("EdDSA".into()),
        crv: Some("Ed25519".into()),
    }
}

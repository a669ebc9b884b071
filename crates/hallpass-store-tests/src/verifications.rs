//! One-time values (the `verification` table), accounts, and changes of address.

use crate::fixtures::*;
use hallpass_core::model::{UserChanges, Verification};
use hallpass_core::store::StoreError;
use hallpass_core::Store;
use std::sync::Arc;

fn reset_row(token: &str, user_id: &str) -> Verification {
    Verification {
        id: hallpass_core::id::new_id(),
        identifier: format!("reset-password:{token}"),
        value: user_id.into(),
        expires_at: t0_plus_ms(3_600_000),
        created_at: t0(),
    }
}

/// A value reads back as stored, and can be taken exactly once.
pub async fn a_verification_reads_back_and_is_taken_once(store: Arc<dyn Store>) {
    let row = reset_row("tok1", "user-1");
    store.insert_verification(&row).await.unwrap();

    assert_eq!(
        store.verification(&row.identifier).await.unwrap(),
        Some(row.clone())
    );
    assert_eq!(
        store.take_verification(&row.identifier).await.unwrap(),
        Some(row.clone())
    );
    assert_eq!(
        store.take_verification(&row.identifier).await.unwrap(),
        None
    );
    assert_eq!(store.verification(&row.identifier).await.unwrap(), None);
}

/// Concurrent takes of one value: exactly one gets it.
pub async fn concurrent_takes_of_one_verification_succeed_once(store: Arc<dyn Store>) {
    let row = reset_row("tok2", "user-2");
    store.insert_verification(&row).await.unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let store = store.clone();
            let id = row.identifier.clone();
            tokio::spawn(async move { store.take_verification(&id).await })
        })
        .collect();
    let mut got = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().is_some() {
            got += 1;
        }
    }
    assert_eq!(got, 1);
}

/// Expired values are pruned, live ones kept.
pub async fn expired_verifications_are_pruned(store: Arc<dyn Store>) {
    let live = reset_row("live", "u");
    let mut old = reset_row("old", "u");
    old.expires_at = t0();
    store.insert_verification(&live).await.unwrap();
    store.insert_verification(&old).await.unwrap();

    assert_eq!(store.prune_verifications(t0_plus_ms(1)).await.unwrap(), 1);

    assert!(store
        .verification(&live.identifier)
        .await
        .unwrap()
        .is_some());
    assert!(store.verification(&old.identifier).await.unwrap().is_none());
}

/// A user's credential account is listed, without secrets, and only theirs.
pub async fn a_users_accounts_are_listed(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    inserted(store.as_ref(), "bob@example.com", t0()).await;

    let accounts = store.accounts(&ada.id).await.unwrap();

    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].provider_id, "credential");
    assert_eq!(accounts[0].account_id, ada.id);
    assert_eq!(accounts[0].user_id, ada.id);
    assert_eq!(accounts[0].created_at, t0());
}

/// The address changes (and the user is found by the new one); a taken address is a conflict
/// and changes nothing.
pub async fn the_email_changes_unless_taken(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    inserted(store.as_ref(), "bob@example.com", t0()).await;
    let to = |email: &str| UserChanges {
        email: Some(email.into()),
        email_verified: Some(true),
        ..UserChanges::default()
    };

    let taken = store.update_user(&ada.id, &to("bob@example.com")).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict(ref c)) if c == "email"),
        "{taken:?}"
    );
    assert_eq!(
        store.user_by_id(&ada.id).await.unwrap().unwrap().email,
        "ada@example.com"
    );

    let changed = store
        .update_user(&ada.id, &to("ada@new.example"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.email.as_str(), changed.email_verified),
        ("ada@new.example", true)
    );
    assert_eq!(
        store
            .user_by_email("ada@new.example")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(ada.id)
    );
    assert_eq!(store.user_by_email("ada@example.com").await.unwrap(), None);
}

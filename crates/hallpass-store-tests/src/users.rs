//! Users and their credential accounts.

use crate::fixtures::*;
use chrono::{DateTime, Utc};
use hallpass_core::model::{User, UserChanges};
use hallpass_core::{Store, StoreError};
use serde_json::{json, Value};
use std::sync::Arc;

/// Every column of `user` survives the round trip, by email and by id.
pub async fn a_new_user_reads_back_by_email_and_by_id_with_every_field(store: Arc<dyn Store>) {
    let ada = User {
        id: "YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X".into(),
        name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        email_verified: true,
        image: Some("https://example.com/ada.png".into()),
        created_at: at("2026-11-22T02:02:43.007Z"),
        updated_at: at("2026-11-23T10:00:00.999Z"),
        profile: profile(Some("advanced"), None),
    };
    insert(store.as_ref(), &ada).await;
    // A second user, so a lookup that ignores its argument would be caught.
    let other = inserted(store.as_ref(), "other@example.com", t0()).await;

    let by_email = store.user_by_email("ada@example.com").await.unwrap();
    let by_id = store.user_by_id(&ada.id).await.unwrap();

    assert_eq!(by_email.as_ref(), Some(&ada));
    assert_eq!(by_id.as_ref(), Some(&ada));
    assert_eq!(
        by_id.map(|u| u.to_json()),
        Some(json!({
            "name": "Ada Lovelace", "email": "ada@example.com", "emailVerified": true,
            "image": "https://example.com/ada.png",
            "createdAt": "2026-11-22T02:02:43.007Z", "updatedAt": "2026-11-23T10:00:00.999Z",
            "software_background": "advanced", "hardware_background": null,
            "id": "YYrAE72FjqF8mxy3j8H9CUFdIXwHBO1X"
        }))
    );
    assert_eq!(
        store.user_by_id(&other.id).await.unwrap().as_ref(),
        Some(&other)
    );
}

/// Instants below the millisecond are dropped (Better Auth's dates carry milliseconds), on every
/// backend alike; whole seconds keep their zero milliseconds.
pub async fn dates_are_kept_to_the_millisecond(store: Arc<dyn Store>) {
    let precise: DateTime<Utc> = "2026-11-22T02:02:43.318999Z".parse().unwrap();
    let mut u = user("precise@example.com", precise);
    u.updated_at = at("2026-11-22T02:02:44.000Z");
    insert(store.as_ref(), &u).await;

    let read = store.user_by_id(&u.id).await.unwrap().unwrap();

    assert_eq!(read.created_at, at("2026-11-22T02:02:43.318Z"));
    assert_eq!(read.updated_at, at("2026-11-22T02:02:44.000Z"));
    assert_eq!(
        read.to_json()["createdAt"],
        json!("2026-11-22T02:02:43.318Z")
    );
    assert_eq!(
        read.to_json()["updatedAt"],
        json!("2026-11-22T02:02:44.000Z")
    );
}

/// Unknown ids and emails find nothing (and are not errors).
pub async fn looking_up_an_unknown_user_finds_nothing(store: Arc<dyn Store>) {
    let known = inserted(store.as_ref(), "known@example.com", t0()).await;

    assert_eq!(
        store.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(store.user_by_id("no-such-id").await.unwrap(), None);
    assert_eq!(store.password_hash("no-such-id").await.unwrap(), None);
    // Emails are stored lower-cased by the domain; the store matches them exactly.
    assert_eq!(
        store.user_by_email("KNOWN@example.com").await.unwrap(),
        None
    );
    assert_eq!(
        store
            .user_by_email(&known.email)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(known.id)
    );
}

/// A taken email is `Conflict("email")`, and neither the user nor the account of the failed
/// insert is left behind.
pub async fn inserting_a_duplicate_email_is_a_conflict_and_writes_nothing(store: Arc<dyn Store>) {
    let first = inserted(store.as_ref(), "taken@example.com", t0()).await;
    let second = user("taken@example.com", t0_plus_ms(5));

    let result = store.insert_user(&second, &account(&second)).await;

    assert!(
        matches!(&result, Err(StoreError::Conflict(field)) if field == "email"),
        "expected Conflict(\"email\"), got {result:?}"
    );
    assert_eq!(store.user_by_id(&second.id).await.unwrap(), None);
    assert_eq!(store.password_hash(&second.id).await.unwrap(), None);
    assert_eq!(
        store.user_by_email("taken@example.com").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.password_hash(&first.id).await.unwrap(),
        Some(hash_for(&first))
    );
    assert_eq!(store.list_users(10, 0).await.unwrap(), vec![first]);
}

/// A taken user id is `Conflict("id")`.
pub async fn inserting_a_duplicate_user_id_is_a_conflict(store: Arc<dyn Store>) {
    let first = inserted(store.as_ref(), "first@example.com", t0()).await;
    let mut again = user("again@example.com", t0());
    again.id = first.id.clone();

    let result = store.insert_user(&again, &account(&again)).await;

    assert!(
        matches!(&result, Err(StoreError::Conflict(field)) if field == "id"),
        "expected Conflict(\"id\"), got {result:?}"
    );
    assert_eq!(
        store.user_by_email("again@example.com").await.unwrap(),
        None
    );
    assert_eq!(store.list_users(10, 0).await.unwrap(), vec![first]);
}

/// The credential account's hash is read, replaced for its user only, and an unknown user has
/// none to replace.
pub async fn the_password_hash_is_read_and_replaced(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let bob = inserted(store.as_ref(), "bob@example.com", t0()).await;
    assert_eq!(
        store.password_hash(&ada.id).await.unwrap(),
        Some(hash_for(&ada))
    );

    let replaced = store
        .set_password_hash(&ada.id, "bb:cc", t0_plus_ms(1000))
        .await
        .unwrap();
    let unknown = store
        .set_password_hash("no-such-id", "dd:ee", t0_plus_ms(1000))
        .await
        .unwrap();

    assert!(replaced);
    assert!(!unknown);
    assert_eq!(
        store.password_hash(&ada.id).await.unwrap().as_deref(),
        Some("bb:cc")
    );
    assert_eq!(
        store.password_hash(&bob.id).await.unwrap(),
        Some(hash_for(&bob))
    );
    assert_eq!(store.password_hash("no-such-id").await.unwrap(), None);
}

/// An update sets what it names, leaves the rest, bumps `updatedAt` and returns the stored user.
pub async fn updating_a_user_changes_only_what_is_given_and_bumps_updated_at(
    store: Arc<dyn Store>,
) {
    let mut ada = user("ada@example.com", t0());
    ada.image = Some("https://example.com/old.png".into());
    ada.profile = profile(Some("beginner"), None);
    insert(store.as_ref(), &ada).await;
    let bob = inserted(store.as_ref(), "bob@example.com", t0()).await;
    let later = t0_plus_ms(60_000);

    let changes = UserChanges {
        name: Some("Ada King".into()),
        profile: profile(Some("beginner"), Some("intermediate"))
            .into_iter()
            .filter(|(k, _)| k == "hardware_background")
            .collect(),
        email_verified: Some(true),
        updated_at: Some(later),
        ..UserChanges::default()
    };
    let updated = store.update_user(&ada.id, &changes).await.unwrap();

    let expected = User {
        name: "Ada King".into(),
        email_verified: true,
        updated_at: later,
        profile: profile(Some("beginner"), Some("intermediate")),
        ..ada.clone()
    };
    assert_eq!(updated.as_ref(), Some(&expected));
    assert_eq!(store.user_by_id(&ada.id).await.unwrap(), Some(expected));
    assert_eq!(store.user_by_id(&bob.id).await.unwrap(), Some(bob));
}

/// `image: Some(None)` clears the image.
pub async fn updating_the_image_to_none_clears_it(store: Arc<dyn Store>) {
    let mut ada = user("ada@example.com", t0());
    ada.image = Some("https://example.com/ada.png".into());
    insert(store.as_ref(), &ada).await;

    let changes = UserChanges {
        image: Some(None),
        updated_at: Some(t0_plus_ms(1)),
        ..UserChanges::default()
    };
    let updated = store.update_user(&ada.id, &changes).await.unwrap().unwrap();

    assert_eq!(updated.image, None);
    assert_eq!(updated.name, ada.name);
    assert_eq!(
        store.user_by_id(&ada.id).await.unwrap().unwrap().image,
        None
    );
}

/// A profile value is set, then cleared with null, and the other field keeps its value.
pub async fn a_profile_value_can_be_set_and_cleared(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let set = UserChanges {
        profile: profile(Some("advanced"), Some("none")),
        updated_at: Some(t0_plus_ms(1)),
        ..UserChanges::default()
    };
    let after_set = store.update_user(&ada.id, &set).await.unwrap().unwrap();
    assert_eq!(after_set.profile, profile(Some("advanced"), Some("none")));

    let mut clear = UserChanges {
        updated_at: Some(t0_plus_ms(2)),
        ..UserChanges::default()
    };
    clear
        .profile
        .insert("software_background".into(), Value::Null);
    let after_clear = store.update_user(&ada.id, &clear).await.unwrap().unwrap();

    assert_eq!(after_clear.profile, profile(None, Some("none")));
    assert_eq!(after_clear.updated_at, t0_plus_ms(2));
    assert_eq!(
        store.user_by_id(&ada.id).await.unwrap().unwrap().profile,
        profile(None, Some("none"))
    );
}

/// Keys that are not profile fields of the schema are ignored, not written and not an error.
pub async fn unknown_profile_keys_are_ignored_on_update(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let mut changes = UserChanges {
        updated_at: Some(t0_plus_ms(1)),
        ..UserChanges::default()
    };
    changes
        .profile
        .insert("favourite_colour".into(), json!("green"));
    changes
        .profile
        .insert("\"; drop table \"user\"; --".into(), json!("x"));
    changes
        .profile
        .insert("software_background".into(), json!("intermediate"));

    let updated = store.update_user(&ada.id, &changes).await.unwrap().unwrap();

    assert_eq!(updated.profile, profile(Some("intermediate"), None));
    assert_eq!(
        store.user_by_id(&ada.id).await.unwrap().unwrap().profile,
        profile(Some("intermediate"), None)
    );
}

/// Nothing to change: the user comes back as stored.
pub async fn an_empty_update_returns_the_user_unchanged(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;

    let updated = store
        .update_user(&ada.id, &UserChanges::default())
        .await
        .unwrap();

    assert_eq!(updated, Some(ada));
}

/// Updating a user that does not exist returns None and creates nothing.
pub async fn updating_an_unknown_user_returns_none(store: Arc<dyn Store>) {
    let changes = UserChanges {
        name: Some("Ghost".into()),
        updated_at: Some(t0()),
        ..UserChanges::default()
    };

    let updated = store.update_user("no-such-id", &changes).await.unwrap();

    assert_eq!(updated, None);
    assert_eq!(store.list_users(10, 0).await.unwrap(), vec![]);
}

/// Deleting a user takes their sessions and credential account with it (ON DELETE CASCADE), and
/// only theirs.
pub async fn deleting_a_user_removes_their_sessions_and_account(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let bob = inserted(store.as_ref(), "bob@example.com", t0()).await;
    let ada_session = inserted_session(store.as_ref(), &ada, t0()).await;
    let bob_session = inserted_session(store.as_ref(), &bob, t0()).await;

    let deleted = store.delete_user(&ada.id).await.unwrap();
    let deleted_again = store.delete_user(&ada.id).await.unwrap();

    assert!(deleted);
    assert!(!deleted_again);
    assert_eq!(store.user_by_id(&ada.id).await.unwrap(), None);
    assert_eq!(store.password_hash(&ada.id).await.unwrap(), None);
    assert_eq!(
        store.session_with_user(&ada_session.token).await.unwrap(),
        None
    );
    assert_eq!(
        store.user_sessions(&ada.id, t0()).await.unwrap(),
        Vec::new()
    );
    // A new user may take the freed email: nothing of the old one is left to collide with.
    let again = user("ada@example.com", t0_plus_ms(1));
    insert(store.as_ref(), &again).await;
    assert_eq!(
        store.password_hash(&again.id).await.unwrap(),
        Some(hash_for(&again))
    );
    // Bob is untouched.
    assert_eq!(
        store.password_hash(&bob.id).await.unwrap(),
        Some(hash_for(&bob))
    );
    assert_eq!(
        store
            .session_with_user(&bob_session.token)
            .await
            .unwrap()
            .map(|found| found.session),
        Some(bob_session)
    );
}

/// Users come oldest first, whatever the insertion order, and `limit`/`offset` page through them.
pub async fn users_are_listed_oldest_first_and_paged(store: Arc<dyn Store>) {
    let second = inserted(store.as_ref(), "second@example.com", t0_plus_ms(1_000)).await;
    let fourth = inserted(store.as_ref(), "fourth@example.com", t0_plus_ms(86_400_000)).await;
    let first = inserted(store.as_ref(), "first@example.com", t0()).await;
    let third = inserted(store.as_ref(), "third@example.com", t0_plus_ms(1_001)).await;
    let emails = |users: Vec<User>| users.into_iter().map(|u| u.email).collect::<Vec<_>>();

    let all = store.list_users(100, 0).await.unwrap();
    let page1 = store.list_users(2, 0).await.unwrap();
    let page2 = store.list_users(2, 2).await.unwrap();
    let page3 = store.list_users(2, 4).await.unwrap();
    let last = store.list_users(1, 3).await.unwrap();

    assert_eq!(
        all,
        vec![first.clone(), second.clone(), third.clone(), fourth.clone()]
    );
    assert_eq!(emails(page1), [first.email, second.email]);
    assert_eq!(emails(page2), [third.email, fourth.email.clone()]);
    assert_eq!(emails(page3), Vec::<String>::new());
    assert_eq!(emails(last), [fourth.email]);
}

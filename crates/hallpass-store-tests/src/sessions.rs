//! Sessions.

use crate::fixtures::*;
use hallpass_core::model::Session;
use hallpass_core::{Store, StoreError};
use std::sync::Arc;

fn sorted(mut tokens: Vec<String>) -> Vec<String> {
    tokens.sort();
    tokens
}

/// A token finds its own session, every field intact, joined with its own user; an unknown token
/// finds nothing. Unknown IP and agent are stored as empty strings, as Better Auth does.
pub async fn a_session_is_found_by_token_with_its_own_user(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let mut bob = user("bob@example.com", t0());
    bob.profile = profile(Some("none"), Some("advanced"));
    insert(store.as_ref(), &bob).await;
    let ada_session = inserted_session(store.as_ref(), &ada, t0_plus_ms(10)).await;
    let mut bob_session = session(&bob, t0_plus_ms(20));
    bob_session.ip_address = String::new();
    bob_session.user_agent = String::new();
    store.insert_session(&bob_session).await.unwrap();

    let found_ada = store
        .session_with_user(&ada_session.token)
        .await
        .unwrap()
        .unwrap();
    let found_bob = store
        .session_with_user(&bob_session.token)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(found_ada.session, ada_session);
    assert_eq!(found_ada.user, ada);
    assert_eq!(found_bob.session, bob_session);
    assert_eq!(found_bob.user, bob);
    assert_eq!(found_bob.session.ip_address, "");
    assert_eq!(
        store.session_with_user("no-such-token").await.unwrap(),
        None
    );
    // The session id is not a token.
    assert_eq!(
        store.session_with_user(&ada_session.id).await.unwrap(),
        None
    );
}

/// Tokens are unique: a second session with the same token is `Conflict("token")`.
pub async fn inserting_a_duplicate_session_token_is_a_conflict(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let first = inserted_session(store.as_ref(), &ada, t0()).await;
    let mut second = session(&ada, t0_plus_ms(1));
    second.token = first.token.clone();

    let result = store.insert_session(&second).await;

    assert!(
        matches!(&result, Err(StoreError::Conflict(field)) if field == "token"),
        "expected Conflict(\"token\"), got {result:?}"
    );
    assert_eq!(
        store.user_sessions(&ada.id, t0()).await.unwrap(),
        vec![first]
    );
}

/// Extending sets `expiresAt` and `updatedAt`, returns the session as stored, and changes nothing
/// else (nor any other session).
pub async fn extending_a_session_moves_its_expiry_and_update_time_only(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let current = inserted_session(store.as_ref(), &ada, t0()).await;
    let other = inserted_session(store.as_ref(), &ada, t0_plus_ms(1)).await;
    let new_expiry = at("2026-12-06T08:00:00.123Z");
    let touched = at("2026-11-29T08:00:00.123Z");

    let extended = store
        .extend_session(&current.token, new_expiry, touched)
        .await
        .unwrap();

    let expected = Session {
        expires_at: new_expiry,
        updated_at: touched,
        ..current.clone()
    };
    assert_eq!(extended.as_ref(), Some(&expected));
    assert_eq!(
        store
            .session_with_user(&current.token)
            .await
            .unwrap()
            .map(|found| found.session),
        Some(expected)
    );
    assert_eq!(
        store
            .session_with_user(&other.token)
            .await
            .unwrap()
            .map(|found| found.session),
        Some(other)
    );
}

/// Extending a token that is gone returns None.
pub async fn extending_an_unknown_session_returns_none(store: Arc<dyn Store>) {
    let extended = store
        .extend_session("no-such-token", t0_plus_ms(1), t0())
        .await
        .unwrap();

    assert_eq!(extended, None);
}

/// A session is deleted by its token; the second time there is nothing to delete.
pub async fn deleting_a_session_removes_it_once(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let doomed = inserted_session(store.as_ref(), &ada, t0()).await;
    let kept = inserted_session(store.as_ref(), &ada, t0_plus_ms(1)).await;

    let first = store.delete_session(&doomed.token).await.unwrap();
    let second = store.delete_session(&doomed.token).await.unwrap();

    assert!(first);
    assert!(!second);
    assert_eq!(store.session_with_user(&doomed.token).await.unwrap(), None);
    assert_eq!(
        store.user_sessions(&ada.id, t0()).await.unwrap(),
        vec![kept]
    );
}

/// `delete_user_session` refuses a token that belongs to someone else, and leaves it alone.
pub async fn a_user_cannot_delete_another_users_session(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let mallory = inserted(store.as_ref(), "mallory@example.com", t0()).await;
    let ada_session = inserted_session(store.as_ref(), &ada, t0()).await;

    let by_mallory = store
        .delete_user_session(&mallory.id, &ada_session.token)
        .await
        .unwrap();
    assert!(!by_mallory);
    assert_eq!(
        store
            .session_with_user(&ada_session.token)
            .await
            .unwrap()
            .map(|found| found.session),
        Some(ada_session.clone())
    );

    let by_ada = store
        .delete_user_session(&ada.id, &ada_session.token)
        .await
        .unwrap();
    assert!(by_ada);
    assert_eq!(
        store.session_with_user(&ada_session.token).await.unwrap(),
        None
    );
}

/// Without `keep`, every session of the user goes, its tokens are returned, and other users'
/// sessions stay.
pub async fn deleting_all_of_a_users_sessions_returns_their_tokens(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let bob = inserted(store.as_ref(), "bob@example.com", t0()).await;
    let mut ada_tokens = Vec::new();
    for n in 0..3 {
        ada_tokens.push(
            inserted_session(store.as_ref(), &ada, t0_plus_ms(n))
                .await
                .token,
        );
    }
    let bob_session = inserted_session(store.as_ref(), &bob, t0()).await;

    let deleted = store.delete_user_sessions(&ada.id, None).await.unwrap();

    assert_eq!(sorted(deleted), sorted(ada_tokens.clone()));
    for token in &ada_tokens {
        assert_eq!(store.session_with_user(token).await.unwrap(), None);
    }
    assert_eq!(
        store.user_sessions(&bob.id, t0()).await.unwrap(),
        vec![bob_session]
    );
    assert_eq!(
        store.delete_user_sessions(&ada.id, None).await.unwrap(),
        Vec::<String>::new()
    );
}

/// With `keep`, the user's other sessions go and the kept one stays.
pub async fn deleting_a_users_other_sessions_keeps_the_current_one(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let bob = inserted(store.as_ref(), "bob@example.com", t0()).await;
    let older = inserted_session(store.as_ref(), &ada, t0()).await;
    let current = inserted_session(store.as_ref(), &ada, t0_plus_ms(1)).await;
    let newer = inserted_session(store.as_ref(), &ada, t0_plus_ms(2)).await;
    let bob_session = inserted_session(store.as_ref(), &bob, t0()).await;

    let deleted = store
        .delete_user_sessions(&ada.id, Some(&current.token))
        .await
        .unwrap();

    assert_eq!(sorted(deleted), sorted(vec![older.token, newer.token]));
    assert_eq!(
        store.user_sessions(&ada.id, t0()).await.unwrap(),
        vec![current]
    );
    assert_eq!(
        store.user_sessions(&bob.id, t0()).await.unwrap(),
        vec![bob_session]
    );
}

/// A user's sessions are the live ones at `now`, oldest first; expired sessions and other users'
/// sessions are left out.
pub async fn a_users_sessions_exclude_expired_ones_and_other_users(store: Arc<dyn Store>) {
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let bob = inserted(store.as_ref(), "bob@example.com", t0()).await;
    let now = t0_plus_ms(3_600_000);
    // Inserted newest first, so insertion order cannot pass for creation order.
    let newest = inserted_session(store.as_ref(), &ada, t0_plus_ms(2_000)).await;
    let oldest = inserted_session(store.as_ref(), &ada, t0()).await;
    let mut expired = session(&ada, t0_plus_ms(1_000));
    expired.expires_at = now - chrono::Duration::milliseconds(1);
    store.insert_session(&expired).await.unwrap();
    let mut expiring_now = session(&ada, t0_plus_ms(1_500));
    expiring_now.expires_at = now;
    store.insert_session(&expiring_now).await.unwrap();
    let mut just_alive = session(&ada, t0_plus_ms(1_600));
    just_alive.expires_at = now + chrono::Duration::milliseconds(1);
    store.insert_session(&just_alive).await.unwrap();
    inserted_session(store.as_ref(), &bob, t0_plus_ms(500)).await;

    let live = store.user_sessions(&ada.id, now).await.unwrap();

    assert_eq!(live, vec![oldest, just_alive, newest]);
    assert_eq!(
        store.user_sessions("no-such-user", now).await.unwrap(),
        Vec::new()
    );
}

/// Many checks at once (the same tokens several times over, unknown tokens and tokens no database
/// can hold among them) each get the session their own token names, joined with that session's
/// own user. PostgreSQL reads checks that wait at the same time in one statement; this is the case
/// that would hand a check another check's row, or fail it with a token read beside it.
pub async fn concurrent_checks_each_get_their_own_session(store: Arc<dyn Store>) {
    let mut sessions = Vec::new();
    for i in 0..24i64 {
        let u = inserted(store.as_ref(), &format!("reader{i}@example.com"), t0()).await;
        sessions.push((inserted_session(store.as_ref(), &u, t0_plus_ms(i)).await, u));
    }
    let sessions = Arc::new(sessions);
    let mut checks = tokio::task::JoinSet::new();
    for n in 0..480usize {
        let (store, sessions) = (store.clone(), sessions.clone());
        checks.spawn(async move {
            if n % 7 == 0 {
                let unknown = format!("unknown-token-{n}");
                assert_eq!(store.session_with_user(&unknown).await.unwrap(), None);
                return;
            }
            if n % 11 == 0 {
                // A token no text column can hold (PostgreSQL refuses NUL) finds nothing, and
                // fails no check read beside it.
                let odd = format!("odd\0token-{n}");
                assert_eq!(store.session_with_user(&odd).await.unwrap(), None);
                return;
            }
            let (session, user) = &sessions[n % sessions.len()];
            let found = store.session_with_user(&session.token).await.unwrap();
            let found = found.unwrap_or_else(|| panic!("check {n} found no session"));
            assert_eq!(&found.session, session, "check {n}");
            assert_eq!(&found.user, user, "check {n}");
        });
    }
    while let Some(done) = checks.join_next().await {
        done.unwrap();
    }
}

/// A session deleted while checks of it keep running is never found by a check that started after
/// the delete returned (whatever checks that began earlier saw); and checks found it before.
pub async fn a_check_that_starts_after_a_delete_never_finds_the_session(store: Arc<dyn Store>) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let ada = inserted(store.as_ref(), "ada@example.com", t0()).await;
    let doomed = inserted_session(store.as_ref(), &ada, t0()).await;
    let deleted = Arc::new(AtomicBool::new(false));
    let (found_before, checked_after) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut checkers = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (store, token) = (store.clone(), doomed.token.clone());
        let (deleted, found_before, checked_after) =
            (deleted.clone(), found_before.clone(), checked_after.clone());
        checkers.spawn(async move {
            // Each checker stops after 20 checks that began once the delete had returned.
            while checked_after.load(Ordering::SeqCst) < 16 * 20 {
                let after_delete = deleted.load(Ordering::SeqCst);
                let found = store.session_with_user(&token).await.unwrap();
                if after_delete {
                    assert_eq!(
                        found, None,
                        "a check begun after the delete found the session"
                    );
                    checked_after.fetch_add(1, Ordering::SeqCst);
                } else if found.is_some() {
                    found_before.fetch_add(1, Ordering::SeqCst);
                }
                tokio::task::yield_now().await;
            }
        });
    }
    while found_before.load(Ordering::SeqCst) < 50 {
        tokio::task::yield_now().await;
    }
    assert!(store.delete_session(&doomed.token).await.unwrap());
    deleted.store(true, Ordering::SeqCst);
    while let Some(done) = checkers.join_next().await {
        done.unwrap();
    }
    assert!(checked_after.load(Ordering::SeqCst) >= 16 * 20);
}

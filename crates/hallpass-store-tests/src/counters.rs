//! Rate-limit counters (the `rateLimit` table).

use hallpass_core::store::Counter;
use hallpass_core::Store;
use std::sync::Arc;

const WINDOW: i64 = 10_000;
const T: i64 = 1_790_000_000_000;

/// Better Auth's algorithm: `max` requests pass, the next ones are refused without moving the
/// window, and a request a whole window after the last allowed one starts again at 1.
pub async fn a_counter_allows_max_then_refuses_until_the_window_has_passed(store: Arc<dyn Store>) {
    store.prepare_counters().await.unwrap();
    // Preparing twice is harmless, and migrations do not plan the table (Better Auth's schema
    // has it only for database storage).
    store.prepare_counters().await.unwrap();
    assert_eq!(store.migration_plan().await.unwrap(), Vec::<String>::new());
    let key = "203.0.113.7|/sign-in/email";
    let mut seen = Vec::new();
    for i in 0..3 {
        seen.push(store.consume(key, WINDOW, 3, T + i * 1000).await.unwrap());
    }
    assert!(seen.iter().all(|c| c.allowed(3)), "{seen:?}");
    assert_eq!(
        seen[2],
        Counter {
            count: 3,
            last_request_ms: T + 2000
        }
    );

    let refused = store.consume(key, WINDOW, 3, T + 5000).await.unwrap();
    assert!(!refused.allowed(3));
    assert_eq!(
        refused.last_request_ms,
        T + 2000,
        "a refusal does not move the window"
    );
    assert_eq!(refused.retry_after_s(WINDOW, T + 5000), 7);
    // Refusals are counted as max + 1, however many there are.
    let again = store.consume(key, WINDOW, 3, T + 11_999).await.unwrap();
    assert_eq!(
        again,
        Counter {
            count: 4,
            last_request_ms: T + 2000
        }
    );
    assert_eq!(store.peek(key).await.unwrap(), Some(again));

    let fresh = store.consume(key, WINDOW, 3, T + 12_000).await.unwrap();
    assert_eq!(
        fresh,
        Counter {
            count: 1,
            last_request_ms: T + 12_000
        }
    );
    // A request given back frees a place in the window.
    store.release(key).await.unwrap();
    assert_eq!(store.peek(key).await.unwrap().map(|c| c.count), Some(0));
    assert!(store
        .consume(key, WINDOW, 3, T + 12_001)
        .await
        .unwrap()
        .allowed(3));
    // Other keys are counted apart.
    let other = store
        .consume("203.0.113.8|/sign-in/email", WINDOW, 3, T + 5000)
        .await
        .unwrap();
    assert_eq!(other.count, 1);
    assert_eq!(store.peek("nobody|/x").await.unwrap(), None);
}

/// Many concurrent requests on one key: exactly `max` are allowed (the upsert is atomic).
pub async fn concurrent_requests_on_one_counter_allow_exactly_max(store: Arc<dyn Store>) {
    store.prepare_counters().await.unwrap();
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.consume("k|/sign-up/email", WINDOW, 5, T).await })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().allowed(5) {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
}

/// Pruning deletes counters whose last request is older than the bound, and only those.
pub async fn pruning_deletes_only_old_counters(store: Arc<dyn Store>) {
    store.prepare_counters().await.unwrap();
    store.consume("old", WINDOW, 3, T).await.unwrap();
    store.consume("new", WINDOW, 3, T + 60_000).await.unwrap();

    assert_eq!(store.prune_counters(T + 1).await.unwrap(), 1);

    assert_eq!(store.peek("old").await.unwrap(), None);
    assert!(store.peek("new").await.unwrap().is_some());
}

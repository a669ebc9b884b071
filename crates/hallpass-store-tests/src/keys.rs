//! Signing keys (the `jwks` table).

use crate::fixtures::*;
use hallpass_core::Store;
use std::sync::Arc;

/// A fresh database has no keys (the key ring makes the first one).
pub async fn there_are_no_signing_keys_at_first(store: Arc<dyn Store>) {
    assert_eq!(store.signing_keys().await.unwrap(), Vec::new());
}

/// Keys come back newest first, every field intact, with and without an expiry.
pub async fn signing_keys_come_back_newest_first(store: Arc<dyn Store>) {
    let oldest = key(t0(), Some(at("2026-12-22T02:02:43.318Z")));
    let newest = key(t0_plus_ms(86_400_000), None);
    let mut middle = key(t0_plus_ms(1), None);
    middle.alg = None;
    middle.crv = None;
    // Inserted out of order, so insertion order cannot pass for creation order.
    for k in [&middle, &newest, &oldest] {
        store.insert_signing_key(k).await.unwrap();
    }

    let keys = store.signing_keys().await.unwrap();

    assert_eq!(keys, vec![newest, middle, oldest]);
}

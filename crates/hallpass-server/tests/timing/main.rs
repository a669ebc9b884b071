//! Timing tests: measurements that compare how long two kinds of request take. They live in their
//! own binary, apart from the API suite, so that no other test's servers hash passwords on the same
//! cores while they measure (cargo runs test binaries one after another); within this binary they
//! take turns through [`exclusive`], each from before it starts its servers.

// A failed expectation in a test or its helpers is a test failure: panicking is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod enumeration;
// The API suite's helpers; this binary uses some of them.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

/// Held by each timing test for as long as it measures, so that the tests of this binary never
/// measure at the same time.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

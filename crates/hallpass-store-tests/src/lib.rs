//! The store test suite, written once and run against every store (SQLite, PostgreSQL), so both
//! databases behave the same.
//!
//! Each case is an async function that takes a fresh store, migrated, using the default profile
//! schema (`software_background` and `hardware_background`, optional levels). A store crate runs
//! the whole suite from one of its test binaries:
//!
//! ```ignore
//! async fn fresh_store() -> Option<StoreUnderTest> { /* a new, empty database */ }
//! hallpass_store_tests::store_tests!(fresh_store());
//! ```
//!
//! [`store_tests!`] expands into one `#[tokio::test]` per case (the calling crate needs `tokio` as a
//! dev-dependency). The factory gives an *empty* database; the harness migrates it before each
//! case, except for the migration case, which checks the plan on the empty database itself.

mod better_auth;
mod counters;
mod fixtures;
mod keys;
mod schema;
mod sessions;
mod users;
mod verifications;

pub use better_auth::*;
pub use counters::*;
pub use fixtures::*;
pub use keys::*;
pub use schema::*;
pub use sessions::*;
pub use users::*;
pub use verifications::*;

use hallpass_core::Store;
use std::any::Any;
use std::sync::Arc;

/// A store on a fresh, empty database, with whatever must live as long as the test does (a
/// temporary directory, a guard that drops a scratch database).
pub struct StoreUnderTest {
    // Dropped first, so the store lets go of the database before the guard removes it.
    store: Arc<dyn Store>,
    _keep_alive: Box<dyn Any + Send>,
}

impl StoreUnderTest {
    /// A store and what must outlive it.
    pub fn new(store: Arc<dyn Store>, keep_alive: impl Any + Send) -> StoreUnderTest {
        StoreUnderTest {
            store,
            _keep_alive: Box::new(keep_alive),
        }
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// The store, migrated (for the cases that start from a ready schema).
    pub async fn migrated(&self) -> Arc<dyn Store> {
        let applied = self
            .store
            .migrate()
            .await
            .expect("migrating a fresh database");
        assert!(!applied.is_empty(), "a fresh database needs migrating");
        self.store()
    }
}

/// Expands into one `#[tokio::test]` per case of the suite.
///
/// The argument is an expression that evaluates to a future of `Option<StoreUnderTest>`, called
/// once per test; `None` means the backend is not available here and the test returns at once
/// (the factory says why).
#[macro_export]
macro_rules! store_tests {
    (@migrated $make:expr; $($case:ident),+ $(,)?) => {$(
        #[tokio::test]
        async fn $case() {
            let Some(under_test) = $make.await else { return };
            $crate::$case(under_test.migrated().await).await;
        }
    )+};
    (@empty $make:expr; $($case:ident),+ $(,)?) => {$(
        #[tokio::test]
        async fn $case() {
            let Some(under_test) = $make.await else { return };
            $crate::$case(under_test.store()).await;
        }
    )+};
    ($make:expr) => {
        $crate::store_tests!(@empty $make;
            migrating_an_empty_database_creates_every_table_and_index_once,
        );
        $crate::store_tests!(@migrated $make;
            // users
            a_new_user_reads_back_by_email_and_by_id_with_every_field,
            dates_are_kept_to_the_millisecond,
            looking_up_an_unknown_user_finds_nothing,
            inserting_a_duplicate_email_is_a_conflict_and_writes_nothing,
            inserting_a_duplicate_user_id_is_a_conflict,
            the_password_hash_is_read_and_replaced,
            updating_a_user_changes_only_what_is_given_and_bumps_updated_at,
            updating_the_image_to_none_clears_it,
            a_profile_value_can_be_set_and_cleared,
            unknown_profile_keys_are_ignored_on_update,
            an_empty_update_returns_the_user_unchanged,
            updating_an_unknown_user_returns_none,
            deleting_a_user_removes_their_sessions_and_account,
            users_are_listed_oldest_first_and_paged,
            // sessions
            a_session_is_found_by_token_with_its_own_user,
            inserting_a_duplicate_session_token_is_a_conflict,
            extending_a_session_moves_its_expiry_and_update_time_only,
            extending_an_unknown_session_returns_none,
            deleting_a_session_removes_it_once,
            a_user_cannot_delete_another_users_session,
            deleting_all_of_a_users_sessions_returns_their_tokens,
            deleting_a_users_other_sessions_keeps_the_current_one,
            a_users_sessions_exclude_expired_ones_and_other_users,
            concurrent_checks_each_get_their_own_session,
            a_check_that_starts_after_a_delete_never_finds_the_session,
            // keys
            there_are_no_signing_keys_at_first,
            signing_keys_come_back_newest_first,
            // rate-limit counters
            a_counter_allows_max_then_refuses_until_the_window_has_passed,
            concurrent_requests_on_one_counter_allow_exactly_max,
            pruning_deletes_only_old_counters,
            // verifications, accounts, changes of address
            a_verification_reads_back_and_is_taken_once,
            concurrent_takes_of_one_verification_succeed_once,
            expired_verifications_are_pruned,
            a_users_accounts_are_listed,
            the_email_changes_unless_taken,
            // schema and health
            migrating_twice_does_nothing_the_second_time,
            a_migrated_store_answers_ping,
        );
    };
}

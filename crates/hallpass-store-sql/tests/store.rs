//! The store test suites, one binary: the shared suite (hallpass-store-tests) and the checks
//! against databases laid out by Better Auth itself (reference, 6.1 and 6.2), on SQLite (a fresh
//! file per test) and on PostgreSQL (a scratch database per test).

// A failed expectation in a test or its helpers is a test failure: panicking is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "store/postgres.rs"]
mod postgres;
#[path = "store/sqlite.rs"]
mod sqlite;

use hallpass_store_sql::dialect::Dialect;

/// Better Auth's tables exactly as `npx auth migrate` creates them (reference, 6.1 and 6.2), with
/// the default profile fields in place of the reference's example fields.
fn ddl(d: Dialect) -> Vec<&'static str> {
    hallpass_store_tests::sql_statements(match d {
        Dialect::Sqlite => include_str!("store/better-auth/sqlite-schema.sql"),
        Dialect::Postgres => include_str!("store/better-auth/postgres-schema.sql"),
    })
}

/// Rows as Better Auth writes them (reference, 6.1 "Example rows"), in each database's types.
fn rows(d: Dialect) -> Vec<&'static str> {
    hallpass_store_tests::sql_statements(match d {
        Dialect::Sqlite => include_str!("store/better-auth/sqlite-rows.sql"),
        Dialect::Postgres => include_str!("store/better-auth/postgres-rows.sql"),
    })
}

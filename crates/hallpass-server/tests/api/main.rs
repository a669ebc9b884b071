//! The API test suite: one binary (as in zero-to-production's `tests/api/main.rs`), each module a
//! resource. Every test starts the real application on a free port with a fresh SQLite database
//! (`helpers::spawn_app`) and talks to it over HTTP.

// A failed expectation in a test or its helpers is a test failure: panicking is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod advisories;
mod better_auth_data;
mod cli;
mod health;
mod helpers;
mod internal;
mod jwt;
mod lifecycle;
mod limits;
mod malformed_input;
mod metrics;
mod openapi;
mod origin_and_cors;
mod pages;
mod pg;
mod rest;
mod revocation;
mod sessions;
mod sign_in;
mod sign_up;
mod users;

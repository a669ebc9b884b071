//! A scratch PostgreSQL database for the tests that need one (cross-process behaviour).
//!
//! The server comes from `HALLPASS_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it cannot be reached the test says so and passes, unless `HALLPASS_REQUIRE_PG=1` (set by
//! scripts/test), which makes an unreachable server a failure.

use sqlx::{Connection, PgConnection};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database of its own, `hp_test_<unix seconds>_<random>` (the store suite's naming, so its
/// clean-up of leftovers covers these too).
pub struct ScratchDatabase {
    server: String,
    name: String,
    /// Its URL.
    pub url: String,
}

async fn connect(server: &str) -> Result<PgConnection, String> {
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(server)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 5 seconds".into()),
    }
}

impl ScratchDatabase {
    /// None when the server cannot be reached and that is allowed.
    pub async fn create() -> Option<ScratchDatabase> {
        let server = std::env::var("HALLPASS_TEST_PG").unwrap_or_else(|_| DEFAULT_SERVER.into());
        let required =
            std::env::var("HALLPASS_REQUIRE_PG").is_ok_and(|v| !v.is_empty() && v != "0");
        let mut admin = match connect(&server).await {
            Ok(admin) => admin,
            Err(why) if required => panic!("HALLPASS_REQUIRE_PG is set but {server}: {why}"),
            Err(why) => {
                eprintln!("SKIPPED: PostgreSQL test: cannot reach {server} ({why})");
                return None;
            }
        };
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let name = format!(
            "hp_test_{secs}_{}",
            hallpass_core::id::generate_id(12).to_lowercase()
        );
        sqlx::query(&format!("create database \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        let mut url = url::Url::parse(&server).unwrap();
        url.set_path(&format!("/{name}"));
        Some(ScratchDatabase {
            server,
            name,
            url: url.to_string(),
        })
    }

    /// Drops the database (forcibly: pools of aborted servers may still hold connections).
    pub async fn drop_now(self) {
        if let Ok(mut admin) = connect(&self.server).await {
            let _ = sqlx::query(&format!(
                "drop database if exists \"{}\" with (force)",
                self.name
            ))
            .execute(&mut admin)
            .await;
            let _ = admin.close().await;
        }
    }
}

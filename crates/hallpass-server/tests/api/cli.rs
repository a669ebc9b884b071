//! The `hallpass` command line, run as a built binary against a temporary database.

use crate::helpers::SECRET;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A temporary working directory with a database path, for running the binary.
struct Cli {
    dir: TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn db_path(&self) -> PathBuf {
        self.dir.path().join("cli.db")
    }

    /// The command with a clean environment: only what the test sets.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hallpass"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", self.db_path().display()),
            )
            .env("HALLPASS_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the binary runs")
    }

    /// Runs and requires success; returns stdout.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "hallpass {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    async fn tables(&self) -> Vec<String> {
        if !self.db_path().exists() {
            return Vec::new();
        }
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", self.db_path().display()))
            .await
            .expect("the database opens");
        let names = sqlx::query_scalar(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
        )
        .fetch_all(&pool)
        .await
        .expect("a table listing");
        pool.close().await;
        names
    }
}

fn users(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("one JSON user per line"))
        .collect()
}

#[test]
fn user_create_makes_a_user_with_profile_fields_that_user_list_shows() {
    // Arrange
    let cli = Cli::new();

    // Act
    let created = cli.ok(&[
        "user",
        "create",
        "--email",
        "Ops@Example.com",
        "--name",
        "Ops",
        "--password",
        "a-long-password",
        "software_background=beginner",
    ]);
    let listed = cli.ok(&["user", "list"]);

    // Assert
    let created = users(&created);
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["email"], "ops@example.com");
    assert_eq!(created[0]["software_background"], "beginner");
    let listed = users(&listed);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], created[0]["id"]);
    assert_eq!(listed[0]["software_background"], "beginner");
    assert!(!listed[0].to_string().contains("a-long-password"));
}

#[test]
fn user_create_reads_the_password_from_hallpass_password() {
    // Arrange
    let cli = Cli::new();

    // Act
    let out = cli
        .command(&["user", "create", "--email", "env@example.com"])
        .env("HALLPASS_PASSWORD", "from-the-environment")
        .output()
        .expect("the binary runs");

    // Assert
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = [out.stdout, out.stderr].concat();
    assert!(!String::from_utf8_lossy(&all).contains("from-the-environment"));
    assert_eq!(users(&cli.ok(&["user", "list"])).len(), 1);
}

#[test]
fn user_set_profile_changes_a_field() {
    // Arrange
    let cli = Cli::new();
    cli.ok(&[
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--password",
        "a-long-password",
    ]);

    // Act
    let out = cli.ok(&[
        "user",
        "set-profile",
        "ops@example.com",
        "hardware_background=advanced",
    ]);

    // Assert
    assert_eq!(users(&out)[0]["hardware_background"], "advanced");
    let listed = users(&cli.ok(&["user", "list"]));
    assert_eq!(listed[0]["hardware_background"], "advanced");
}

#[test]
fn user_set_profile_with_an_unknown_level_fails_naming_the_field() {
    // Arrange
    let cli = Cli::new();
    cli.ok(&[
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--password",
        "a-long-password",
    ]);

    // Act
    let out = cli.run(&[
        "user",
        "set-profile",
        "ops@example.com",
        "hardware_background=guru",
    ]);

    // Assert
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("hardware_background"), "{stderr}");
    assert_eq!(
        users(&cli.ok(&["user", "list"]))[0]["hardware_background"],
        Value::Null
    );
}

#[test]
fn user_create_with_an_unknown_level_fails_and_creates_nobody() {
    // Arrange
    let cli = Cli::new();

    // Act
    let out = cli.run(&[
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--password",
        "a-long-password",
        "software_background=wizard",
    ]);

    // Assert
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("software_background"), "{stderr}");
    assert!(users(&cli.ok(&["user", "list"])).is_empty());
}

#[test]
fn user_delete_removes_the_user() {
    // Arrange
    let cli = Cli::new();
    cli.ok(&[
        "user",
        "create",
        "--email",
        "gone@example.com",
        "--password",
        "a-long-password",
    ]);

    // Act
    cli.ok(&["user", "delete", "gone@example.com"]);

    // Assert
    assert!(users(&cli.ok(&["user", "list"])).is_empty());
    let again = cli.run(&["user", "delete", "gone@example.com"]);
    assert!(!again.status.success());
}

#[test]
fn user_verify_marks_the_address_verified() {
    let cli = Cli::new();
    cli.ok(&[
        "user",
        "create",
        "--email",
        "v@example.com",
        "--password",
        "a-long-password",
    ]);
    assert_eq!(users(&cli.ok(&["user", "list"]))[0]["emailVerified"], false);

    let out = cli.ok(&["user", "verify", "V@example.com"]);

    assert_eq!(users(&out)[0]["emailVerified"], true);
    assert_eq!(users(&cli.ok(&["user", "list"]))[0]["emailVerified"], true);
    assert!(!cli
        .run(&["user", "verify", "nobody@example.com"])
        .status
        .success());
}

#[tokio::test]
async fn user_reset_link_prints_a_one_time_link_that_resets_the_password() {
    let cli = Cli::new();
    cli.ok(&[
        "user",
        "create",
        "--email",
        "r@example.com",
        "--password",
        "a-long-password",
    ]);

    let link = cli.ok(&[
        "user",
        "reset-link",
        "r@example.com",
        "--redirect-to",
        "/reset-password",
    ]);

    let link = link.trim();
    assert!(
        link.starts_with("http://localhost:4000/api/auth/reset-password/")
            && link.ends_with("?callbackURL=%2Freset-password"),
        "{link}"
    );
    let token = link
        .split("/reset-password/")
        .nth(1)
        .and_then(|t| t.split('?').next())
        .unwrap_or_default();
    assert_eq!(token.len(), 24);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", cli.db_path().display()))
        .await
        .unwrap();
    let (value,): (String,) = sqlx::query_as("select value from verification where identifier = ?")
        .bind(format!("reset-password:{token}"))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        value,
        users(&cli.ok(&["user", "list"]))[0]["id"].as_str().unwrap()
    );
    assert!(!cli
        .run(&["user", "reset-link", "nobody@example.com"])
        .status
        .success());
}

#[tokio::test]
async fn migrate_dry_run_prints_the_sql_and_changes_nothing() {
    // Arrange
    let cli = Cli::new();

    // Act
    let out = cli.ok(&["migrate", "--dry-run"]);

    // Assert
    let lower = out.to_ascii_lowercase();
    for table in [
        "\"user\"",
        "\"session\"",
        "\"account\"",
        "\"verification\"",
        "\"jwks\"",
    ] {
        assert!(lower.contains(&format!("create table {table}")), "{out}");
    }
    assert!(out.contains("software_background"), "{out}");
    assert!(cli.tables().await.is_empty(), "tables were created");
}

#[tokio::test]
async fn migrate_creates_the_tables_and_then_has_nothing_left_to_do() {
    // Arrange
    let cli = Cli::new();

    // Act
    cli.ok(&["migrate"]);
    let again = cli.ok(&["migrate", "--dry-run"]);

    // Assert
    assert_eq!(
        cli.tables().await,
        ["account", "jwks", "session", "user", "verification"]
    );
    assert!(
        !again.to_ascii_lowercase().contains("create table"),
        "{again}"
    );
}

#[test]
fn check_config_prints_the_profile_fields_and_an_up_to_date_schema() {
    // Arrange
    let cli = Cli::new();
    cli.ok(&["migrate"]);

    // Act
    let out = cli.ok(&["check-config"]);

    // Assert
    assert!(out.contains("software_background"), "{out}");
    assert!(out.contains("hardware_background"), "{out}");
    assert!(out.contains("up to date"), "{out}");
    assert!(!out.contains(SECRET), "the secret is never printed: {out}");
}

#[test]
fn production_mode_refuses_a_short_secret_without_printing_it() {
    // Arrange
    let cli = Cli::new();
    let short = "tiny-secret-xyz";

    // Act
    let out = cli
        .command(&["check-config"])
        .env("HALLPASS_ENV", "production")
        .env("HALLPASS_SECRET", short)
        .output()
        .expect("the binary runs");

    // Assert
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("secret"), "{stderr}");
    assert!(
        !stdout.contains(short) && !stderr.contains(short),
        "{stdout}{stderr}"
    );
}

#[test]
fn production_mode_refuses_a_missing_secret() {
    // Arrange
    let cli = Cli::new();

    // Act
    let out = cli
        .command(&["check-config"])
        .env("HALLPASS_ENV", "production")
        .env_remove("HALLPASS_SECRET")
        .output()
        .expect("the binary runs");

    // Assert
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HALLPASS_SECRET"), "{stderr}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn wait_until_listening(port: u16, deadline: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    // Arrange
    let cli = Cli::new();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = cli
        .command(&["serve", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let listening = wait_until_listening(port, Duration::from_secs(30));
    if !listening {
        let _ = child.kill();
    }
    assert!(listening, "the server never listened on {listen}");
    assert!(cli.db_path().exists(), "the database was created");

    // Act
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited on") {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };

    // Assert
    assert!(killed.success());
    let status = status.expect("the server stopped within 20 s of SIGTERM");
    assert_eq!(status.code(), Some(0), "{status}");
}

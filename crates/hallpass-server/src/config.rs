//! Configuration: `hallpass.toml`, overridden by environment variables, overridden by flags
//! (DESIGN.md, decision 7). Everything is checked here, once, so the rest of the server only
//! sees valid values.

use hallpass_core::password::{Algorithm, LengthPolicy};
use hallpass_core::profile::{FieldDef, ProfileSchema};
use hallpass_core::secret::Secret;
use hallpass_core::SessionPolicy;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Defaults named in DESIGN.md.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4000";
/// The default public URL.
pub const DEFAULT_BASE_URL: &str = "http://localhost:4000";
/// The default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://hallpass.db";
/// The Docusaurus dev server, trusted unless configured otherwise.
pub const DEFAULT_TRUSTED_ORIGIN: &str = "http://localhost:3000";

/// The file layout of `hallpass.toml`. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<String>,
    base_url: Option<String>,
    secret: Option<String>,
    database_url: Option<String>,
    trusted_origins: Option<Vec<String>>,
    internal_secret: Option<String>,
    internal_listen: Option<String>,
    allow_http: Option<bool>,
    env: Option<String>,
    #[serde(default)]
    database: DatabaseFile,
    #[serde(default)]
    session: SessionFile,
    #[serde(default)]
    password: PasswordFile,
    #[serde(default)]
    jwt: JwtFile,
    profile: Option<ProfileFile>,
    #[serde(default)]
    log: LogFile,
    #[serde(default)]
    pages: PagesFile,
    trusted_proxies: Option<Vec<String>>,
    #[serde(default)]
    rate_limit: RateLimitFile,
    #[serde(default)]
    server: ServerFile,
    #[serde(default)]
    email: EmailFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailFile {
    smtp_url: Option<String>,
    from: Option<String>,
    outbox: Option<String>,
    site_name: Option<String>,
    require_verification: Option<bool>,
    send_on_sign_up: Option<bool>,
    auto_sign_in_after_verification: Option<bool>,
    revoke_sessions_on_reset: Option<bool>,
    reset_token_expires_in: Option<i64>,
    verification_expires_in: Option<i64>,
    allow_delete: Option<bool>,
    allow_change: Option<bool>,
}

/// Mail and the account lifecycle (`[email]`, `HALLPASS_SMTP_URL`, `HALLPASS_SMTP_FROM`, …).
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…:465` (TLS), or
    /// `smtp://host:port` (plain, for a local relay). None: messages go to the outbox folder.
    pub smtp_url: Option<hallpass_core::secret::Secret>,
    /// The From address (`HALLPASS_SMTP_FROM`), e.g. `Docs <no-reply@docs.example.com>`.
    pub from: String,
    /// Where messages go without SMTP: `.eml` files (`HALLPASS_OUTBOX`, default `outbox` beside
    /// the SQLite file, or in the working directory).
    pub outbox: PathBuf,
    /// The site named in the messages (default: the base URL's host).
    pub site_name: String,
    /// Send a verification mail on sign-up (default: when verification is required).
    pub send_on_sign_up: bool,
    /// `/delete-user` is served (default true).
    pub allow_delete: bool,
    /// `/change-email` is served (default true).
    pub allow_change: bool,
    /// The lifecycle rules the domain applies.
    pub policy: hallpass_core::lifecycle::EmailPolicy,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitFile {
    enabled: Option<bool>,
    window: Option<u32>,
    max: Option<u32>,
    storage: Option<String>,
    account_failures: Option<u32>,
    account_window: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    header_timeout: Option<u64>,
    request_timeout: Option<u64>,
    max_connections: Option<usize>,
    max_requests: Option<usize>,
}

/// Where rate-limit counters live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterStorage {
    /// This process's memory.
    Memory,
    /// The database's `rateLimit` table, shared by every process on it.
    Database,
}

/// Rate limiting (`[rate_limit]`, `HALLPASS_RATE_LIMIT`, `HALLPASS_RATE_LIMIT_STORAGE`).
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// On by default in production mode only, as in Better Auth.
    pub enabled: bool,
    /// Window of the general rule, in seconds (10).
    pub window: u32,
    /// Requests per window of the general rule (100).
    pub max: u32,
    /// Memory for SQLite, the database for PostgreSQL (where several processes may serve).
    pub storage: CounterStorage,
    /// Failed sign-ins that lock an account (10; 0 turns the account lock off).
    pub account_failures: u32,
    /// How long, in seconds, failures count and a lock lasts after the last one (300).
    pub account_window: u32,
}

/// Connection limits and timeouts (`[server]`).
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Seconds a connection may take to send a request's head, counted from when it opens or
    /// from the previous answer: it is also how long an idle keep-alive connection is kept (10).
    pub header_timeout: u64,
    /// Seconds a request may take from its headers to its answer, body included (30).
    pub request_timeout: u64,
    /// Open connections at most; more wait to be accepted (10,000).
    pub max_connections: usize,
    /// Requests handled at once at most; more are answered 503 at once (4,096).
    pub max_requests: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseFile {
    max_connections: Option<u32>,
    migrate_on_start: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionFile {
    expires_in: Option<i64>,
    update_age: Option<i64>,
    fresh_age: Option<i64>,
    cache_ttl_ms: Option<u64>,
    cache_max_mb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordFile {
    algorithm: Option<Algorithm>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    hash_workers: Option<usize>,
    hash_queue: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtFile {
    expires_in: Option<i64>,
    header: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    fields: Vec<FieldDef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogFile {
    format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PagesFile {
    enabled: Option<bool>,
}

/// Values given as command-line flags; they win over everything.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--no-migrate`.
    pub no_migrate: bool,
}

/// Where the secret came from (for the start-up log; the value is never logged).
#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    /// HALLPASS_SECRET or BETTER_AUTH_SECRET.
    Environment,
    /// `secret` in the file.
    File,
    /// A development secret kept in this file.
    Generated(PathBuf),
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Public URL of the server (cookies, JWT issuer, trusted origin).
    pub base_url: url::Url,
    /// The server secret.
    pub secret: Secret,
    /// Where the secret came from.
    pub secret_source: SecretSource,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Connection pool size.
    pub max_connections: u32,
    /// Run migrations at start-up.
    pub migrate_on_start: bool,
    /// Origins allowed to make state-changing browser requests (besides the base URL's).
    pub trusted_origins: Vec<String>,
    /// The shared secret of the internal bridge, if enabled.
    pub internal_secret: Option<Secret>,
    /// Where `/internal/*` is served on a listener of its own (and then not on the public one).
    pub internal_listen: Option<SocketAddr>,
    /// HALLPASS_ENV=production.
    pub production: bool,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Password length rules.
    pub password_lengths: LengthPolicy,
    /// Algorithm of new password hashes.
    pub password_algorithm: Algorithm,
    /// Threads that hash passwords.
    pub hash_workers: usize,
    /// Hash jobs allowed to wait.
    pub hash_queue: usize,
    /// JWT lifetime in seconds.
    pub jwt_ttl: i64,
    /// Send a JWT in `set-auth-jwt` with every get-session answer (Better Auth's default);
    /// `[jwt] header`, `HALLPASS_JWT_HEADER`. Off is Better Auth's `disableSettingJwtHeader`.
    pub jwt_header: bool,
    /// Profile fields.
    pub profile: ProfileSchema,
    /// `json` for JSON lines, else human-readable.
    pub log_json: bool,
    /// Serve the built-in pages (`/`, `/sign-in`, `/sign-up`, `/profile`); `[pages] enabled`,
    /// `HALLPASS_PAGES`. Better Auth's `/api/auth/error` page is served either way.
    pub pages_enabled: bool,
    /// Proxies whose `X-Forwarded-For` names the client (`HALLPASS_TRUSTED_PROXIES`: addresses
    /// or CIDR blocks, comma-separated). Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<crate::http::client_ip::IpNet>,
    /// Rate limiting.
    pub rate_limit: RateLimitConfig,
    /// Connection limits and timeouts.
    pub server: ServerLimits,
    /// Mail and the account lifecycle.
    pub email: EmailConfig,
}

/// A configuration problem, as a sentence for the operator.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// The configuration file in use: `--config`, `HALLPASS_CONFIG`, or `./hallpass.toml` when present.
fn config_path(flags: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    flags
        .config
        .clone()
        .or_else(|| env("HALLPASS_CONFIG").map(PathBuf::from))
        .or_else(|| Some(PathBuf::from("hallpass.toml")).filter(|p| p.exists()))
}

/// Whether logs are JSON lines (`HALLPASS_LOG_FORMAT`, else `[log] format` in the file), read
/// before the rest of the configuration so that what loading it says is logged in that format.
/// A file that cannot be read or parsed counts as "not JSON" here; loading reports it.
pub fn log_json(flags: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> bool {
    let format = env("HALLPASS_LOG_FORMAT").or_else(|| {
        let text = std::fs::read_to_string(config_path(flags, env)?).ok()?;
        let value: toml::Value = toml::from_str(&text).ok()?;
        Some(value.get("log")?.get("format")?.as_str()?.to_owned())
    });
    format.is_some_and(|f| f.trim() == "json")
}

impl Config {
    /// Loads the file (from `--config`, `HALLPASS_CONFIG`, or `./hallpass.toml` when present),
    /// applies the environment (`env` looks a name up) and the flags, and checks everything.
    pub fn load(
        flags: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let path = config_path(flags, env);
        let file = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", p.display())))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| ConfigError(format!("{}: {e}", p.display())))?
            }
            None => FileConfig::default(),
        };
        Config::resolve(file, flags, env)
    }

    /// Layers file, environment and flags.
    pub fn resolve(
        file: FileConfig,
        flags: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let production = match env("HALLPASS_ENV").or(file.env).as_deref() {
            None | Some("development") | Some("dev") | Some("test") => false,
            Some("production") | Some("prod") => true,
            Some(other) => {
                return err(format!(
                    "HALLPASS_ENV must be development or production, not {other:?}"
                ))
            }
        };

        let listen_raw = flags
            .listen
            .clone()
            .or_else(|| env("HALLPASS_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen: SocketAddr = listen_raw
            .parse()
            .map_err(|_| ConfigError(format!("HALLPASS_LISTEN must be an address and port like 127.0.0.1:4000, not {listen_raw:?}")))?;

        let base_raw = flags
            .base_url
            .clone()
            .or_else(|| env("HALLPASS_BASE_URL"))
            .or(file.base_url)
            .unwrap_or_else(|| DEFAULT_BASE_URL.into());
        let base_url = url::Url::parse(&base_raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                ConfigError(format!(
                    "HALLPASS_BASE_URL must be an http(s) URL, not {base_raw:?}"
                ))
            })?;
        let database_url = flags
            .database_url
            .clone()
            .or_else(|| env("DATABASE_URL"))
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return err("DATABASE_URL must start with sqlite: or postgres://");
        }

        let (secret, secret_source) = match (env("HALLPASS_SECRET").or_else(|| env("BETTER_AUTH_SECRET")), file.secret) {
            (Some(s), _) => (Secret::new(s), SecretSource::Environment),
            (None, Some(s)) => (Secret::new(s), SecretSource::File),
            (None, None) if production => {
                return err("HALLPASS_ENV=production needs HALLPASS_SECRET (at least 32 random characters); refusing to start")
            }
            (None, None) => {
                let path = dev_secret_path(&database_url);
                (load_or_create_dev_secret(&path)?, SecretSource::Generated(path))
            }
        };
        if production {
            if let Some(why) = secret.production_weakness() {
                return err(format!(
                    "the secret is too weak for production: {why}; refusing to start"
                ));
            }
        }
        if production && base_url.scheme() != "https" {
            let allowed = match env("HALLPASS_ALLOW_HTTP") {
                Some(v) => matches!(v.trim(), "1" | "true" | "yes" | "on"),
                None => file.allow_http.unwrap_or(false),
            };
            if !allowed {
                return err("HALLPASS_ENV=production needs an https HALLPASS_BASE_URL (cookies must be Secure); behind a proxy the base URL is the public https one. HALLPASS_ALLOW_HTTP=1 allows http deliberately; refusing to start");
            }
            tracing::warn!(
                "production mode with an http base URL (HALLPASS_ALLOW_HTTP): cookies will not be Secure"
            );
        }

        let trusted_origins = match env("HALLPASS_TRUSTED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            // The development default (the Docusaurus dev server) is never trusted in production:
            // there, only the base URL's origin and the origins named are.
            None => file.trusted_origins.unwrap_or_else(|| {
                if production {
                    Vec::new()
                } else {
                    vec![DEFAULT_TRUSTED_ORIGIN.into()]
                }
            }),
        };
        for o in &trusted_origins {
            if !o.starts_with("*.") && url::Url::parse(&o.replace("://*.", "://wildcard.")).is_err()
            {
                return err(format!(
                    "trusted origin {o:?} is not a URL origin like https://docs.example.com"
                ));
            }
        }

        let internal_secret = env("HALLPASS_INTERNAL_SECRET")
            .or(file.internal_secret)
            .map(Secret::new);
        if let (true, Some(s)) = (production, &internal_secret) {
            if let Some(why) = s.production_weakness() {
                return err(format!(
                    "HALLPASS_INTERNAL_SECRET is too weak for production: {why}"
                ));
            }
        }

        let internal_listen = match env("HALLPASS_INTERNAL_LISTEN").or(file.internal_listen) {
            None => None,
            Some(raw) => Some(raw.trim().parse::<SocketAddr>().map_err(|_| {
                ConfigError(format!(
                    "HALLPASS_INTERNAL_LISTEN must be an address and port like 127.0.0.1:4001, not {raw:?}"
                ))
            })?),
        };
        if internal_listen.is_some_and(|l| l == listen) {
            return err("HALLPASS_INTERNAL_LISTEN must differ from HALLPASS_LISTEN");
        }

        let defaults = SessionPolicy::default();
        let sessions = SessionPolicy {
            expires_in: file.session.expires_in.unwrap_or(defaults.expires_in),
            update_age: file.session.update_age.unwrap_or(defaults.update_age),
            fresh_age: file.session.fresh_age.unwrap_or(defaults.fresh_age),
            cache_ttl_ms: file.session.cache_ttl_ms.unwrap_or(defaults.cache_ttl_ms),
            cache_max_bytes: match env("HALLPASS_SESSION_CACHE_MB") {
                Some(v) => v.trim().parse::<u64>().map_err(|_| {
                    ConfigError("HALLPASS_SESSION_CACHE_MB must be a number of megabytes".into())
                })?,
                None => file
                    .session
                    .cache_max_mb
                    .unwrap_or((defaults.cache_max_bytes >> 20) as u64),
            }
            .min(4096) as usize
                * 1024
                * 1024,
        };
        if sessions.cache_ttl_ms > 60_000 {
            return err("session.cache_ttl_ms must be at most 60000 (a minute)");
        }
        if sessions.expires_in <= 0
            || sessions.expires_in > 400 * 24 * 3600
            || sessions.update_age < 0
            || sessions.fresh_age < 0
        {
            return err("session.expires_in must be between 1 s and 400 days; update_age and fresh_age not negative");
        }

        let lengths = LengthPolicy {
            min: file.password.min_length.unwrap_or(8),
            max: file.password.max_length.unwrap_or(128),
        };
        if lengths.min == 0 || lengths.min > lengths.max || lengths.max > 1024 {
            return err(
                "password.min_length must be at least 1 and at most max_length (at most 1024)",
            );
        }
        // One hashing thread per core: they run at the lowest scheduling priority, so request
        // handling always takes a core from them (hallpass-core password.rs).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let hash_workers = file.password.hash_workers.unwrap_or(cores);
        let hash_queue = file.password.hash_queue.unwrap_or(256);
        if hash_workers == 0 || hash_queue == 0 {
            return err("password.hash_workers and password.hash_queue must be at least 1");
        }

        let jwt_ttl = file.jwt.expires_in.unwrap_or(900);
        if !(10..=24 * 3600).contains(&jwt_ttl) {
            return err("jwt.expires_in must be between 10 s and one day");
        }

        let profile = match file.profile {
            Some(p) => ProfileSchema::new(p.fields).map_err(ConfigError)?,
            None => ProfileSchema::default(),
        };

        let max_connections = match env("HALLPASS_DATABASE_MAX_CONNECTIONS") {
            Some(v) => v.parse().map_err(|_| {
                ConfigError("HALLPASS_DATABASE_MAX_CONNECTIONS must be a number".into())
            })?,
            None => file.database.max_connections.unwrap_or(10),
        };
        if max_connections == 0 {
            return err("database.max_connections must be at least 1");
        }
        let jwt_header = match env("HALLPASS_JWT_HEADER") {
            Some(v) => flag("HALLPASS_JWT_HEADER", &v)?,
            None => file.jwt.header.unwrap_or(true),
        };
        let pages_enabled = match env("HALLPASS_PAGES") {
            Some(v) => flag("HALLPASS_PAGES", &v)?,
            None => file.pages.enabled.unwrap_or(true),
        };
        let log_json = env("HALLPASS_LOG_FORMAT")
            .or(file.log.format)
            .is_some_and(|f| f == "json");

        let proxies_raw = match env("HALLPASS_TRUSTED_PROXIES") {
            Some(list) => list
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        };
        let mut trusted_proxies = Vec::new();
        for p in &proxies_raw {
            match crate::http::client_ip::IpNet::parse(p) {
                Some(net) => trusted_proxies.push(net),
                None => {
                    return err(format!(
                        "HALLPASS_TRUSTED_PROXIES: {p:?} is not an address or a CIDR block like 10.0.0.0/8"
                    ))
                }
            }
        }

        let rl = file.rate_limit;
        let enabled = match env("HALLPASS_RATE_LIMIT") {
            Some(v) => flag("HALLPASS_RATE_LIMIT", &v)?,
            None => rl.enabled.unwrap_or(production),
        };
        let is_postgres = !database_url.starts_with("sqlite:");
        let storage = match env("HALLPASS_RATE_LIMIT_STORAGE").or(rl.storage).as_deref().map(str::trim) {
            None => {
                if is_postgres {
                    CounterStorage::Database
                } else {
                    CounterStorage::Memory
                }
            }
            Some("memory") => CounterStorage::Memory,
            Some("database") => CounterStorage::Database,
            Some(other) => {
                return err(format!(
                    "rate_limit.storage (HALLPASS_RATE_LIMIT_STORAGE) must be memory or database, not {other:?}"
                ))
            }
        };
        let rate_limit = RateLimitConfig {
            enabled,
            window: rl.window.unwrap_or(10),
            max: rl.max.unwrap_or(100),
            storage,
            account_failures: rl.account_failures.unwrap_or(10),
            account_window: rl.account_window.unwrap_or(300),
        };
        if rate_limit.window == 0 || rate_limit.max == 0 || rate_limit.account_window == 0 {
            return err("rate_limit.window, rate_limit.max and rate_limit.account_window must be at least 1");
        }
        if rate_limit.window > 86_400 || rate_limit.account_window > 86_400 {
            return err(
                "rate_limit.window and rate_limit.account_window must be at most a day (86400)",
            );
        }

        let sv = file.server;
        let server = ServerLimits {
            header_timeout: sv.header_timeout.unwrap_or(10),
            request_timeout: sv.request_timeout.unwrap_or(30),
            max_connections: sv.max_connections.unwrap_or(10_000),
            max_requests: sv.max_requests.unwrap_or(4_096),
        };
        if server.header_timeout == 0
            || server.request_timeout == 0
            || server.max_connections == 0
            || server.max_requests == 0
        {
            return err("the [server] timeouts and maximums must be at least 1");
        }

        let em = file.email;
        let yes = |name: &str, file: Option<bool>, default: bool| -> Result<bool, ConfigError> {
            match env(name) {
                Some(v) => flag(name, &v),
                None => Ok(file.unwrap_or(default)),
            }
        };
        let require_verification = yes(
            "HALLPASS_REQUIRE_EMAIL_VERIFICATION",
            em.require_verification,
            false,
        )?;
        let smtp_url = env("HALLPASS_SMTP_URL").or(em.smtp_url);
        if let Some(u) = &smtp_url {
            let ok = url::Url::parse(u)
                .is_ok_and(|p| matches!(p.scheme(), "smtp" | "smtps") && p.host().is_some());
            if !ok {
                return err("HALLPASS_SMTP_URL must look like smtp://user:password@host:587?tls=required or smtps://user:password@host:465");
            }
        }
        let site_name = em
            .site_name
            .unwrap_or_else(|| base_url.host_str().unwrap_or("hallpass").to_owned());
        let from = env("HALLPASS_SMTP_FROM").or(em.from).unwrap_or_else(|| {
            format!(
                "{site_name} <no-reply@{}>",
                base_url.host_str().unwrap_or("localhost")
            )
        });
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return err(format!("HALLPASS_SMTP_FROM must be an address like \"Docs <no-reply@docs.example.com>\", not {from:?}"));
        }
        let outbox = env("HALLPASS_OUTBOX")
            .or(em.outbox)
            .map(PathBuf::from)
            .unwrap_or_else(|| dev_secret_path(&database_url).with_file_name("outbox"));
        let ttl = |v: Option<i64>, what: &str| -> Result<i64, ConfigError> {
            let v = v.unwrap_or(3600);
            if (60..=7 * 24 * 3600).contains(&v) {
                Ok(v)
            } else {
                err(format!("email.{what} must be between 60 s and 7 days"))
            }
        };
        if production && smtp_url.is_none() {
            tracing::warn!(
                "production mode without HALLPASS_SMTP_URL: password-reset and verification mail go to the outbox folder and their links to the log"
            );
        }
        let email = EmailConfig {
            smtp_url: smtp_url.map(Secret::new),
            from,
            outbox,
            site_name,
            send_on_sign_up: em.send_on_sign_up.unwrap_or(require_verification),
            allow_delete: em.allow_delete.unwrap_or(true),
            allow_change: em.allow_change.unwrap_or(true),
            policy: hallpass_core::lifecycle::EmailPolicy {
                require_verification,
                revoke_sessions_on_reset: em.revoke_sessions_on_reset.unwrap_or(true),
                reset_ttl: ttl(em.reset_token_expires_in, "reset_token_expires_in")?,
                verification_ttl: ttl(em.verification_expires_in, "verification_expires_in")?,
                auto_sign_in_after_verification: em
                    .auto_sign_in_after_verification
                    .unwrap_or(false),
            },
        };

        Ok(Config {
            listen,
            base_url,
            secret,
            secret_source,
            database_url,
            max_connections,
            migrate_on_start: !flags.no_migrate && file.database.migrate_on_start.unwrap_or(true),
            trusted_origins,
            internal_secret,
            internal_listen,
            production,
            sessions,
            password_lengths: lengths,
            password_algorithm: file.password.algorithm.unwrap_or(Algorithm::Scrypt),
            hash_workers,
            hash_queue,
            jwt_ttl,
            jwt_header,
            profile,
            log_json,
            pages_enabled,
            trusted_proxies,
            rate_limit,
            server,
            email,
        })
    }

    /// The base URL's origin (`http://localhost:4000`): JWT issuer and audience, always trusted.
    pub fn origin(&self) -> String {
        self.base_url.origin().ascii_serialization()
    }
}

/// A yes/no setting from the environment.
fn flag(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => err(format!("{name} must be on or off, not {v:?}")),
    }
}

/// Next to the SQLite file, or in the working directory for other databases.
fn dev_secret_path(database_url: &str) -> PathBuf {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
        .filter(|p| !p.is_empty() && !p.contains(":memory:"));
    let dir = file
        .and_then(|f| Path::new(f).parent().map(Path::to_path_buf))
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    dir.join("hallpass.secret")
}

fn load_or_create_dev_secret(path: &Path) -> Result<Secret, ConfigError> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok(Secret::new(existing));
        }
    }
    let value = hallpass_core::id::generate_id(48);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| ConfigError(format!("cannot create {}: {e}", dir.display())))?;
    }
    write_private(path, &value).map_err(|e| {
        ConfigError(format!(
            "cannot write the development secret to {}: {e}",
            path.display()
        ))
    })?;
    tracing::warn!(path = %path.display(), "no HALLPASS_SECRET set: generated a development secret and stored it; set HALLPASS_SECRET in production");
    Ok(Secret::new(value))
}

#[cfg(unix)]
fn write_private(path: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(value.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, value: &str) -> std::io::Result<()> {
    std::fs::write(path, value)
}

#[cfg(test)]
mod tests {

    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)], file: &str) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let file: FileConfig = toml::from_str(file).map_err(|e| ConfigError(e.to_string()))?;
        Config::resolve(file, &Overrides::default(), &|k| map.get(k).cloned())
    }

    const GOOD: &str = "a-long-random-secret-0123456789-abcdefghijkl";

    #[test]
    fn defaults_follow_the_design() {
        let c = load(&[("HALLPASS_SECRET", GOOD)], "").unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:4000");
        assert_eq!(c.origin(), "http://localhost:4000");
        assert_eq!(c.database_url, "sqlite://hallpass.db");
        assert_eq!(c.trusted_origins, vec!["http://localhost:3000".to_string()]);
        assert_eq!(c.profile, ProfileSchema::default());
        assert_eq!(c.jwt_ttl, 900);
        assert!(c.jwt_header);
        assert_eq!(c.secret_source, SecretSource::Environment);
    }

    #[test]
    fn the_jwt_header_is_switched_by_the_file_and_the_environment_wins() {
        let file = "[jwt]\nheader = false";
        assert!(!load(&[("HALLPASS_SECRET", GOOD)], file).unwrap().jwt_header);
        let env = [("HALLPASS_SECRET", GOOD), ("HALLPASS_JWT_HEADER", "true")];
        assert!(load(&env, file).unwrap().jwt_header);
        let bad = [
            ("HALLPASS_SECRET", GOOD),
            ("HALLPASS_JWT_HEADER", "sometimes"),
        ];
        assert!(load(&bad, "")
            .unwrap_err()
            .0
            .contains("HALLPASS_JWT_HEADER"));
    }

    #[test]
    fn environment_overrides_the_file() {
        let c = load(
            &[
                ("HALLPASS_SECRET", GOOD),
                ("HALLPASS_LISTEN", "0.0.0.0:5000"),
                (
                    "HALLPASS_TRUSTED_ORIGINS",
                    "https://a.example, https://b.example",
                ),
            ],
            "listen = \"127.0.0.1:1\"\ntrusted_origins = [\"https://file.example\"]",
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:5000");
        assert_eq!(
            c.trusted_origins,
            vec![
                "https://a.example".to_string(),
                "https://b.example".to_string()
            ]
        );
    }

    #[test]
    fn the_session_cache_bound_comes_from_the_file_or_the_environment() {
        let default = load(&[("HALLPASS_SECRET", GOOD)], "").unwrap();
        assert_eq!(default.sessions.cache_max_bytes, 16 << 20);
        let file = load(&[("HALLPASS_SECRET", GOOD)], "[session]\ncache_max_mb = 4").unwrap();
        assert_eq!(file.sessions.cache_max_bytes, 4 << 20);
        let env = load(
            &[
                ("HALLPASS_SECRET", GOOD),
                ("HALLPASS_SESSION_CACHE_MB", "2"),
            ],
            "[session]\ncache_max_mb = 4",
        )
        .unwrap();
        assert_eq!(env.sessions.cache_max_bytes, 2 << 20);
        assert!(load(
            &[
                ("HALLPASS_SECRET", GOOD),
                ("HALLPASS_SESSION_CACHE_MB", "lots")
            ],
            ""
        )
        .is_err());
    }

    #[test]
    fn better_auth_secret_is_accepted() {
        let c = load(&[("BETTER_AUTH_SECRET", GOOD)], "").unwrap();
        assert_eq!(c.secret_source, SecretSource::Environment);
    }

    #[test]
    fn production_refuses_a_missing_or_weak_secret() {
        let missing = load(&[("HALLPASS_ENV", "production")], "").unwrap_err();
        assert!(missing.0.contains("HALLPASS_SECRET"), "{missing}");
        let weak = load(
            &[("HALLPASS_ENV", "production"), ("HALLPASS_SECRET", "short")],
            "",
        )
        .unwrap_err();
        assert!(weak.0.contains("too weak"), "{weak}");
        assert!(load(
            &[
                ("HALLPASS_ENV", "production"),
                ("HALLPASS_SECRET", GOOD),
                ("HALLPASS_BASE_URL", "https://auth.example.com")
            ],
            ""
        )
        .is_ok());
    }

    #[test]
    fn a_development_secret_is_generated_once_next_to_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/data/hp.db", dir.path().display());
        let first = load(&[("DATABASE_URL", &url)], "").unwrap();
        let second = load(&[("DATABASE_URL", &url)], "").unwrap();
        let path = dir.path().join("data/hallpass.secret");
        assert_eq!(first.secret_source, SecretSource::Generated(path.clone()));
        assert!(path.exists());
        assert!(first
            .secret
            .matches(&std::fs::read_to_string(&path).unwrap()));
        assert!(second
            .secret
            .matches(&std::fs::read_to_string(&path).unwrap()));
    }

    #[test]
    fn profile_fields_come_from_the_file() {
        let c = load(
            &[("HALLPASS_SECRET", GOOD)],
            "[[profile.fields]]\nkey = \"os\"\ntype = \"enum\"\nvalues = [\"linux\", \"mac\"]\nrequired = true\n",
        )
        .unwrap();
        assert_eq!(c.profile.fields().len(), 1);
        assert_eq!(c.profile.fields()[0].key, "os");
    }

    #[test]
    fn pages_are_on_by_default_and_turned_off_by_file_or_environment() {
        assert!(
            load(&[("HALLPASS_SECRET", GOOD)], "")
                .unwrap()
                .pages_enabled
        );
        let off = "[pages]\nenabled = false\n";
        assert!(
            !load(&[("HALLPASS_SECRET", GOOD)], off)
                .unwrap()
                .pages_enabled
        );
        assert!(
            !load(
                &[("HALLPASS_SECRET", GOOD), ("HALLPASS_PAGES", "false")],
                ""
            )
            .unwrap()
            .pages_enabled
        );
        assert!(
            load(
                &[("HALLPASS_SECRET", GOOD), ("HALLPASS_PAGES", "true")],
                off
            )
            .unwrap()
            .pages_enabled
        );
        assert!(load(
            &[("HALLPASS_SECRET", GOOD), ("HALLPASS_PAGES", "maybe")],
            ""
        )
        .unwrap_err()
        .0
        .contains("HALLPASS_PAGES"));
    }

    #[test]
    fn bad_values_are_named() {
        assert!(load(
            &[("HALLPASS_SECRET", GOOD), ("HALLPASS_LISTEN", "nope")],
            ""
        )
        .unwrap_err()
        .0
        .contains("HALLPASS_LISTEN"));
        assert!(load(
            &[("HALLPASS_SECRET", GOOD), ("DATABASE_URL", "mysql://x")],
            ""
        )
        .unwrap_err()
        .0
        .contains("DATABASE_URL"));
        assert!(load(&[("HALLPASS_SECRET", GOOD)], "unknown_key = 1").is_err());
        assert!(load(
            &[("HALLPASS_SECRET", GOOD)],
            "[[profile.fields]]\nkey = \"email\"\ntype = \"string\""
        )
        .is_err());
    }

    #[test]
    fn the_log_format_is_read_from_the_file_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hallpass.toml");
        std::fs::write(&path, "[log]\nformat = \"json\"\n").unwrap();
        let flags = Overrides {
            config: Some(path),
            ..Overrides::default()
        };
        assert!(log_json(&flags, &|_| None));
        assert!(!log_json(&flags, &|k| (k == "HALLPASS_LOG_FORMAT")
            .then(|| "human".into())));
        assert!(!log_json(&Overrides::default(), &|_| None));
        assert!(log_json(&Overrides::default(), &|k| {
            (k == "HALLPASS_LOG_FORMAT").then(|| "json".into())
        }));
    }

    #[test]
    fn production_refuses_an_http_base_url_unless_allowed() {
        let prod = [("HALLPASS_SECRET", GOOD), ("HALLPASS_ENV", "production")];
        let e = load(&prod, "").expect_err("an http base URL is refused");
        assert!(e.0.contains("https"), "{}", e.0);
        let mut allowed = prod.to_vec();
        allowed.push(("HALLPASS_ALLOW_HTTP", "1"));
        assert!(load(&allowed, "").is_ok());
        assert!(load(&prod, "allow_http = true").is_ok());
        let mut https = prod.to_vec();
        https.push(("HALLPASS_BASE_URL", "https://auth.example.com"));
        assert!(load(&https, "").is_ok());
    }

    #[test]
    fn production_trusts_no_development_origin_by_default() {
        let prod = [
            ("HALLPASS_SECRET", GOOD),
            ("HALLPASS_ENV", "production"),
            ("HALLPASS_BASE_URL", "https://auth.example.com"),
        ];
        assert_eq!(
            load(&prod, "").unwrap().trusted_origins,
            Vec::<String>::new()
        );
        let mut named = prod.to_vec();
        named.push(("HALLPASS_TRUSTED_ORIGINS", "https://docs.example.com"));
        assert_eq!(
            load(&named, "").unwrap().trusted_origins,
            vec!["https://docs.example.com".to_string()]
        );
    }
}

//! The command line: `hallpass serve` (the default), `migrate`, `user …`, `keys rotate`,
//! `check-config` (DESIGN.md, decision 8).

/// Prints a line on stdout; a closed pipe (`hallpass user list | head`) ends the command quietly
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

use crate::app::{self, StartError};
use crate::config::{Config, Overrides};
use clap::{Args, Parser, Subcommand};
use hallpass_core::DomainError;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// hallpass: authentication and personalization server, Better Auth compatible.
#[derive(Debug, Parser)]
#[command(name = "hallpass", version, about)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// Configuration file (default: ./hallpass.toml when present; also HALLPASS_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Database URL (overrides DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve {
        /// Address to listen on (overrides HALLPASS_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// Public URL (overrides HALLPASS_BASE_URL).
        #[arg(long)]
        base_url: Option<String>,
        /// Do not migrate the database at start-up.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Bring the database schema up to date (creates what is missing; never drops).
    Migrate {
        /// Print the SQL that would run, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage JWT signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check the configuration and the database, and say what is wrong or missing.
    CheckConfig,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user with a password (read from HALLPASS_PASSWORD, or --password).
    Create {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Password (prefer HALLPASS_PASSWORD: flags are visible to other local users).
        #[arg(long, env = "HALLPASS_PASSWORD", hide_env_values = true)]
        password: String,
        /// Profile fields, as key=value.
        #[arg(value_name = "KEY=VALUE")]
        fields: Vec<String>,
    },
    /// List users.
    List {
        /// How many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Skip this many.
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Set profile fields of a user, as key=value (an empty value clears the field).
    SetProfile {
        /// The user's email.
        email: String,
        /// Profile fields, as key=value.
        #[arg(value_name = "KEY=VALUE", required = true)]
        fields: Vec<String>,
    },
    /// Delete a user with their sessions.
    Delete {
        /// The user's email.
        email: String,
    },
    /// Print a password-reset link for a user (valid once, for the configured time), to hand
    /// over by other means than mail.
    ResetLink {
        /// The user's email.
        email: String,
        /// Where the link leads with `?token=` (default: the built-in page `/reset-password`).
        #[arg(long, default_value = "/reset-password")]
        redirect_to: String,
    },
    /// Mark a user's email address as verified.
    Verify {
        /// The user's email.
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a new signing key; older keys stay published until they expire.
    Rotate,
}

/// A failure of a command, printed to the operator.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Start-up.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A refused operation.
    #[error("{0}")]
    Domain(#[from] DomainError),
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
}

/// `key=value` pairs as profile JSON: numbers, booleans and null as such, anything else as text.
fn parse_fields(pairs: &[String]) -> Result<Map<String, Value>, CliError> {
    let mut out = Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("{p:?} is not KEY=VALUE")))?;
        let value = match v {
            "" | "null" => Value::Null,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            v => v
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(v.to_owned())),
        };
        out.insert(k.to_owned(), value);
    }
    Ok(out)
}

impl Cli {
    /// Whether logs are JSON lines, from the environment or the configuration file.
    pub fn log_json(&self) -> bool {
        let flags = Overrides {
            config: self.global.config.clone(),
            ..Overrides::default()
        };
        crate::config::log_json(&flags, &|k| std::env::var(k).ok())
    }

    /// The configuration the command runs with.
    pub fn config(&self) -> Result<Config, CliError> {
        let mut flags = Overrides {
            config: self.global.config.clone(),
            database_url: self.global.database_url.clone(),
            ..Overrides::default()
        };
        if let Some(Command::Serve {
            listen,
            base_url,
            no_migrate,
        }) = &self.command
        {
            flags.listen = listen.clone();
            flags.base_url = base_url.clone();
            flags.no_migrate = *no_migrate;
        }
        Ok(Config::load(&flags, &|k| std::env::var(k).ok())?)
    }

    /// Runs the command.
    pub async fn run(self, config: Config) -> Result<(), CliError> {
        match self.command {
            None | Some(Command::Serve { .. }) => Ok(app::serve(config).await?),
            Some(Command::Migrate { dry_run }) => migrate(&config, dry_run).await,
            Some(Command::CheckConfig) => check_config(&config).await,
            Some(Command::Keys(KeysCommand::Rotate)) => {
                let auth = open(&config).await?;
                let id = auth.keys().rotate().await.map_err(DomainError::from)?;
                say!("new signing key {id}; previous keys stay in /jwks");
                Ok(())
            }
            Some(Command::User(cmd)) => user(&config, cmd).await,
        }
    }
}

async fn open(config: &Config) -> Result<hallpass_core::AuthService, CliError> {
    let store = app::open_store(config).await?;
    store.migrate().await.map_err(DomainError::from)?;
    Ok(app::service(config, store)?)
}

async fn migrate(config: &Config, dry_run: bool) -> Result<(), CliError> {
    let store = app::open_store(config).await?;
    let plan = if dry_run {
        store.migration_plan().await
    } else {
        store.migrate().await
    }
    .map_err(DomainError::from)?;
    if plan.is_empty() {
        say!("-- the schema is up to date");
    }
    for stmt in &plan {
        say!("{stmt};");
    }
    if !dry_run && !plan.is_empty() {
        say!("-- applied {} statement(s)", plan.len());
    }
    Ok(())
}

async fn check_config(config: &Config) -> Result<(), CliError> {
    say!("listen          {}", config.listen);
    say!("base URL        {}", config.base_url);
    say!(
        "mode            {}",
        if config.production {
            "production"
        } else {
            "development"
        }
    );
    say!(
        "secret          {:?} (value not shown)",
        config.secret_source
    );
    say!("trusted origins {}", config.trusted_origins.join(", "));
    say!(
        "internal bridge {}",
        match (&config.internal_secret, config.internal_listen) {
            (None, _) => "disabled (no HALLPASS_INTERNAL_SECRET)".to_owned(),
            (Some(_), None) => "GET /internal/user on the public listener".to_owned(),
            (Some(_), Some(l)) => format!("GET /internal/user on {l} only"),
        }
    );
    let fields: Vec<&str> = config
        .profile
        .fields()
        .iter()
        .map(|f| f.key.as_str())
        .collect();
    say!("profile fields  {}", fields.join(", "));
    let rl = &config.rate_limit;
    say!(
        "rate limits     {}",
        if rl.enabled {
            format!(
                "on: sign-in/sign-up/change-password 3 per 10 s, mail 3 per 60 s, other writes {} per {} s per client; {} failed sign-ins per account per {} s; counters in {}",
                rl.max,
                rl.window,
                rl.account_failures,
                rl.account_window,
                match rl.storage {
                    crate::config::CounterStorage::Memory => "memory (this process)",
                    crate::config::CounterStorage::Database => "the database (shared)",
                }
            )
        } else {
            "off (HALLPASS_RATE_LIMIT=on, or production mode, turns them on)".to_owned()
        }
    );
    say!(
        "client address  {}",
        if config.trusted_proxies.is_empty() {
            "the TCP peer (no HALLPASS_TRUSTED_PROXIES: X-Forwarded-For is ignored)".to_owned()
        } else {
            format!(
                "X-Forwarded-For from {} proxy block(s) in HALLPASS_TRUSTED_PROXIES, else the TCP peer",
                config.trusted_proxies.len()
            )
        }
    );
    let sv = &config.server;
    say!(
        "connections     head within {} s (also the idle keep-alive limit), answer within {} s, {} open and {} requests in flight at most",
        sv.header_timeout, sv.request_timeout, sv.max_connections, sv.max_requests
    );
    say!(
        "built-in pages  {}",
        if config.pages_enabled {
            "enabled (/, /sign-in, /sign-up, /profile)"
        } else {
            "disabled"
        }
    );
    let store = app::open_store(config).await?;
    store.ping().await.map_err(DomainError::from)?;
    say!("database        {} reachable", store.backend());
    let plan = store.migration_plan().await.map_err(DomainError::from)?;
    if plan.is_empty() {
        say!("schema          up to date");
    } else {
        say!(
            "schema          {} statement(s) missing (run `hallpass migrate`):",
            plan.len()
        );
        for stmt in plan {
            say!("  {stmt};");
        }
    }
    Ok(())
}

async fn user(config: &Config, cmd: UserCommand) -> Result<(), CliError> {
    let auth = open(config).await?;
    match cmd {
        UserCommand::Create {
            email,
            name,
            password,
            fields,
        } => {
            let u = auth
                .admin_create_user(&name, &email, &password, &parse_fields(&fields)?)
                .await?;
            say!("{}", u.to_json());
        }
        UserCommand::List { limit, offset } => {
            for u in auth
                .store()
                .list_users(limit, offset)
                .await
                .map_err(DomainError::from)?
            {
                say!("{}", u.to_json());
            }
        }
        UserCommand::SetProfile { email, fields } => {
            let u = auth.user_by_email(&email).await?;
            let u = auth.set_profile(&u.id, &parse_fields(&fields)?).await?;
            say!("{}", u.to_json());
        }
        UserCommand::Delete { email } => {
            let u = auth.user_by_email(&email).await?;
            auth.delete_user(&u.id).await?;
            say!("deleted {}", u.email);
        }
        UserCommand::ResetLink { email, redirect_to } => {
            auth.user_by_email(&email).await?;
            let found = auth
                .request_password_reset(&email)
                .await?
                .ok_or(DomainError::UserNotFound)?;
            say!(
                "{}/api/auth/reset-password/{}?callbackURL={}",
                config.base_url.as_str().trim_end_matches('/'),
                found.token,
                crate::http::cookies::encode_uri_component(&redirect_to)
            );
        }
        UserCommand::Verify { email } => {
            let u = auth.mark_verified(&email).await?;
            say!("{}", u.to_json());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values_are_typed() {
        let m = parse_fields(&[
            "a=beginner".into(),
            "b=3".into(),
            "c=true".into(),
            "d=".into(),
        ])
        .unwrap();
        assert_eq!(
            Value::Object(m),
            serde_json::json!({"a":"beginner","b":3,"c":true,"d":null})
        );
        assert!(parse_fields(&["novalue".into()]).is_err());
    }
}

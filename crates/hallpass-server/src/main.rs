//! The `hallpass` binary.

use clap::Parser;
use hallpass_server::cli::Cli;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn init_logs(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = std::env::var("HALLPASS_LOG_FORMAT").is_ok_and(|f| f == "json");
    init_logs(json);
    let config = match cli.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hallpass: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hallpass: {e}");
            ExitCode::FAILURE
        }
    }
}

//! The `hallpass` binary.

use clap::Parser;
use hallpass_server::cli::Cli;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn init_logs(json: bool) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, never in a file or a pipe.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
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
    init_logs(cli.log_json());
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

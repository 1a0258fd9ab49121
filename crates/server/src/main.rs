//! `convene-server` binary: parses the command line and runs the server.

use clap::Parser;
use convene_server::{Cli, ServerConfig};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let config = match ServerConfig::from_cli(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("convene-server: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(cli.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("convene-server: cannot bind {}: {e}", cli.bind);
            return std::process::ExitCode::from(1);
        }
    };
    let dev = config.dev;
    let server = match convene_server::start(config, listener).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("convene-server: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    tracing::info!(addr = %server.addr, dev, "listening");
    if dev {
        println!("Demo: http://{}", server.addr);
    }
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    std::process::ExitCode::SUCCESS
}

//! `prospector-evaluator`: the ranked anomaly catalogue, its gRPC API and web console.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// The Prospector evaluator service.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Configuration file (TOML); else $PROSPECTOR_CONFIG, else built-in defaults.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match prospector_config::ServiceConfig::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("prospector-evaluator: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = prospector_telemetry::init_tracing("evaluator", config.telemetry.log_format) {
        eprintln!("prospector-evaluator: {e}");
        return ExitCode::from(2);
    }
    match prospector_evaluator::run(config, prospector_bus::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "evaluator stopped");
            eprintln!("prospector-evaluator: {e}");
            ExitCode::FAILURE
        }
    }
}

//! The `main` of every service binary: parse `--config`, load the configuration, set up
//! logging, run until SIGTERM, and turn the outcome into an exit code.

use clap::{CommandFactory, FromArgMatches, Parser};
use prospector_config::ServiceConfig;
use std::fmt::Display;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code of a service whose configuration (file, environment, logging) is unusable:
/// the same as a wrong command line, since nothing was started.
const EXIT_CONFIGURATION: u8 = 2;

#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Configuration file (TOML); else $PROSPECTOR_CONFIG, else built-in defaults.
    /// `PROSPECTOR_*` environment variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Runs service `binary` (`prospector-tiler`, ...-extractor, ...-scorer,
/// ...-evaluator): `run` gets the configuration and should return once `prospector_bus::shutdown_signal` resolves.
/// Exits 0 after a clean stop, 2 for an unusable configuration, 1 when the service
/// stopped on an error (printed, and logged).
pub async fn service_main<Fut, E>(
    binary: &'static str,
    about: &'static str,
    run: impl FnOnce(ServiceConfig) -> Fut,
) -> ExitCode
where
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    // The service's name in logs and metrics.
    let name = binary.trim_start_matches("prospector-");
    let matches = Args::command().name(binary).about(about).get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    let config = match ServiceConfig::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{binary}: configuration: {e}");
            return ExitCode::from(EXIT_CONFIGURATION);
        }
    };
    let tracing = match prospector_telemetry::init_tracing(
        name,
        config.telemetry.log_format,
        config.telemetry.otlp_endpoint.as_deref(),
    ) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{binary}: {e}");
            return ExitCode::from(EXIT_CONFIGURATION);
        }
    };
    let code = match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "{name} stopped");
            eprintln!("{binary}: {e}");
            ExitCode::FAILURE
        }
    };
    // Flushing waits on the collector over gRPC, which needs the runtime's workers.
    if tokio::task::spawn_blocking(move || tracing.shutdown())
        .await
        .is_err()
    {
        eprintln!("{binary}: flushing exported spans failed");
    }
    code
}

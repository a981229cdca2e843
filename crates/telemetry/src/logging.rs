//! Log output: JSON lines for services (what log collectors parse), pretty for people.

use crate::TelemetryError;
use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, with the fields of the current span and its parents
    /// (so `image_id` and `source_id` from the stage runner's span appear on every line).
    #[default]
    Json,
    /// Human-readable, coloured when stderr is a terminal.
    Pretty,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Self::Json),
            "pretty" => Ok(Self::Pretty),
            other => Err(format!(
                "unknown log format `{other}` (expected json or pretty)"
            )),
        }
    }
}

/// Installs the process-wide tracing subscriber, filtered by `RUST_LOG` (default `info`).
/// `service` is recorded in the first log line so a log stream names its producer.
pub fn init_tracing(service: &str, format: LogFormat) -> Result<(), TelemetryError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) => EnvFilter::try_new(&spec)
            .map_err(|e| TelemetryError::LogFilter(format!("`{spec}`: {e}")))?,
        Err(_) => EnvFilter::new("info"),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
        LogFormat::Pretty => builder.pretty().try_init(),
    };
    installed.map_err(|_| TelemetryError::SubscriberAlreadySet)?;
    tracing::info!(
        service,
        version = env!("CARGO_PKG_VERSION"),
        "tracing started"
    );
    Ok(())
}

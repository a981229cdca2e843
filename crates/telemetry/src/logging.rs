//! Log output: JSON lines for services (what log collectors parse), pretty for people;
//! with the `otlp` feature, spans also exported to an OpenTelemetry collector.

use crate::TelemetryError;
use serde::Deserialize;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

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

/// Keeps span export running; [`TracingGuard::shutdown`] flushes the spans not yet
/// sent. Dropping it without shutting down loses at most the last batch.
#[derive(Debug)]
#[must_use = "spans are flushed by TracingGuard::shutdown"]
pub struct TracingGuard {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl TracingGuard {
    /// Exports the spans still buffered and stops the exporter. Blocks until the
    /// collector answered or the export timed out: call it off the async workers
    /// (`spawn_blocking`) in a service.
    pub fn shutdown(self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider {
            if let Err(e) = provider.shutdown() {
                eprintln!("OTLP span export did not flush: {e}");
            }
        }
    }
}

/// Installs the process-wide tracing subscriber, filtered by `RUST_LOG` (default `info`).
/// `service` is recorded in the first log line so a log stream names its producer, and
/// names the service in exported spans. With `otlp_endpoint`, spans are exported there
/// over OTLP/gRPC (feature `otlp`; call inside a Tokio runtime); a binary built without
/// the feature refuses the endpoint instead of dropping the traces unannounced.
pub fn init_tracing(
    service: &str,
    format: LogFormat,
    otlp_endpoint: Option<&str>,
) -> Result<TracingGuard, TelemetryError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) => EnvFilter::try_new(&spec)
            .map_err(|e| TelemetryError::LogFilter(format!("`{spec}`: {e}")))?,
        Err(_) => EnvFilter::new("info"),
    };
    let log_lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let log_lines = match format {
        LogFormat::Json => log_lines
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
        LogFormat::Pretty => log_lines.pretty().boxed(),
    };
    let subscriber = tracing_subscriber::registry().with(filter).with(log_lines);

    #[cfg(feature = "otlp")]
    let guard = {
        let (export, provider) = match otlp_endpoint {
            Some(endpoint) => {
                let (layer, provider) = crate::otlp::layer(service, endpoint)?;
                (Some(layer), Some(provider))
            }
            None => (None, None),
        };
        subscriber
            .with(export)
            .try_init()
            .map_err(|_| TelemetryError::SubscriberAlreadySet)?;
        TracingGuard { provider }
    };
    #[cfg(not(feature = "otlp"))]
    let guard = {
        if let Some(endpoint) = otlp_endpoint {
            return Err(TelemetryError::Otlp(format!(
                "telemetry.otlp_endpoint is `{endpoint}` but this binary was built without the `otlp` feature"
            )));
        }
        subscriber
            .try_init()
            .map_err(|_| TelemetryError::SubscriberAlreadySet)?;
        TracingGuard {}
    };
    tracing::info!(
        service,
        version = env!("CARGO_PKG_VERSION"),
        otlp_endpoint,
        "tracing started"
    );
    Ok(guard)
}

/// The `(trace id, span id, sampled)` under which `span` is exported: for a span that
/// starts a trace (a submission), what the messages it causes carry as `traceparent`.
/// `None` when spans are not exported.
pub fn exported_ids(span: &tracing::Span) -> Option<(u128, u64, bool)> {
    #[cfg(feature = "otlp")]
    {
        crate::otlp::exported_ids(span)
    }
    #[cfg(not(feature = "otlp"))]
    {
        let _ = span;
        None
    }
}

/// Joins `span` to the trace of the message it handles, whose producer's span was
/// `parent_span_id`, and returns the id under which `span` is exported: the parent
/// that messages published on its behalf must name so the trace stays one tree.
/// `None` when spans are not exported (no `otlp` feature, or no endpoint configured);
/// the caller then makes up its own child span ids, which only logs will see.
pub fn continue_trace(
    span: &tracing::Span,
    trace_id: u128,
    parent_span_id: u64,
    sampled: bool,
) -> Option<u64> {
    #[cfg(feature = "otlp")]
    {
        crate::otlp::continue_trace(span, trace_id, parent_span_id, sampled)
    }
    #[cfg(not(feature = "otlp"))]
    {
        let _ = (span, trace_id, parent_span_id, sampled);
        None
    }
}

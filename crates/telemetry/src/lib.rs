//! Observability shared by every Prospector service: tracing set-up ([`init_tracing`],
//! JSON logs, and with the `otlp` feature span export joined to the `traceparent` that
//! messages carry: [`continue_trace`]),
//! the Prometheus metrics whose names the Grafana dashboard and alert rules rely on
//! ([`Metrics`]), and the small HTTP server that exposes `/metrics`, `/healthz` and
//! `/readyz` ([`HttpServer`]).
//!
//! The metrics use the `prometheus` crate rather than `prometheus-client`: it writes the
//! classic text exposition (format 0.0.4) that every Prometheus version scrapes and that
//! `promtool check metrics` lints, and its label vectors take label values at run time,
//! which suits per-stage and per-consumer series named from configuration.

mod error;
mod logging;
mod metrics;
#[cfg(feature = "otlp")]
mod otlp;
mod server;

pub use error::TelemetryError;
pub use logging::{continue_trace, exported_ids, init_tracing, LogFormat, TracingGuard};
pub use metrics::{
    ConsumerMetrics, EvaluatorMetrics, Metrics, Outcome, ScorerMetrics, StageMetrics, METRIC_NAMES,
};
pub use server::{HttpServer, Readiness};

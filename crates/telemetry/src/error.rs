use std::net::SocketAddr;

/// What can go wrong setting up telemetry.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("RUST_LOG filter is invalid: {0}")]
    LogFilter(String),
    #[error("a tracing subscriber is already installed in this process")]
    SubscriberAlreadySet,
    #[error("OTLP span export: {0}")]
    Otlp(String),
    #[error("metric registration failed: {0}")]
    Registration(#[from] prometheus::Error),
    #[error("cannot listen for /metrics on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the /metrics server stopped: {0}")]
    Serve(std::io::Error),
}

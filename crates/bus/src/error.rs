/// What can go wrong on the bus. Every variant names the server, stream, consumer or
/// subject involved so an operator can act on the message alone.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to NATS at {servers}: {source}{hint}")]
    Connect {
        servers: String,
        source: async_nats::ConnectError,
        /// What to check, given the error and the settings (may be empty).
        hint: &'static str,
    },
    #[error("NATS connection settings are invalid: {0}")]
    Config(String),
    #[error("cannot read NATS credentials file {path}: {source}")]
    Credentials {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot {action} {kind} `{name}`: {message}")]
    Topology {
        action: &'static str,
        kind: &'static str,
        name: String,
        message: String,
    },
    #[error("durable consumer `{consumer}` on stream `{stream}` is not available (is the topology created?): {message}")]
    Consumer {
        stream: String,
        consumer: String,
        message: String,
    },
    #[error("pulling from consumer `{consumer}` failed: {message}")]
    Fetch { consumer: String, message: String },
    #[error("publishing to `{subject}` failed: {message}")]
    Publish { subject: String, message: String },
    /// A message exceeds the server's `max_payload` or the stream's maximum message size:
    /// publishing the same message again cannot succeed.
    #[error("message for `{subject}` is too large: {message}")]
    TooLarge { subject: String, message: String },
    /// The destination is full (a bounded stream refusing new messages) or the server
    /// did not answer in time: not the message's fault, so the runner waits and retries
    /// the publish in place instead of spending the message's deliveries.
    #[error("`{subject}` cannot take more messages now: {message}")]
    Backpressure { subject: String, message: String },
    #[error("acknowledging a message from `{subject}` failed: {message}")]
    Ack { subject: String, message: String },
    #[error("no consumer `{0}` is declared in the topology")]
    UnknownConsumer(String),
}

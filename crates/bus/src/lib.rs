//! Prospector's transport layer: the one place that declares the JetStream topology
//! ([`topology`]), the generic stage runner every service is built on ([`StageRunner`]),
//! and two interchangeable buses: [`NatsBus`] (JetStream, distributed mode) and
//! [`InProcessBus`] (bounded tokio channels, the embedded `prospector run`).
//!
//! A stage is domain logic behind one async function: it receives a decoded bus message
//! and returns the messages to publish ([`Stage`]). The runner owns everything about the
//! wire: at-least-once delivery (outputs confirmed before the input is acknowledged),
//! in-progress acknowledgements while a slow handler runs, redelivery with backoff on a
//! transient error, dead letters with a reason on a permanent one, content-derived
//! `Nats-Msg-Id`s so a republished duplicate is dropped, W3C trace context in headers,
//! and a tracing span per message carrying the image and source ids.

mod config;
mod error;
mod headers;
mod in_process;
mod message;
mod nats;
mod runner;
mod shutdown;
mod subject;
pub mod topology;
mod trace;
mod transport;

pub use config::{NatsConfig, TlsConfig};
pub use error::BusError;
pub use headers::{IMAGE_ID_HEADER, MSG_ID_HEADER, SOURCE_ID_HEADER, TRACEPARENT_HEADER};
pub use in_process::{InProcessBus, InProcessDelivery, InProcessSubscription};
pub use message::{decode, BusMessage, DecodeError, Outgoing};
pub use nats::{NatsBus, NatsDelivery, NatsSubscription};
pub use runner::{DeadLetterReason, Incoming, RunnerConfig, Stage, StageError, StageRunner};
pub use shutdown::shutdown_signal;
pub use topology::{
    Applied, Change, ConsumerSpec, Discard, Retention, Storage, StreamSpec, Topology,
    TopologyConfig,
};
pub use trace::TraceContext;
pub use transport::{Bus, Delivery, PublishReceipt, Subscription};

/// Re-exported so services name the same cancellation type the runner takes.
pub use tokio_util::sync::CancellationToken;

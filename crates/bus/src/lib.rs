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
//!
//! A service is then a few lines:
//!
//! ```no_run
//! use prospector_bus::topology::{consumers, subjects};
//! use prospector_bus::{
//!     shutdown_signal, CancellationToken, Incoming, NatsBus, NatsConfig, Outgoing, Stage,
//!     StageError, StageRunner, Topology,
//! };
//! use prospector_proto::v1::{Cutout, Score};
//! use std::sync::Arc;
//!
//! struct Scorer;
//!
//! impl Stage for Scorer {
//!     type Input = Cutout;
//!
//!     async fn handle(&self, input: Incoming<Cutout>) -> Result<Vec<Outgoing>, StageError> {
//!         let score = Score {
//!             schema_version: prospector_proto::SCHEMA_VERSION,
//!             source_id: input.message.source_id,
//!             image_id: input.message.image_id,
//!             ..Default::default()
//!         };
//!         Ok(vec![Outgoing::new(subjects::SCORES, &score)])
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let metrics = prospector_telemetry::Metrics::new("scorer", env!("CARGO_PKG_VERSION"))?;
//! let topology = Topology::default();
//! let bus = NatsBus::connect(&NatsConfig::default(), "scorer").await?;
//! bus.ensure_consumer(&topology, consumers::SCORER).await?;
//! let runner = StageRunner::new(
//!     bus,
//!     topology.consumer(consumers::SCORER)?.clone(),
//!     Arc::new(Scorer),
//!     &metrics,
//! );
//! let shutdown = CancellationToken::new();
//! tokio::spawn({
//!     let shutdown = shutdown.clone();
//!     async move {
//!         shutdown_signal().await;
//!         shutdown.cancel();
//!     }
//! });
//! runner.run(shutdown).await?;
//! # Ok(())
//! # }
//! ```

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

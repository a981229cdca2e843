//! What the stage runner needs from a bus. [`crate::NatsBus`] and
//! [`crate::InProcessBus`] implement it, so the stage logic and the runner are one code
//! path in both modes.

use crate::topology::ConsumerSpec;
use crate::{BusError, Outgoing};
use std::future::Future;
use std::time::Duration;

/// The server's answer to one publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReceipt {
    pub subject: String,
    /// Stream sequence of the stored message (of the original, for a duplicate).
    pub sequence: u64,
    /// True when the message id was seen within the duplicate window: nothing stored.
    pub duplicate: bool,
}

/// A message bus: publishes with confirmation, hands out durable subscriptions.
pub trait Bus: Clone + Send + Sync + 'static {
    type Subscription: Subscription;

    /// Publishes every message and returns once the bus has confirmed all of them
    /// (JetStream publish acks), in order. An error means some may not be stored:
    /// republishing is safe thanks to the message ids.
    fn publish(
        &self,
        messages: Vec<Outgoing>,
    ) -> impl Future<Output = Result<Vec<PublishReceipt>, BusError>> + Send;

    /// Binds to the declared durable consumer (it must exist: see the topology).
    fn subscribe(
        &self,
        consumer: &ConsumerSpec,
    ) -> impl Future<Output = Result<Self::Subscription, BusError>> + Send;
}

/// A worker's handle on a durable consumer.
pub trait Subscription: Send + 'static {
    type Delivery: Delivery;

    /// Waits up to `idle` for a first message, then up to `max_wait` for more, returning
    /// at most `max` (possibly none, when idle).
    fn next_batch(
        &mut self,
        max: usize,
        max_wait: Duration,
        idle: Duration,
    ) -> impl Future<Output = Result<Vec<Self::Delivery>, BusError>> + Send;
}

/// One delivered message and its acknowledgement channel.
pub trait Delivery: Send + Sync + 'static {
    fn subject(&self) -> &str;
    fn payload(&self) -> &[u8];
    fn header(&self, name: &str) -> Option<&str>;
    /// 1 on first delivery.
    fn deliveries(&self) -> u64;
    /// A stable id of the stored message (stream and sequence), for dead-letter ids.
    fn id(&self) -> String;
    /// Done: the bus will not deliver it again (an ack lost on the way means one
    /// redelivery, whose repeated outputs the message ids make harmless).
    fn ack(&self) -> impl Future<Output = Result<(), BusError>> + Send;
    /// Failed for now: deliver again after `delay`.
    fn nak(&self, delay: Duration) -> impl Future<Output = Result<(), BusError>> + Send;
    /// Still working: restart the ack-wait timer.
    fn in_progress(&self) -> impl Future<Output = Result<(), BusError>> + Send;
    /// Never deliver again (it has been dead-lettered).
    fn term(&self) -> impl Future<Output = Result<(), BusError>> + Send;
}

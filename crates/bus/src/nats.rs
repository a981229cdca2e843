//! [`NatsBus`]: the bus on NATS JetStream (distributed mode).

mod connect;
mod topology;

use crate::headers::{IMAGE_ID_HEADER, MSG_ID_HEADER, SOURCE_ID_HEADER, TRACEPARENT_HEADER};
use crate::topology::ConsumerSpec;
use crate::{Bus, BusError, Delivery, Outgoing, PublishReceipt, Subscription};
use async_nats::jetstream::{self, consumer::PullConsumer, AckKind};
use futures::StreamExt;
use prospector_telemetry::Metrics;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A connection to NATS with its JetStream context. Cheap to clone.
#[derive(Clone, Debug)]
pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
}

impl NatsBus {
    /// The underlying client (core NATS: request/reply, plain subscriptions).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The JetStream context (KV, object store, stream queries).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// A declared KV bucket (see [`crate::topology::buckets`]).
    pub async fn key_value(&self, bucket: &str) -> Result<jetstream::kv::Store, BusError> {
        self.jetstream
            .get_key_value(bucket)
            .await
            .map_err(|e| topology_error("open", "kv bucket", bucket, e))
    }

    /// A declared object store (see [`crate::topology::buckets`]).
    pub async fn object_store(
        &self,
        bucket: &str,
    ) -> Result<jetstream::object_store::ObjectStore, BusError> {
        self.jetstream
            .get_object_store(bucket)
            .await
            .map_err(|e| topology_error("open", "object store", bucket, e))
    }

    /// Polls each consumer's info every `every` and sets
    /// `prospector_consumer_{pending,ack_pending,redelivered}_messages`. The figures are
    /// the server's (the stream leader's), the same whichever replica asks.
    pub fn spawn_consumer_metrics(
        &self,
        metrics: &Metrics,
        consumers: &[ConsumerSpec],
        every: Duration,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let watched: Vec<_> = consumers
            .iter()
            .map(|c| (c.clone(), metrics.consumer(&c.stream, &c.durable)))
            .collect();
        let jetstream = self.jetstream.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = ticker.tick() => {}
                }
                for (spec, gauges) in &watched {
                    match consumer_info(&jetstream, spec).await {
                        Ok(info) => gauges.set(
                            info.num_pending,
                            info.num_ack_pending as u64,
                            info.num_redelivered as u64,
                        ),
                        Err(e) => tracing::warn!(error = %e, "reading consumer lag failed"),
                    }
                }
            }
        })
    }
}

async fn consumer_info(
    jetstream: &jetstream::Context,
    spec: &ConsumerSpec,
) -> Result<jetstream::consumer::Info, BusError> {
    let consumer_error = |message: String| BusError::Consumer {
        stream: spec.stream.clone(),
        consumer: spec.durable.clone(),
        message,
    };
    let stream = jetstream
        .get_stream(&spec.stream)
        .await
        .map_err(|e| consumer_error(e.to_string()))?;
    stream
        .consumer_info(&spec.durable)
        .await
        .map_err(|e| consumer_error(e.to_string()))
}

/// Sorts a publish failure into backpressure (retry later, in place) or a failure.
fn publish_error(subject: &str, error: jetstream::context::PublishError) -> BusError {
    use jetstream::context::PublishErrorKind;
    let message = error.to_string();
    // A bounded stream with `discard: new` refuses with "maximum messages/bytes exceeded".
    let full = message.contains("maximum messages") || message.contains("maximum bytes");
    let subject = subject.to_owned();
    // A stream's `max_message_size` refuses with "message size exceeds maximum allowed".
    let too_large = message.contains("message size exceeds maximum");
    match error.kind() {
        PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::MaxAckPending => BusError::Backpressure { subject, message },
        PublishErrorKind::MaxPayloadExceeded => BusError::TooLarge { subject, message },
        PublishErrorKind::Other if too_large => BusError::TooLarge { subject, message },
        PublishErrorKind::Other if full => BusError::Backpressure { subject, message },
        _ => BusError::Publish { subject, message },
    }
}

pub(crate) fn topology_error(
    action: &'static str,
    kind: &'static str,
    name: &str,
    error: impl std::fmt::Display,
) -> BusError {
    BusError::Topology {
        action,
        kind,
        name: name.to_owned(),
        message: error.to_string(),
    }
}

impl Bus for NatsBus {
    type Subscription = NatsSubscription;

    async fn publish(&self, messages: Vec<Outgoing>) -> Result<Vec<PublishReceipt>, BusError> {
        // Send everything first, then collect the acks: one round trip for the batch.
        let mut pending = Vec::with_capacity(messages.len());
        for message in messages {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(MSG_ID_HEADER, message.msg_id.as_str());
            if !message.image_id.is_empty() {
                headers.insert(IMAGE_ID_HEADER, message.image_id.as_str());
            }
            if let Some(source_id) = &message.source_id {
                headers.insert(SOURCE_ID_HEADER, source_id.as_str());
            }
            if let Some(traceparent) = &message.traceparent {
                headers.insert(TRACEPARENT_HEADER, traceparent.as_str());
            }
            let ack = self
                .jetstream
                .publish_with_headers(message.subject.clone(), headers, message.payload)
                .await
                .map_err(|e| publish_error(&message.subject, e))?;
            pending.push((message.subject, ack));
        }
        let mut receipts = Vec::with_capacity(pending.len());
        for (subject, ack) in pending {
            let ack = ack.await.map_err(|e| publish_error(&subject, e))?;
            receipts.push(PublishReceipt {
                subject,
                sequence: ack.sequence,
                duplicate: ack.duplicate,
            });
        }
        Ok(receipts)
    }

    async fn subscribe(&self, spec: &ConsumerSpec) -> Result<NatsSubscription, BusError> {
        let consumer_error = |message: String| BusError::Consumer {
            stream: spec.stream.clone(),
            consumer: spec.durable.clone(),
            message,
        };
        let stream = self
            .jetstream
            .get_stream(&spec.stream)
            .await
            .map_err(|e| consumer_error(e.to_string()))?;
        let consumer: PullConsumer = stream
            .get_consumer(&spec.durable)
            .await
            .map_err(|e| consumer_error(e.to_string()))?;
        Ok(NatsSubscription {
            consumer,
            durable: spec.durable.clone(),
        })
    }
}

/// A worker's pull subscription on a durable consumer.
#[derive(Debug)]
pub struct NatsSubscription {
    consumer: PullConsumer,
    durable: String,
}

impl NatsSubscription {
    /// One pull request: up to `max` messages, waiting at most `expires`.
    async fn pull(&self, max: usize, expires: Duration) -> Result<Vec<NatsDelivery>, BusError> {
        let fetch_error = |e: &dyn std::fmt::Display| BusError::Fetch {
            consumer: self.durable.clone(),
            message: e.to_string(),
        };
        let mut batch = self
            .consumer
            .batch()
            .max_messages(max)
            .expires(expires)
            .messages()
            .await
            .map_err(|e| fetch_error(&e))?;
        let mut deliveries = Vec::with_capacity(max);
        while let Some(item) = batch.next().await {
            match item {
                Ok(message) => deliveries.push(NatsDelivery::new(message)),
                // A status (timeout, leadership change) ends this pull; what arrived stands.
                Err(e) if !deliveries.is_empty() => {
                    tracing::debug!(error = %e, consumer = %self.durable, "pull ended early");
                    break;
                }
                Err(e) => return Err(fetch_error(&e)),
            }
        }
        Ok(deliveries)
    }
}

impl Subscription for NatsSubscription {
    type Delivery = NatsDelivery;

    async fn next_batch(
        &mut self,
        max: usize,
        max_wait: Duration,
        idle: Duration,
    ) -> Result<Vec<NatsDelivery>, BusError> {
        // Two pulls, so an idle worker waits in one long request rather than polling
        // every `max_wait`, and a batch is never held open longer than `max_wait`
        // after its first message.
        let mut batch = self.pull(1, idle).await?;
        if batch.is_empty() || max <= 1 {
            return Ok(batch);
        }
        batch.extend(self.pull(max - 1, max_wait).await?);
        Ok(batch)
    }
}

/// A message delivered by JetStream.
#[derive(Debug)]
pub struct NatsDelivery {
    message: jetstream::Message,
    deliveries: u64,
    id: String,
}

impl NatsDelivery {
    fn new(message: jetstream::Message) -> Self {
        let (deliveries, id) = match message.info() {
            Ok(info) => (
                u64::try_from(info.delivered).unwrap_or(1),
                format!("{}/{}", info.stream, info.stream_sequence),
            ),
            Err(_) => (1, format!("{}/unknown", message.subject)),
        };
        Self {
            message,
            deliveries,
            id,
        }
    }

    async fn acknowledge(&self, kind: AckKind, confirmed: bool) -> Result<(), BusError> {
        let result = if confirmed {
            self.message.double_ack_with(kind).await
        } else {
            self.message.ack_with(kind).await
        };
        result.map_err(|e| BusError::Ack {
            subject: self.message.subject.to_string(),
            message: e.to_string(),
        })
    }
}

impl Delivery for NatsDelivery {
    fn subject(&self) -> &str {
        self.message.subject.as_str()
    }

    fn payload(&self) -> &[u8] {
        &self.message.payload
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.message.headers.as_ref()?.get(name).map(|v| v.as_str())
    }

    fn deliveries(&self) -> u64 {
        self.deliveries
    }

    fn id(&self) -> String {
        self.id.clone()
    }

    /// Not waited for (unlike `term`): a lost ack only means a redelivery whose outputs
    /// the duplicate window drops, and waiting for each confirmation cost a quarter of
    /// the throughput (tests/benches/bus_throughput.rs).
    async fn ack(&self) -> Result<(), BusError> {
        self.acknowledge(AckKind::Ack, false).await
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        self.acknowledge(AckKind::Nak(Some(delay)), false).await
    }

    async fn in_progress(&self) -> Result<(), BusError> {
        self.acknowledge(AckKind::Progress, false).await
    }

    async fn term(&self) -> Result<(), BusError> {
        self.acknowledge(AckKind::Term, true).await
    }
}

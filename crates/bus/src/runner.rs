//! The stage runner: one generic worker loop shared by every service and both buses.
//!
//! For each batch pulled from a durable consumer it decodes the inputs (dead-lettering
//! what cannot be decoded or is from a newer schema), calls the stage, publishes the
//! outputs and waits for the bus to confirm them, and only then acknowledges the inputs:
//! at-least-once on the wire, made exactly-once in the results by content-derived
//! message ids. While the stage (or the publish) runs it marks the inputs in progress so
//! the server does not hand them to another worker. A transient error NAKs with
//! exponential backoff; a permanent error, or the last allowed delivery failing, sends a
//! `DeadLetter` to `prospector.dead.<stage>` and terminates the message. Nothing a single
//! message does stops the loop.

use crate::headers::{IMAGE_ID_HEADER, SOURCE_ID_HEADER, TRACEPARENT_HEADER};
use crate::message::decode;
use crate::topology::{subjects, ConsumerSpec};
use crate::{
    Bus, BusError, BusMessage, DecodeError, Delivery, Outgoing, Subscription, TraceContext,
};
use futures::future::join_all;
use prospector_proto::v1::DeadLetter;
use prospector_proto::SCHEMA_VERSION;
use prospector_telemetry::{Metrics, Outcome, StageMetrics};
use serde::Deserialize;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Why a stage could not process a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// Worth retrying (a dependency unavailable, a full downstream queue): the message is
    /// redelivered after a backoff, and dead-lettered once it has used its deliveries.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying cannot help (the message itself is wrong): dead-lettered at once.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl StageError {
    pub fn transient(reason: impl std::fmt::Display) -> Self {
        Self::Transient(reason.to_string())
    }

    pub fn permanent(reason: impl std::fmt::Display) -> Self {
        Self::Permanent(reason.to_string())
    }
}

/// Why a message was dead-lettered: the `reason` label of
/// `prospector_dead_letters_total` (the full text is in the `DeadLetter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterReason {
    /// The payload is not a protobuf of the stage's input type.
    Undecodable,
    /// `schema_version` missing or newer than this build.
    SchemaVersion,
    /// The stage returned [`StageError::Permanent`].
    Permanent,
    /// Every allowed delivery failed (or crashed its worker).
    MaxDeliveries,
    /// The stage's outputs exceed the server's or the stream's message size limit.
    OutputTooLarge,
}

impl DeadLetterReason {
    pub fn as_label(self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable",
            Self::SchemaVersion => "schema_version",
            Self::Permanent => "permanent",
            Self::MaxDeliveries => "max_deliveries",
            Self::OutputTooLarge => "output_too_large",
        }
    }
}

impl From<&DecodeError> for DeadLetterReason {
    fn from(error: &DecodeError) -> Self {
        match error {
            DecodeError::Undecodable { .. } => Self::Undecodable,
            DecodeError::MissingSchemaVersion | DecodeError::FutureSchemaVersion { .. } => {
                Self::SchemaVersion
            }
        }
    }
}

/// A decoded input handed to a stage.
#[derive(Debug)]
pub struct Incoming<M> {
    pub message: M,
    pub subject: String,
    /// 1 on first delivery.
    pub deliveries: u64,
    /// The runner's span for this message (fields: stage, subject, image_id, source_id,
    /// trace_id, deliveries). A batching stage enters it to log about one message.
    pub span: tracing::Span,
}

/// Domain logic behind the bus: turns one input into the messages to publish.
pub trait Stage: Send + Sync + 'static {
    type Input: BusMessage;

    /// Handles one message. Outputs are published (and confirmed) before the input is
    /// acknowledged; a redelivered input must yield the same outputs (ids are
    /// content-derived) so the duplicates are dropped.
    fn handle(
        &self,
        input: Incoming<Self::Input>,
    ) -> impl Future<Output = Result<Vec<Outgoing>, StageError>> + Send;

    /// Handles a batch (up to [`RunnerConfig::max_batch`] messages), returning one result
    /// per input, in order. The default calls [`Stage::handle`] for each in turn; the
    /// scorer overrides it to run one forward pass over the batch.
    fn handle_batch(
        &self,
        batch: Vec<Incoming<Self::Input>>,
    ) -> impl Future<Output = Vec<Result<Vec<Outgoing>, StageError>>> + Send {
        async move {
            let mut results = Vec::with_capacity(batch.len());
            for input in batch {
                let span = input.span.clone();
                results.push(self.handle(input).instrument(span).await);
            }
            results
        }
    }

    /// Messages to publish together with the dead letter of an input of image `image_id`
    /// that the runner gives up on (rejected as permanent, out of deliveries, its output
    /// refused), so that downstream learns the image cannot complete (e.g. a failure
    /// progress event). Not called when the input carries no image id. Default: none.
    fn dead_lettered(&self, image_id: &str, reason: &str) -> Vec<Outgoing> {
        let _ = (image_id, reason);
        Vec::new()
    }
}

/// How a runner pulls and retries (serde, so services read it from their config).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunnerConfig {
    /// Most messages handed to the stage at once (1 = no batching).
    pub max_batch: usize,
    /// How long a batch may wait for more messages after its first.
    #[serde(with = "humantime_serde")]
    pub max_wait: Duration,
    /// How long one pull waits for a first message; also the most a shutdown waits
    /// for an idle worker.
    #[serde(with = "humantime_serde")]
    pub idle_poll: Duration,
    /// How often in-progress acks are sent while a batch is worked on (default: a third
    /// of the consumer's ack wait).
    #[serde(with = "humantime_serde")]
    pub progress_interval: Option<Duration>,
    /// A batch still running after this is treated as a transient failure.
    #[serde(with = "humantime_serde")]
    pub handler_timeout: Option<Duration>,
    /// First redelivery delay after a transient error; doubles per delivery.
    #[serde(with = "humantime_serde")]
    pub retry_backoff: Duration,
    #[serde(with = "humantime_serde")]
    pub retry_backoff_max: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            max_batch: 1,
            max_wait: Duration::from_millis(20),
            idle_poll: Duration::from_secs(1),
            progress_interval: None,
            handler_timeout: None,
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(60),
        }
    }
}

impl RunnerConfig {
    /// Delay before the next delivery of a message that failed on delivery `deliveries`.
    fn backoff(&self, deliveries: u64) -> Duration {
        let doublings = deliveries.saturating_sub(1).min(20) as u32;
        self.retry_backoff
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.retry_backoff_max)
    }
}

/// Runs a [`Stage`] on a [`Bus`] consumer. Clone it to run several workers.
pub struct StageRunner<B: Bus, S: Stage> {
    bus: B,
    consumer: ConsumerSpec,
    stage: Arc<S>,
    config: RunnerConfig,
    metrics: StageMetrics,
    service: String,
}

impl<B: Bus, S: Stage> Clone for StageRunner<B, S> {
    fn clone(&self) -> Self {
        Self {
            bus: self.bus.clone(),
            consumer: self.consumer.clone(),
            stage: self.stage.clone(),
            config: self.config.clone(),
            metrics: self.metrics.clone(),
            service: self.service.clone(),
        }
    }
}

impl<B: Bus, S: Stage> std::fmt::Debug for StageRunner<B, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageRunner")
            .field("consumer", &self.consumer)
            .field("config", &self.config)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// A message of the batch that survived decoding, with what the runner keeps about it.
struct Accepted<D> {
    delivery: D,
    span: tracing::Span,
    /// What the messages published on its behalf carry as `traceparent`.
    outputs_trace: TraceContext,
}

/// A message the stage handled, with the outputs to publish before acknowledging it.
type Handled<D> = (Accepted<D>, Vec<Outgoing>);

impl<B: Bus, S: Stage> StageRunner<B, S> {
    /// A runner for `stage` on `consumer`; the stage name (metrics label, dead-letter
    /// subject) is the consumer's durable name.
    pub fn new(bus: B, consumer: ConsumerSpec, stage: Arc<S>, metrics: &Metrics) -> Self {
        Self {
            metrics: metrics.stage(&consumer.durable),
            service: consumer.durable.clone(),
            bus,
            consumer,
            stage,
            config: RunnerConfig::default(),
        }
    }

    pub fn with_config(mut self, config: RunnerConfig) -> Self {
        self.config = config;
        self
    }

    /// The service name written into dead letters (default: the stage name).
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    fn stage_name(&self) -> &str {
        &self.consumer.durable
    }

    fn max_deliver(&self) -> u64 {
        u64::try_from(self.consumer.settings.max_deliver.max(1)).unwrap_or(1)
    }

    /// Pulls and processes batches until `shutdown` is cancelled, then returns after the
    /// in-flight batch is finished. Fails only if the consumer cannot be bound.
    pub async fn run(&self, shutdown: CancellationToken) -> Result<(), BusError> {
        let mut subscription = self.bus.subscribe(&self.consumer).await?;
        tracing::info!(stage = %self.stage_name(), "stage runner started");
        let mut failed_pulls: u64 = 0;
        while !shutdown.is_cancelled() {
            let batch = subscription
                .next_batch(
                    self.config.max_batch.max(1),
                    self.config.max_wait,
                    self.config.idle_poll,
                )
                .await;
            match batch {
                Ok(batch) => {
                    failed_pulls = 0;
                    if !batch.is_empty() {
                        self.process(batch, &shutdown).await;
                    }
                }
                Err(e) => {
                    failed_pulls += 1;
                    let delay = self.config.backoff(failed_pulls);
                    tracing::warn!(stage = %self.stage_name(), error = %e, ?delay, "pull failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
        tracing::info!(stage = %self.stage_name(), "stage runner stopped");
        Ok(())
    }

    async fn process(
        &self,
        batch: Vec<<B::Subscription as Subscription>::Delivery>,
        shutdown: &CancellationToken,
    ) {
        let started = Instant::now();
        let mut accepted = Vec::with_capacity(batch.len());
        let mut inputs = Vec::with_capacity(batch.len());
        for delivery in batch {
            let trace = delivery
                .header(TRACEPARENT_HEADER)
                .and_then(TraceContext::parse)
                .unwrap_or_else(TraceContext::new_root);
            if delivery.deliveries() > self.max_deliver() {
                // Joined to the trace all the same: the dead letter shows in it.
                let (span, _) = self.span(&delivery, &trace, None);
                let reason = format!("max deliveries exceeded ({} allowed)", self.max_deliver());
                self.dead_letter(
                    &delivery,
                    &span,
                    DeadLetterReason::MaxDeliveries,
                    reason,
                    started,
                )
                .await;
                continue;
            }
            match decode::<S::Input>(delivery.payload()) {
                Ok(message) => {
                    let (span, outputs_trace) = self.span(&delivery, &trace, Some(&message));
                    inputs.push(Incoming {
                        message,
                        subject: delivery.subject().to_owned(),
                        deliveries: delivery.deliveries(),
                        span: span.clone(),
                    });
                    accepted.push(Accepted {
                        delivery,
                        span,
                        outputs_trace,
                    });
                }
                Err(e) => {
                    let (span, _) = self.span(&delivery, &trace, None);
                    self.dead_letter(&delivery, &span, (&e).into(), e.to_string(), started)
                        .await;
                }
            }
        }
        if inputs.is_empty() {
            return;
        }
        self.metrics.record_batch(inputs.len());
        let deliveries: Vec<_> = accepted.iter().map(|a| &a.delivery).collect();
        let results = self.keep_alive(&deliveries, self.call_stage(inputs)).await;

        let mut succeeded = Vec::with_capacity(accepted.len());
        for (item, result) in accepted.into_iter().zip(results) {
            match result {
                Ok(produced) => {
                    let outputs = produced
                        .into_iter()
                        .map(|mut out| {
                            out.traceparent
                                .get_or_insert_with(|| item.outputs_trace.to_header());
                            out
                        })
                        .collect();
                    succeeded.push((item, outputs));
                }
                Err(StageError::Permanent(reason)) => {
                    self.dead_letter(
                        &item.delivery,
                        &item.span,
                        DeadLetterReason::Permanent,
                        reason,
                        started,
                    )
                    .await
                }
                Err(StageError::Transient(reason)) => {
                    self.retry(&item.delivery, &item.span, reason, started)
                        .await
                }
            }
        }
        if succeeded.is_empty() {
            return;
        }
        let result = self.publish_group(&succeeded, shutdown).await;
        if matches!(result, Err(BusError::TooLarge { .. })) && succeeded.len() > 1 {
            // Some message's outputs are too large: publish each message's alone, so
            // only the culprit is dead-lettered.
            for item in succeeded {
                let group = std::slice::from_ref(&item);
                let result = self.publish_group(group, shutdown).await;
                self.settle(group, result, started).await;
            }
        } else {
            self.settle(&succeeded, result, started).await;
        }
    }

    /// Publishes the outputs of a group of handled messages, keeping them in progress.
    async fn publish_group(
        &self,
        group: &[Handled<<B::Subscription as Subscription>::Delivery>],
        shutdown: &CancellationToken,
    ) -> Result<(), BusError> {
        let deliveries: Vec<_> = group.iter().map(|(item, _)| &item.delivery).collect();
        let outputs = group
            .iter()
            .flat_map(|(_, outputs)| outputs.iter().cloned())
            .collect();
        self.keep_alive(&deliveries, self.publish_outputs(outputs, shutdown))
            .await
    }

    /// Acknowledges a group whose outputs are stored, or deals with why they are not.
    async fn settle(
        &self,
        group: &[Handled<<B::Subscription as Subscription>::Delivery>],
        published: Result<(), BusError>,
        started: Instant,
    ) {
        match published {
            Ok(()) => {
                join_all(
                    group
                        .iter()
                        .map(|(item, _)| self.acknowledge(item, started)),
                )
                .await;
            }
            Err(e @ BusError::TooLarge { .. }) => {
                for (item, _) in group {
                    let reason = format!("output cannot be published: {e}");
                    self.dead_letter(
                        &item.delivery,
                        &item.span,
                        DeadLetterReason::OutputTooLarge,
                        reason,
                        started,
                    )
                    .await;
                }
            }
            Err(e) => {
                for (item, _) in group {
                    self.retry(&item.delivery, &item.span, e.to_string(), started)
                        .await;
                }
            }
        }
    }

    /// Publishes the outputs, waiting and retrying in place while the destination pushes
    /// back (a full stream, a server not answering): the inputs stay in progress, this
    /// worker stops pulling, and the backlog stays upstream in its bounded stream. Gives
    /// up only on another error or at shutdown.
    async fn publish_outputs(
        &self,
        outputs: Vec<Outgoing>,
        shutdown: &CancellationToken,
    ) -> Result<(), BusError> {
        let mut attempts: u64 = 0;
        loop {
            match self.bus.publish(outputs.clone()).await {
                Ok(_) => return Ok(()),
                Err(e @ BusError::Backpressure { .. }) if !shutdown.is_cancelled() => {
                    attempts += 1;
                    let delay = self.config.backoff(attempts);
                    if attempts % 20 == 1 {
                        tracing::warn!(stage = %self.stage_name(), error = %e, attempts, "downstream full; waiting to publish");
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => return Err(e),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs the stage on the batch, bounded by the handler timeout, always returning one
    /// result per input.
    async fn call_stage(
        &self,
        inputs: Vec<Incoming<S::Input>>,
    ) -> Vec<Result<Vec<Outgoing>, StageError>> {
        let count = inputs.len();
        let work = self.stage.handle_batch(inputs);
        let mut results = match self.config.handler_timeout {
            Some(limit) => match tokio::time::timeout(limit, work).await {
                Ok(results) => results,
                Err(_) => {
                    let reason = format!("stage did not finish within {limit:?}");
                    return vec![Err(StageError::Transient(reason)); count];
                }
            },
            None => work.await,
        };
        if results.len() != count {
            tracing::error!(
                stage = %self.stage_name(),
                expected = count,
                got = results.len(),
                "stage returned the wrong number of results; retrying the batch"
            );
            let reason = format!(
                "stage returned {} results for {count} messages",
                results.len()
            );
            results = vec![Err(StageError::Transient(reason)); count];
        }
        results
    }

    /// Awaits `work`, sending in-progress acks for `deliveries` every progress interval so
    /// a slow stage keeps its messages.
    async fn keep_alive<T>(
        &self,
        deliveries: &[&<B::Subscription as Subscription>::Delivery],
        work: impl Future<Output = T>,
    ) -> T {
        let interval = self
            .config
            .progress_interval
            .unwrap_or(self.consumer.settings.ack_wait / 3)
            .max(Duration::from_millis(10));
        let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
        let work = std::pin::pin!(work);
        let mut work = work;
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = ticker.tick() => {
                    for result in join_all(deliveries.iter().map(|d| d.in_progress())).await {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "in-progress ack failed");
                        }
                    }
                }
            }
        }
    }

    async fn acknowledge(
        &self,
        item: &Accepted<<B::Subscription as Subscription>::Delivery>,
        started: Instant,
    ) {
        match item.delivery.ack().await {
            Ok(()) => {
                tracing::debug!(parent: &item.span, "processed");
                self.metrics.record_message(Outcome::Ok, started.elapsed());
            }
            // The outputs are confirmed; a redelivery republishes them and the duplicates
            // are dropped by message id.
            Err(e) => {
                tracing::warn!(parent: &item.span, error = %e, "ack failed; the message will be redelivered");
                self.metrics
                    .record_message(Outcome::TransientError, started.elapsed());
            }
        }
    }

    async fn retry(
        &self,
        delivery: &<B::Subscription as Subscription>::Delivery,
        span: &tracing::Span,
        reason: String,
        started: Instant,
    ) {
        if delivery.deliveries() >= self.max_deliver() {
            let reason = format!(
                "max deliveries exceeded ({} allowed); last error: {reason}",
                self.max_deliver()
            );
            self.dead_letter(
                delivery,
                span,
                DeadLetterReason::MaxDeliveries,
                reason,
                started,
            )
            .await;
            return;
        }
        tracing::warn!(parent: span, %reason, "transient error");
        self.redeliver(delivery, span, started).await;
    }

    /// NAKs with the backoff for this delivery and counts a transient error.
    async fn redeliver(
        &self,
        delivery: &<B::Subscription as Subscription>::Delivery,
        span: &tracing::Span,
        started: Instant,
    ) {
        let delay = self.config.backoff(delivery.deliveries());
        tracing::debug!(parent: span, ?delay, "redelivering");
        if let Err(e) = delivery.nak(delay).await {
            tracing::warn!(parent: span, error = %e, "NAK failed; redelivered after the ack wait");
        }
        self.metrics
            .record_message(Outcome::TransientError, started.elapsed());
    }

    /// Publishes a `DeadLetter` and terminates the message; if the dead letter cannot be
    /// published the message is NAKed instead, so it is never lost.
    async fn dead_letter(
        &self,
        delivery: &<B::Subscription as Subscription>::Delivery,
        span: &tracing::Span,
        category: DeadLetterReason,
        reason: String,
        started: Instant,
    ) {
        let stage = self.stage_name();
        let letter = DeadLetter {
            schema_version: SCHEMA_VERSION,
            original_subject: delivery.subject().to_owned(),
            reason: reason.clone(),
            payload: delivery.payload().to_vec(),
            deliveries: delivery.deliveries(),
            service: self.service.clone(),
            at_unix_ms: unix_ms(),
        };
        let mut out = Outgoing::new(subjects::dead(stage), &letter)
            .with_msg_id(format!("dead/{stage}/{}", delivery.id()));
        out.image_id = delivery
            .header(IMAGE_ID_HEADER)
            .unwrap_or_default()
            .to_owned();
        out.source_id = delivery.header(SOURCE_ID_HEADER).map(str::to_owned);
        out.traceparent = delivery.header(TRACEPARENT_HEADER).map(str::to_owned);
        let consequences = if out.image_id.is_empty() {
            Vec::new()
        } else {
            self.stage.dead_lettered(&out.image_id, &reason)
        };
        tracing::error!(parent: span, %reason, "dead-lettering message");
        // One publish: the input is terminated only once the letter and what it implies
        // are both stored, so neither is lost.
        match self
            .bus
            .publish(std::iter::once(out).chain(consequences).collect())
            .await
        {
            Ok(_) => {
                if let Err(e) = delivery.term().await {
                    tracing::warn!(parent: span, error = %e, "term failed; the dead letter will be repeated and de-duplicated");
                }
                self.metrics.record_dead_letter(category.as_label());
                self.metrics
                    .record_message(Outcome::DeadLetter, started.elapsed());
            }
            Err(e) => {
                tracing::error!(parent: span, error = %e, "dead letter not published; redelivering the message");
                self.redeliver(delivery, span, started).await;
            }
        }
    }

    /// The span of one message's handling, joined to the message's trace, and the trace
    /// context that messages published on its behalf carry.
    fn span(
        &self,
        delivery: &<B::Subscription as Subscription>::Delivery,
        trace: &TraceContext,
        message: Option<&S::Input>,
    ) -> (tracing::Span, TraceContext) {
        let image_id = message
            .map(|m| m.image_id())
            .or_else(|| delivery.header(IMAGE_ID_HEADER))
            .unwrap_or_default();
        let source_id = message
            .and_then(|m| m.source_id())
            .or_else(|| delivery.header(SOURCE_ID_HEADER))
            .unwrap_or_default();
        let span = tracing::info_span!(
            "message",
            stage = %self.stage_name(),
            subject = %delivery.subject(),
            image_id = %image_id,
            source_id = %source_id,
            trace_id = %trace.trace_id_hex(),
            deliveries = delivery.deliveries(),
        );
        let outputs = outputs_trace(&span, trace);
        (span, outputs)
    }
}

/// The trace context of the messages published while handling a message of `trace`
/// inside `span`. When spans are exported (OTLP) `span` is joined to the trace and its
/// exported id becomes the outputs' parent, so the collector sees one tree per image;
/// otherwise a fresh span id in the same trace, which the logs carry.
fn outputs_trace(span: &tracing::Span, trace: &TraceContext) -> TraceContext {
    match prospector_telemetry::continue_trace(span, trace.trace_id, trace.span_id, trace.sampled) {
        Some(span_id) => TraceContext { span_id, ..*trace },
        None => trace.child(),
    }
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::RunnerConfig;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_per_delivery_up_to_the_cap() {
        let config = RunnerConfig {
            retry_backoff: Duration::from_secs(1),
            retry_backoff_max: Duration::from_secs(10),
            ..RunnerConfig::default()
        };
        let delays: Vec<_> = (1..=6).map(|n| config.backoff(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
    }
}

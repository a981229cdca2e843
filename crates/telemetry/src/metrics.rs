//! The metric families every service exposes. Names and labels are a contract with
//! `deploy/` (Grafana dashboard, alert rules): change them only together.
//!
//! Label values are bounded: stage, outcome, stream, consumer and dead-letter reason come
//! from configuration or fixed categories, never from image or source ids.

use crate::TelemetryError;
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Every metric family a service may expose: the names `deploy/` (dashboard, alert rules,
/// autoscalers) is written against.
pub const METRIC_NAMES: [&str; 16] = [
    "prospector_messages_processed_total",
    "prospector_pixels_processed_total",
    "prospector_stage_latency_seconds",
    "prospector_batch_size",
    "prospector_consumer_pending_messages",
    "prospector_consumer_ack_pending_messages",
    "prospector_consumer_redelivered_messages",
    "prospector_dead_letters_total",
    "prospector_model_info",
    "prospector_codebook_usage_ratio",
    "prospector_codebook_perplexity",
    "prospector_labelled_auc",
    "prospector_sources_scored_total",
    "prospector_images_completed_total",
    "prospector_image_last_progress_timestamp_seconds",
    "prospector_build_info",
];

/// Latency buckets (seconds): from a 1 ms NCC to a minute-long tile on a slow node.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Batch-size buckets: powers of two up to the largest scorer batch worth configuring.
const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// How one message ended, the `outcome` label of `prospector_messages_processed_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Handled, outputs published, input acknowledged.
    Ok,
    /// Failed in a way worth retrying: NAKed for redelivery.
    TransientError,
    /// Sent to the dead-letter subject and terminated.
    DeadLetter,
}

impl Outcome {
    /// The label value.
    pub fn as_label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::TransientError => "transient_error",
            Self::DeadLetter => "dead_letter",
        }
    }
}

/// The metrics of one service, registered in their own registry (no global state, so
/// tests and the embedded mode can hold several).
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Families>,
}

#[derive(Debug)]
struct Families {
    registry: Registry,
    messages_processed: IntCounterVec,
    pixels_processed: IntCounterVec,
    stage_latency: HistogramVec,
    batch_size: HistogramVec,
    dead_letters: IntCounterVec,
    consumer_pending: IntGaugeVec,
    consumer_ack_pending: IntGaugeVec,
    consumer_redelivered: IntGaugeVec,
    scorer: OnceLock<ScorerMetrics>,
    evaluator: OnceLock<EvaluatorMetrics>,
}

impl Metrics {
    /// Registers the families every service has and sets
    /// `prospector_build_info{service,version} 1`.
    pub fn new(service: &str, version: &str) -> Result<Self, TelemetryError> {
        let registry = Registry::new();
        let build_info = IntGaugeVec::new(
            Opts::new(
                "prospector_build_info",
                "Always 1; labels name the service and its version.",
            ),
            &["service", "version"],
        )?;
        registry.register(Box::new(build_info.clone()))?;
        build_info.with_label_values(&[service, version]).set(1);
        let families = Families {
            messages_processed: register(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "prospector_messages_processed_total",
                        "Bus messages a stage finished, by outcome (ok, transient_error, dead_letter).",
                    ),
                    &["stage", "outcome"],
                )?,
            )?,
            pixels_processed: register(
                &registry,
                IntCounterVec::new(
                    Opts::new("prospector_pixels_processed_total", "Image pixels a stage processed."),
                    &["stage"],
                )?,
            )?,
            stage_latency: register(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "prospector_stage_latency_seconds",
                        "Time from a message's receipt to its acknowledgement, handler and publish included.",
                    )
                    .buckets(LATENCY_BUCKETS.to_vec()),
                    &["stage"],
                )?,
            )?,
            batch_size: register(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new("prospector_batch_size", "Messages handled together in one batch.")
                        .buckets(BATCH_BUCKETS.to_vec()),
                    &["stage"],
                )?,
            )?,
            dead_letters: register(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "prospector_dead_letters_total",
                        "Messages sent to prospector.dead.<stage>, by reason category.",
                    ),
                    &["stage", "reason"],
                )?,
            )?,
            consumer_pending: register(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "prospector_consumer_pending_messages",
                        "Messages in the stream not yet delivered to the durable consumer (its lag).",
                    ),
                    &["stream", "consumer"],
                )?,
            )?,
            consumer_ack_pending: register(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "prospector_consumer_ack_pending_messages",
                        "Messages delivered to the durable consumer and not yet acknowledged.",
                    ),
                    &["stream", "consumer"],
                )?,
            )?,
            consumer_redelivered: register(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "prospector_consumer_redelivered_messages",
                        "Unacknowledged messages the durable consumer has delivered more than once.",
                    ),
                    &["stream", "consumer"],
                )?,
            )?,
            registry,
            scorer: OnceLock::new(),
            evaluator: OnceLock::new(),
        };
        Ok(Self {
            inner: Arc::new(families),
        })
    }

    /// The handle a stage runner updates; create it once per stage.
    pub fn stage(&self, stage: &str) -> StageMetrics {
        let f = &self.inner;
        let processed = |outcome: Outcome| {
            f.messages_processed
                .with_label_values(&[stage, outcome.as_label()])
        };
        StageMetrics {
            stage: stage.to_owned(),
            ok: processed(Outcome::Ok),
            transient: processed(Outcome::TransientError),
            dead: processed(Outcome::DeadLetter),
            pixels: f.pixels_processed.with_label_values(&[stage]),
            latency: f.stage_latency.with_label_values(&[stage]),
            batch_size: f.batch_size.with_label_values(&[stage]),
            dead_letters: f.dead_letters.clone(),
        }
    }

    /// The gauges of one durable consumer, set by a poller from the consumer's info.
    pub fn consumer(&self, stream: &str, consumer: &str) -> ConsumerMetrics {
        let labels = [stream, consumer];
        ConsumerMetrics {
            pending: self.inner.consumer_pending.with_label_values(&labels),
            ack_pending: self.inner.consumer_ack_pending.with_label_values(&labels),
            redelivered: self.inner.consumer_redelivered.with_label_values(&labels),
        }
    }

    /// The scorer's model metrics, registered on first use (other services never show them).
    pub fn scorer(&self) -> Result<&ScorerMetrics, TelemetryError> {
        if let Some(m) = self.inner.scorer.get() {
            return Ok(m);
        }
        let m = ScorerMetrics::register(&self.inner.registry)?;
        Ok(self.inner.scorer.get_or_init(|| m))
    }

    /// The evaluator's catalogue metrics, registered on first use.
    pub fn evaluator(&self) -> Result<&EvaluatorMetrics, TelemetryError> {
        if let Some(m) = self.inner.evaluator.get() {
            return Ok(m);
        }
        let m = EvaluatorMetrics::register(&self.inner.registry)?;
        Ok(self.inner.evaluator.get_or_init(|| m))
    }

    /// The registry, for a service that adds metrics of its own.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The text exposition (format 0.0.4) served on `/metrics`.
    pub fn encode(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec fails only on a malformed family, which registration rejects.
        if let Err(e) = TextEncoder::new().encode(&self.inner.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

fn register<C: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    collector: C,
) -> Result<C, TelemetryError> {
    registry.register(Box::new(collector.clone()))?;
    Ok(collector)
}

/// Per-stage counters and histograms; cheap to clone, updated by the stage runner
/// (outcomes, latency, batch sizes, dead letters) and by a stage itself (pixels).
#[derive(Clone, Debug)]
pub struct StageMetrics {
    stage: String,
    ok: IntCounter,
    transient: IntCounter,
    dead: IntCounter,
    pixels: IntCounter,
    latency: Histogram,
    batch_size: Histogram,
    dead_letters: IntCounterVec,
}

impl StageMetrics {
    /// The stage these metrics are labelled with.
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// One message finished with `outcome` after `latency`.
    pub fn record_message(&self, outcome: Outcome, latency: Duration) {
        match outcome {
            Outcome::Ok => self.ok.inc(),
            Outcome::TransientError => self.transient.inc(),
            Outcome::DeadLetter => self.dead.inc(),
        }
        self.latency.observe(latency.as_secs_f64());
    }

    /// One batch of `size` messages was handed to the handler.
    pub fn record_batch(&self, size: usize) {
        self.batch_size.observe(size as f64);
    }

    /// A message was dead-lettered; `reason` is a fixed category (bounded cardinality).
    pub fn record_dead_letter(&self, reason: &'static str) {
        self.dead_letters
            .with_label_values(&[self.stage.as_str(), reason])
            .inc();
    }

    /// The stage processed `pixels` image pixels.
    pub fn add_pixels(&self, pixels: u64) {
        self.pixels.inc_by(pixels);
    }
}

/// The gauges of one durable consumer, read from the JetStream consumer info (the
/// stream leader's figures, not this replica's guess).
#[derive(Clone, Debug)]
pub struct ConsumerMetrics {
    pending: IntGauge,
    ack_pending: IntGauge,
    redelivered: IntGauge,
}

impl ConsumerMetrics {
    /// Sets the three gauges from one consumer-info reply.
    pub fn set(&self, pending: u64, ack_pending: u64, redelivered: u64) {
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.pending.set(clamp(pending));
        self.ack_pending.set(clamp(ack_pending));
        self.redelivered.set(clamp(redelivered));
    }
}

/// The scorer's model metrics.
#[derive(Clone, Debug)]
pub struct ScorerMetrics {
    model_info: IntGaugeVec,
    /// Fraction of codebook entries used by recent batches.
    pub codebook_usage_ratio: Gauge,
    /// Perplexity of the codebook assignment in recent batches.
    pub codebook_perplexity: Gauge,
}

impl ScorerMetrics {
    fn register(registry: &Registry) -> Result<Self, TelemetryError> {
        Ok(Self {
            model_info: register(
                registry,
                IntGaugeVec::new(
                    Opts::new(
                        "prospector_model_info",
                        "Always 1 for the model version now loaded.",
                    ),
                    &["version", "device", "preset"],
                )?,
            )?,
            codebook_usage_ratio: register(
                registry,
                Gauge::new(
                    "prospector_codebook_usage_ratio",
                    "Fraction of the VQ codebook used by recent batches (0 to 1).",
                )?,
            )?,
            codebook_perplexity: register(
                registry,
                Gauge::new(
                    "prospector_codebook_perplexity",
                    "Perplexity of the codebook assignments in recent batches.",
                )?,
            )?,
        })
    }

    /// Records the loaded model; a hot swap replaces the previous series.
    pub fn set_model(&self, version: &str, device: &str, preset: &str) {
        self.model_info.reset();
        self.model_info
            .with_label_values(&[version, device, preset])
            .set(1);
    }
}

/// The evaluator's catalogue metrics.
#[derive(Clone, Debug)]
pub struct EvaluatorMetrics {
    /// Distinct sources added to the ranked catalogue (redeliveries not counted twice).
    pub sources_scored_total: IntCounter,
    /// Images whose every tile and source has been accounted for.
    pub images_completed_total: IntCounter,
    /// Unix time of the last progress event seen (stalls show as a flat line).
    pub image_last_progress_timestamp_seconds: Gauge,
    /// ROC AUC of the live ranking on the labelled sources.
    pub labelled_auc: Gauge,
}

impl EvaluatorMetrics {
    fn register(registry: &Registry) -> Result<Self, TelemetryError> {
        Ok(Self {
            sources_scored_total: register(
                registry,
                IntCounter::new(
                    "prospector_sources_scored_total",
                    "Distinct sources added to the ranked catalogue.",
                )?,
            )?,
            images_completed_total: register(
                registry,
                IntCounter::new(
                    "prospector_images_completed_total",
                    "Images fully processed.",
                )?,
            )?,
            image_last_progress_timestamp_seconds: register(
                registry,
                Gauge::new(
                    "prospector_image_last_progress_timestamp_seconds",
                    "Unix time of the last progress event the evaluator received.",
                )?,
            )?,
            labelled_auc: register(
                registry,
                Gauge::new(
                    "prospector_labelled_auc",
                    "ROC AUC of the anomaly ranking on the labelled sources (exotic vs typical).",
                )?,
            )?,
        })
    }
}

//! The JetStream topology, declared in one place: streams and their subjects, the
//! durable pull consumers each stage reads, the KV buckets and the object store.
//!
//! Retention follows what each subject is for:
//! - **work queues** (`tiles`, `cutouts`): each message is processed once by a pool of
//!   workers sharing one durable consumer, and removed when acknowledged; bounded, with
//!   `discard: new` so a full queue pushes back on its producer instead of losing work;
//! - **history** (`images`, `plans`, `scores`, `progress`, `labels`, `dead`): limits
//!   retention, kept after acknowledgement, so the evaluator can rebuild its state after
//!   a restart by replaying them, and an operator can inspect dead letters.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Subjects.
pub mod subjects {
    pub const IMAGES: &str = "prospector.images";
    pub const PLANS: &str = "prospector.plans";
    pub const TILES: &str = "prospector.tiles";
    pub const CUTOUTS: &str = "prospector.cutouts";
    pub const SCORES: &str = "prospector.scores";
    pub const PROGRESS: &str = "prospector.progress";
    pub const LABELS: &str = "prospector.labels";
    /// Dead letters go to `prospector.dead.<stage>`.
    pub const DEAD: &str = "prospector.dead";

    /// The dead-letter subject of one stage.
    pub fn dead(stage: &str) -> String {
        format!("{DEAD}.{stage}")
    }
}

/// Durable consumer names; each is also the stage name in metrics and dead-letter subjects.
pub mod consumers {
    pub const TILER: &str = "tiler";
    pub const EXTRACTOR: &str = "extractor";
    pub const SCORER: &str = "scorer";
    /// The in-process listeners ([`super::Topology::listeners`]).
    pub const EVALUATOR_SCORES: &str = "evaluator-scores";
    pub const EVALUATOR_PROGRESS: &str = "evaluator-progress";
    pub const EVALUATOR_PLANS: &str = "evaluator-plans";
    pub const EVALUATOR_DEAD: &str = "evaluator-dead";
    /// Durables earlier versions created on the server and nothing reads any more:
    /// [`crate::NatsBus::ensure_topology`] deletes them, so that they do not sit there
    /// with an ever-growing pending count.
    pub const RETIRED: [&str; 5] = [
        EVALUATOR_SCORES,
        EVALUATOR_PROGRESS,
        EVALUATOR_PLANS,
        "evaluator-labels",
        EVALUATOR_DEAD,
    ];
}

/// KV buckets and object stores.
pub mod buckets {
    /// Source id -> the latest `Label`.
    pub const LABELS: &str = "prospector-labels";
    /// Image id -> its `ImageStatus`.
    pub const IMAGE_STATUS: &str = "prospector-image-status";
    /// Key [`ACTIVE_MODEL_KEY`] -> the active model version (scorers watch it).
    pub const MODELS: &str = "prospector-models";
    pub const ACTIVE_MODEL_KEY: &str = "active";
    /// Object store of model weights, one object per version.
    pub const MODEL_OBJECTS: &str = "prospector-models";
}

/// Where JetStream keeps messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    #[default]
    File,
    /// Faster, lost when the server restarts: for tests and throw-away runs.
    Memory,
}

/// What a stream does when a limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Discard {
    /// Refuse new messages (the publisher gets an error: backpressure).
    New,
    /// Drop the oldest.
    Old,
}

/// How a stream retains messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    /// Removed once acknowledged: one pool processes each message once.
    WorkQueue,
    /// Kept until the stream's limits (age, bytes, count) drop them.
    Limits,
}

/// Limits of one class of streams.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamLimits {
    /// 0 = unlimited.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// -1 = unlimited.
    pub max_bytes: i64,
    /// -1 = unlimited.
    pub max_messages: i64,
    pub discard: Discard,
}

/// Settings of a durable consumer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsumerSettings {
    /// Redelivered when not acknowledged (or marked in progress) within this time.
    #[serde(with = "humantime_serde")]
    pub ack_wait: Duration,
    /// Deliveries before the runner dead-letters a message ("max deliveries exceeded").
    pub max_deliver: i64,
    /// Messages delivered and not yet acknowledged, across all workers (flow control).
    pub max_ack_pending: i64,
}

impl Default for ConsumerSettings {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            max_ack_pending: 1000,
        }
    }
}

/// The configurable part of the topology (all fields have defaults).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopologyConfig {
    /// Whether a service creates the whole topology at start-up (a laptop, a test) or
    /// only its own durable consumers on streams an operator created beforehand with
    /// `prospector topology apply` (least-privilege credentials, as the Helm chart runs
    /// it). See [`crate::NatsBus::prepare`].
    pub create: bool,
    pub storage: Storage,
    pub replicas: usize,
    /// Largest message a stream accepts (the server's `max_payload` caps it too). The
    /// tiler sizes ordinary tiles to NATS's default 1 MiB; a tile widened around an
    /// island larger than its margin may need more, which is why the deployed server
    /// allows 8 MB (`deploy/nats/nats-server.conf`) and this default matches it.
    pub max_message_bytes: i32,
    /// JetStream's de-duplication window for `Nats-Msg-Id`.
    #[serde(with = "humantime_serde")]
    pub duplicate_window: Duration,
    /// Limits of the work-queue streams (tiles, cutouts).
    pub work_queue: StreamLimits,
    /// Limits of the history streams (images, plans, scores, progress, labels, dead).
    pub history: StreamLimits,
    /// Defaults of every durable consumer.
    pub consumer: ConsumerSettings,
    /// Per-consumer settings by durable name (e.g. a longer `ack_wait` for the scorer).
    pub consumers: BTreeMap<String, ConsumerSettings>,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        Self {
            create: true,
            storage: Storage::File,
            replicas: 1,
            max_message_bytes: 8 * 1024 * 1024,
            duplicate_window: Duration::from_secs(120),
            // 1 GiB per work queue holds about a thousand full tiles: enough to keep the
            // scorers busy, small enough that JetStream's up-front reservation succeeds
            // on a modest disk (the server refuses a stream whose limit exceeds its store).
            work_queue: StreamLimits {
                max_age: Duration::ZERO,
                max_bytes: 1024 * 1024 * 1024,
                max_messages: 1_000_000,
                discard: Discard::New,
            },
            history: StreamLimits {
                max_age: Duration::from_secs(90 * 24 * 3600),
                max_bytes: -1,
                max_messages: -1,
                discard: Discard::Old,
            },
            consumer: ConsumerSettings::default(),
            consumers: BTreeMap::new(),
        }
    }
}

/// One stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    pub name: String,
    pub subjects: Vec<String>,
    pub retention: Retention,
    pub limits: StreamLimits,
}

/// One durable pull consumer (explicit acks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSpec {
    pub stream: String,
    /// Durable name; also the stage name (metrics label, `prospector.dead.<stage>`).
    pub durable: String,
    pub filter_subject: String,
    pub settings: ConsumerSettings,
}

/// One KV bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvSpec {
    pub bucket: String,
    pub history: i64,
    pub description: &'static str,
}

/// Everything Prospector creates on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub config: TopologyConfig,
    pub streams: Vec<StreamSpec>,
    /// The stages' durable consumers, created on the server.
    pub consumers: Vec<ConsumerSpec>,
    /// Consumers only an in-process bus holds: what the embedded pipeline's evaluator
    /// collects. Never created on a server, where the evaluator service replays the
    /// history streams with ephemeral consumers of its own and a durable would only
    /// pile up pending messages nobody reads.
    pub listeners: Vec<ConsumerSpec>,
    pub kv_buckets: Vec<KvSpec>,
    pub object_stores: Vec<String>,
}

/// The stream that carries `subject` (one of [`subjects`]).
pub fn stream_name(subject: &str) -> String {
    subject.replace('.', "_").to_uppercase()
}

impl Topology {
    pub fn new(config: TopologyConfig) -> Self {
        use subjects::*;
        let stream = |subject: &str, retention: Retention| StreamSpec {
            name: stream_name(subject),
            // The bare subject and anything below it, so producers may later add tokens
            // (e.g. per-image subjects) without a topology change.
            subjects: vec![subject.to_owned(), format!("{subject}.>")],
            retention,
            limits: match retention {
                Retention::WorkQueue => config.work_queue.clone(),
                Retention::Limits => config.history.clone(),
            },
        };
        let streams = vec![
            stream(IMAGES, Retention::Limits),
            stream(PLANS, Retention::Limits),
            stream(TILES, Retention::WorkQueue),
            stream(CUTOUTS, Retention::WorkQueue),
            stream(SCORES, Retention::Limits),
            stream(PROGRESS, Retention::Limits),
            stream(LABELS, Retention::Limits),
            StreamSpec {
                subjects: vec![format!("{DEAD}.>")],
                ..stream(DEAD, Retention::Limits)
            },
        ];
        let consumer = |durable: &str, subject: &str, filter: String| ConsumerSpec {
            stream: stream_name(subject),
            durable: durable.to_owned(),
            filter_subject: filter,
            settings: config
                .consumers
                .get(durable)
                .unwrap_or(&config.consumer)
                .clone(),
        };
        let all_of = |subject: &str| format!("{subject}.>");
        let consumers = vec![
            consumer(consumers::TILER, IMAGES, IMAGES.to_owned()),
            consumer(consumers::EXTRACTOR, TILES, TILES.to_owned()),
            consumer(consumers::SCORER, CUTOUTS, CUTOUTS.to_owned()),
        ];
        let listeners = vec![
            consumer(consumers::EVALUATOR_SCORES, SCORES, SCORES.to_owned()),
            consumer(consumers::EVALUATOR_PROGRESS, PROGRESS, PROGRESS.to_owned()),
            consumer(consumers::EVALUATOR_PLANS, PLANS, PLANS.to_owned()),
            consumer(consumers::EVALUATOR_DEAD, DEAD, all_of(DEAD)),
        ];
        let kv_buckets = vec![
            KvSpec {
                bucket: buckets::LABELS.to_owned(),
                history: 5,
                description: "Astronomers' labels by source id",
            },
            KvSpec {
                bucket: buckets::IMAGE_STATUS.to_owned(),
                history: 1,
                description: "Processing status by image id",
            },
            KvSpec {
                bucket: buckets::MODELS.to_owned(),
                history: 10,
                description: "The active model version (key `active`)",
            },
        ];
        Self {
            streams,
            consumers,
            listeners,
            kv_buckets,
            object_stores: vec![buckets::MODEL_OBJECTS.to_owned()],
            config,
        }
    }

    /// The consumer or in-process listener with this durable name.
    pub fn consumer(&self, durable: &str) -> Result<&ConsumerSpec, crate::BusError> {
        self.consumers
            .iter()
            .chain(&self.listeners)
            .find(|c| c.durable == durable)
            .ok_or_else(|| crate::BusError::UnknownConsumer(durable.to_owned()))
    }
}

impl Default for Topology {
    fn default() -> Self {
        Self::new(TopologyConfig::default())
    }
}

/// What applying the topology did to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
    /// A retired item found on the server and deleted.
    Removed,
}

/// One item of the topology after [`crate::NatsBus::ensure_topology`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// "stream", "consumer", "kv bucket" or "object store".
    pub kind: &'static str,
    pub name: String,
    pub change: Change,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_consumer_reads_a_declared_stream_and_overrides_apply() {
        let mut config = TopologyConfig::default();
        config.consumers.insert(
            consumers::SCORER.to_owned(),
            ConsumerSettings {
                ack_wait: Duration::from_secs(300),
                ..ConsumerSettings::default()
            },
        );
        let topology = Topology::new(config);
        for consumer in topology.consumers.iter().chain(&topology.listeners) {
            let stream = topology
                .streams
                .iter()
                .find(|s| s.name == consumer.stream)
                .unwrap_or_else(|| panic!("{} reads an undeclared stream", consumer.durable));
            assert!(stream
                .subjects
                .iter()
                .any(|s| crate::subject::matches(s, &consumer.filter_subject)
                    || s == &consumer.filter_subject));
        }
        let scorer = topology.consumer(consumers::SCORER).unwrap();
        assert_eq!(scorer.settings.ack_wait, Duration::from_secs(300));
        let tiler = topology.consumer(consumers::TILER).unwrap();
        assert_eq!(tiler.settings.ack_wait, Duration::from_secs(30));
        assert!(topology.consumer("nope").is_err());
    }

    #[test]
    fn config_reads_from_json_with_durations_and_defaults() {
        let config: TopologyConfig = serde_json::from_str(
            r#"{"storage": "memory", "consumer": {"ack_wait": "2s", "max_deliver": 3}}"#,
        )
        .unwrap();
        assert_eq!(config.storage, Storage::Memory);
        assert_eq!(config.consumer.ack_wait, Duration::from_secs(2));
        assert_eq!(config.consumer.max_deliver, 3);
        assert_eq!(config.consumer.max_ack_pending, 1000);
        assert_eq!(config.work_queue.discard, Discard::New);
    }
}

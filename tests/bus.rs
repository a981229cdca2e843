//! The transport against a real nats-server: topology, the stage runner's delivery
//! guarantees (outputs before acks, dead letters, redelivery, in-progress acks,
//! de-duplication after a crash), authentication, and parity with the in-process bus.

use async_nats::jetstream;
use prospector_bus::topology::{consumers, subjects, ConsumerSettings, StreamLimits};
use prospector_bus::{
    Bus, CancellationToken, Change, Discard, InProcessBus, Incoming, NatsBus, NatsConfig, Outgoing,
    PublishReceipt, RunnerConfig, Stage, StageError, StageRunner, Storage, Subscription, Topology,
    TopologyConfig, TraceContext,
};
use prospector_proto::v1::{
    Cutout, DeadLetter, PixelEncoding, Pixels, ProgressEvent, Score, SourceScores,
};
use prospector_proto::SCHEMA_VERSION;
use prospector_telemetry::Metrics;
use prospector_tests::{NatsAuth, NatsServer, NatsServerOptions};
use prost::Message;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the test stage does with a cutout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Score,
    /// Sleeps this long, then scores.
    Slow(Duration),
    AlwaysTransient,
}

/// A scorer stand-in: turns a cutout into a score, failing permanently on a cutout named
/// "unscorable", and records what it saw.
#[derive(Debug)]
struct TestScorer {
    behaviour: Behaviour,
    calls: AtomicU64,
    deliveries_seen: Mutex<Vec<u64>>,
    batch_sizes: Mutex<Vec<usize>>,
}

impl TestScorer {
    fn new(behaviour: Behaviour) -> Arc<Self> {
        Arc::new(Self {
            behaviour,
            calls: AtomicU64::new(0),
            deliveries_seen: Mutex::new(Vec::new()),
            batch_sizes: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Stage for TestScorer {
    type Input = Cutout;

    /// Records the batch size, then scores one cutout at a time.
    async fn handle_batch(
        &self,
        batch: Vec<Incoming<Cutout>>,
    ) -> Vec<Result<Vec<Outgoing>, StageError>> {
        self.batch_sizes.lock().unwrap().push(batch.len());
        let mut results = Vec::new();
        for input in batch {
            results.push(self.handle(input).await);
        }
        results
    }

    /// What the pipeline's stages publish: the image cannot complete, and why.
    fn dead_lettered(&self, image_id: &str, reason: &str) -> Vec<Outgoing> {
        let event = ProgressEvent {
            schema_version: SCHEMA_VERSION,
            image_id: image_id.into(),
            stage: prospector_proto::v1::Stage::Failed as i32,
            detail: reason.into(),
            ..Default::default()
        };
        vec![Outgoing::new(subjects::PROGRESS, &event)]
    }

    async fn handle(&self, input: Incoming<Cutout>) -> Result<Vec<Outgoing>, StageError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.deliveries_seen.lock().unwrap().push(input.deliveries);
        match self.behaviour {
            Behaviour::AlwaysTransient => return Err(StageError::transient("model server busy")),
            Behaviour::Slow(delay) => tokio::time::sleep(delay).await,
            Behaviour::Score => {}
        }
        let cutout = input.message;
        if cutout.name == "unscorable" {
            return Err(StageError::permanent("cutout has no pixels"));
        }
        let score = Score {
            schema_version: SCHEMA_VERSION,
            source_id: cutout.source_id.clone(),
            image_id: cutout.image_id.clone(),
            model_version: "test-model".into(),
            name: cutout.name,
            // The gallery's pictures travel with the score.
            reconstruction: cutout.model_pixels.clone(),
            model_pixels: cutout.model_pixels,
            scores: Some(SourceScores {
                anomaly: cutout.tile_index as f64 / 10.0,
                ..Default::default()
            }),
            ..Default::default()
        };
        Ok(vec![Outgoing::new(subjects::SCORES, &score)])
    }
}

fn cutout(source: &str) -> Cutout {
    Cutout {
        schema_version: SCHEMA_VERSION,
        source_id: source.into(),
        image_id: "image-1".into(),
        tile_index: source.len() as u32,
        name: format!("J{source}"),
        ..Default::default()
    }
}

/// A topology whose consumers give up quickly, so fault tests take seconds.
fn fast_topology(ack_wait: Duration, max_deliver: i64) -> Topology {
    Topology::new(TopologyConfig {
        consumer: ConsumerSettings {
            ack_wait,
            max_deliver,
            max_ack_pending: 100,
        },
        ..TopologyConfig::default()
    })
}

fn fast_runner_config() -> RunnerConfig {
    RunnerConfig {
        idle_poll: Duration::from_millis(200),
        retry_backoff: Duration::from_millis(20),
        retry_backoff_max: Duration::from_millis(100),
        ..RunnerConfig::default()
    }
}

/// Batches of up to 8 messages, waiting at most 100 ms after the first.
fn batching_runner_config() -> RunnerConfig {
    RunnerConfig {
        max_batch: 8,
        max_wait: Duration::from_millis(100),
        ..fast_runner_config()
    }
}

async fn connect(server: &NatsServer) -> NatsBus {
    let config = NatsConfig {
        servers: vec![server.url()],
        ..NatsConfig::default()
    };
    NatsBus::connect(&config, "bus-test")
        .await
        .expect("connects to the test server")
}

async fn connect_with_topology(server: &NatsServer, topology: &Topology) -> NatsBus {
    let bus = connect(server).await;
    bus.ensure_topology(topology)
        .await
        .expect("topology created");
    bus
}

/// A fresh server with the fast topology and the cutouts `sources` queued for the scorer.
async fn queued_cutouts<S: AsRef<str>>(
    ack_wait: Duration,
    max_deliver: i64,
    sources: impl IntoIterator<Item = S>,
) -> (NatsServer, Topology, NatsBus) {
    let server = NatsServer::start();
    let topology = fast_topology(ack_wait, max_deliver);
    let bus = connect_with_topology(&server, &topology).await;
    let inputs = sources
        .into_iter()
        .map(|s| Outgoing::new(subjects::CUTOUTS, &cutout(s.as_ref())))
        .collect();
    bus.publish(inputs).await.unwrap();
    (server, topology, bus)
}

fn metrics() -> Metrics {
    Metrics::new("bus-test", "0").unwrap()
}

/// Starts a runner for `stage` on the scorer consumer; returns its task.
fn spawn_scorer<B: Bus>(
    bus: B,
    topology: &Topology,
    stage: Arc<TestScorer>,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> tokio::task::JoinHandle<()> {
    spawn_scorer_with(
        bus,
        topology,
        stage,
        metrics,
        shutdown,
        fast_runner_config(),
    )
}

fn spawn_scorer_with<B: Bus>(
    bus: B,
    topology: &Topology,
    stage: Arc<TestScorer>,
    metrics: &Metrics,
    shutdown: &CancellationToken,
    config: RunnerConfig,
) -> tokio::task::JoinHandle<()> {
    let runner = StageRunner::new(
        bus,
        topology.consumer(consumers::SCORER).unwrap().clone(),
        stage,
        metrics,
    )
    .with_config(config);
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        runner
            .run(shutdown)
            .await
            .expect("runner binds its consumer")
    })
}

/// Runs `workers` scorer runners on `bus` until each stream holds its expected number
/// of messages, lets them run a moment longer (so a wrong extra delivery would show),
/// then shuts them down and waits for them.
async fn run_scorers_until(
    bus: &NatsBus,
    topology: &Topology,
    stage: &Arc<TestScorer>,
    metrics: &Metrics,
    workers: usize,
    expected: &[(&str, u64)],
) {
    let shutdown = CancellationToken::new();
    let tasks: Vec<_> = (0..workers)
        .map(|_| spawn_scorer(bus.clone(), topology, stage.clone(), metrics, &shutdown))
        .collect();
    eventually(
        Duration::from_secs(10),
        &format!("stream counts {expected:?}"),
        || async {
            for (stream, count) in expected {
                if stream_count(bus, stream).await != *count {
                    return false;
                }
            }
            true
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap();
    }
}

async fn publish_raw(bus: &NatsBus, subject: &str, payload: Vec<u8>, msg_id: &str) {
    let mut out = Outgoing::new(subject, &cutout("placeholder")).with_msg_id(msg_id);
    out.payload = payload.into();
    bus.publish(vec![out]).await.unwrap();
}

/// Every message stored in a stream, in order.
async fn stream_messages(bus: &NatsBus, stream: &str) -> Vec<jetstream::message::StreamMessage> {
    let mut stream = bus.jetstream().get_stream(stream).await.unwrap();
    let state = stream.info().await.unwrap().state.clone();
    let mut messages = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        if let Ok(m) = stream.get_raw_message(seq).await {
            messages.push(m);
        }
    }
    messages
}

async fn stream_count(bus: &NatsBus, stream: &str) -> u64 {
    let mut stream = bus.jetstream().get_stream(stream).await.unwrap();
    stream.info().await.unwrap().state.messages
}

async fn consumer_info(bus: &NatsBus, stream: &str, durable: &str) -> jetstream::consumer::Info {
    let stream = bus.jetstream().get_stream(stream).await.unwrap();
    stream.consumer_info(durable).await.unwrap()
}

/// Polls `condition` until it holds or `within` passes.
async fn eventually<F, Fut>(within: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {within:?} waiting for: {what}");
}

const SCORES_STREAM: &str = "PROSPECTOR_SCORES";
const CUTOUTS_STREAM: &str = "PROSPECTOR_CUTOUTS";
const DEAD_STREAM: &str = "PROSPECTOR_DEAD";
const PROGRESS_STREAM: &str = "PROSPECTOR_PROGRESS";

#[tokio::test]
async fn topology_is_created_once_and_a_second_start_changes_nothing() {
    let server = NatsServer::start();
    let topology = Topology::default();
    let bus = connect(&server).await;

    let first = bus.ensure_topology(&topology).await.unwrap();
    assert!(
        first.iter().all(|a| a.change == Change::Created),
        "{first:?}"
    );
    // Streams, the stages' consumers, KV buckets and the object store: the evaluator's
    // in-process listeners are not created on a server (nothing there would read them).
    assert_eq!(first.len(), 8 + 3 + 3 + 1, "{first:?}");
    for durable in consumers::RETIRED {
        assert!(!first.iter().any(|a| a.name == durable), "{first:?}");
    }

    bus.publish(vec![Outgoing::new(subjects::CUTOUTS, &cutout("kept"))])
        .await
        .unwrap();
    let second = bus.ensure_topology(&topology).await.unwrap();
    assert!(
        second.iter().all(|a| a.change == Change::Unchanged),
        "{second:?}"
    );
    let scorer_again = bus
        .ensure_consumer(&topology, consumers::SCORER)
        .await
        .unwrap();
    assert_eq!(scorer_again.change, Change::Unchanged);
    assert_eq!(
        stream_count(&bus, CUTOUTS_STREAM).await,
        1,
        "messages survive a restart of the service"
    );
    assert_eq!(
        consumer_info(&bus, CUTOUTS_STREAM, consumers::SCORER)
            .await
            .num_pending,
        1
    );

    // A changed setting updates only the item it belongs to.
    let mut config = topology.config.clone();
    config.consumers.insert(
        consumers::SCORER.into(),
        ConsumerSettings {
            ack_wait: Duration::from_secs(120),
            ..ConsumerSettings::default()
        },
    );
    let third = bus.ensure_topology(&Topology::new(config)).await.unwrap();
    let changed: Vec<_> = third
        .iter()
        .filter(|a| a.change != Change::Unchanged)
        .collect();
    assert_eq!(changed.len(), 1, "{third:?}");
    assert_eq!(
        (changed[0].name.as_str(), changed[0].change),
        (consumers::SCORER, Change::Updated)
    );
    let info = consumer_info(&bus, CUTOUTS_STREAM, consumers::SCORER).await;
    assert_eq!(info.config.ack_wait, Duration::from_secs(120));
    assert_eq!(info.num_pending, 1);

    // An immutable setting that differs is refused with the stream's name.
    let memory = Topology::new(TopologyConfig {
        storage: Storage::Memory,
        ..TopologyConfig::default()
    });
    let err = bus.ensure_topology(&memory).await.unwrap_err().to_string();
    assert!(err.contains("PROSPECTOR_IMAGES"), "{err}");
}

#[tokio::test]
async fn applying_the_topology_deletes_the_durables_earlier_versions_left_idle() {
    let server = NatsServer::start();
    let topology = Topology::default();
    let bus = connect(&server).await;
    bus.ensure_topology(&topology).await.unwrap();
    // What an earlier version created: a durable nobody reads on the scores stream,
    // which piles up pending messages.
    let scores = bus.jetstream().get_stream(SCORES_STREAM).await.unwrap();
    scores
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some(consumers::EVALUATOR_SCORES.to_owned()),
            ..Default::default()
        })
        .await
        .unwrap();

    let applied = bus.ensure_topology(&topology).await.unwrap();
    let changed: Vec<_> = applied
        .iter()
        .filter(|a| a.change != Change::Unchanged)
        .map(|a| (a.name.as_str(), a.change))
        .collect();
    assert_eq!(
        changed,
        [(consumers::EVALUATOR_SCORES, Change::Removed)],
        "{applied:?}"
    );
    assert!(scores
        .consumer_info(consumers::EVALUATOR_SCORES)
        .await
        .is_err());
    // The stages' own consumers stay.
    consumer_info(&bus, CUTOUTS_STREAM, consumers::SCORER).await;
}

#[tokio::test]
async fn outputs_are_published_and_each_input_acked_exactly_once() {
    let server = NatsServer::start();
    let topology = fast_topology(Duration::from_secs(5), 3);
    let bus = connect_with_topology(&server, &topology).await;
    let trace = TraceContext::new_root();
    let inputs: Vec<_> = ["a", "bb", "ccc", "dddd", "eeeee"]
        .iter()
        .map(|s| Outgoing::new(subjects::CUTOUTS, &cutout(s)).with_traceparent(trace.to_header()))
        .collect();
    bus.publish(inputs).await.unwrap();

    let stage = TestScorer::new(Behaviour::Score);
    let metrics = metrics();
    let expected = [(SCORES_STREAM, 5), (CUTOUTS_STREAM, 0)];
    run_scorers_until(&bus, &topology, &stage, &metrics, 1, &expected).await;

    assert_eq!(stage.calls(), 5, "each input handled once");
    let info = consumer_info(&bus, CUTOUTS_STREAM, consumers::SCORER).await;
    assert_eq!(
        (info.num_pending, info.num_ack_pending, info.num_redelivered),
        (0, 0, 0)
    );
    assert_eq!(info.ack_floor.stream_sequence, 5);

    let scores = stream_messages(&bus, SCORES_STREAM).await;
    let mut sources: Vec<_> = scores
        .iter()
        .map(|m| Score::decode(m.payload.clone()).unwrap().source_id)
        .collect();
    sources.sort();
    assert_eq!(sources, ["a", "bb", "ccc", "dddd", "eeeee"]);
    for message in &scores {
        let header = |name: &str| message.headers.get(name).map(|v| v.as_str().to_owned());
        let child = TraceContext::parse(&header("traceparent").unwrap()).unwrap();
        assert_eq!(
            child.trace_id, trace.trace_id,
            "outputs continue the input's trace"
        );
        assert_ne!(child.span_id, trace.span_id);
        assert_eq!(header("Prospector-Image-Id").as_deref(), Some("image-1"));
        let source = Score::decode(message.payload.clone()).unwrap().source_id;
        assert_eq!(header("Prospector-Source-Id"), Some(source.clone()));
        assert_eq!(
            header("Nats-Msg-Id"),
            Some(format!("prospector.scores/{source}/test-model"))
        );
    }
    let exposition = metrics.encode();
    assert!(
        exposition
            .contains(r#"prospector_messages_processed_total{outcome="ok",stage="scorer"} 5"#),
        "{exposition}"
    );
    assert!(exposition.contains(r#"prospector_stage_latency_seconds_count{stage="scorer"} 5"#));
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_and_the_next_good_message_is_processed() {
    let server = NatsServer::start();
    let topology = fast_topology(Duration::from_secs(5), 3);
    let bus = connect_with_topology(&server, &topology).await;
    let garbage = vec![0xff, 0xff, 0xff, 0x01];
    let future = Cutout {
        schema_version: SCHEMA_VERSION + 1,
        ..cutout("from-the-future")
    }
    .encode_to_vec();
    let unscorable = Cutout {
        name: "unscorable".into(),
        ..cutout("empty")
    };
    publish_raw(&bus, subjects::CUTOUTS, garbage.clone(), "garbage").await;
    publish_raw(&bus, subjects::CUTOUTS, future.clone(), "future").await;
    bus.publish(vec![
        Outgoing::new(subjects::CUTOUTS, &unscorable),
        Outgoing::new(subjects::CUTOUTS, &cutout("good")),
    ])
    .await
    .unwrap();

    let stage = TestScorer::new(Behaviour::Score);
    let metrics = metrics();
    let expected = [(DEAD_STREAM, 3), (SCORES_STREAM, 1)];
    run_scorers_until(&bus, &topology, &stage, &metrics, 1, &expected).await;

    let dead: Vec<_> = stream_messages(&bus, DEAD_STREAM).await;
    assert!(dead
        .iter()
        .all(|m| m.subject.as_str() == "prospector.dead.scorer"));
    let letters: Vec<_> = dead
        .iter()
        .map(|m| DeadLetter::decode(m.payload.clone()).unwrap())
        .collect();
    for letter in &letters {
        assert_eq!(letter.original_subject, subjects::CUTOUTS);
        assert_eq!(letter.deliveries, 1, "a permanent fault is not retried");
        assert_eq!(letter.service, "scorer");
        assert_eq!(letter.schema_version, SCHEMA_VERSION);
    }
    assert_eq!(letters[0].payload, garbage, "the original bytes are kept");
    assert!(
        letters[0].reason.contains("undecodable protobuf"),
        "{}",
        letters[0].reason
    );
    assert_eq!(letters[1].payload, future);
    assert!(
        letters[1].reason.contains("schema_version 2 is newer"),
        "{}",
        letters[1].reason
    );
    assert_eq!(
        Cutout::decode(letters[2].payload.as_slice()).unwrap(),
        unscorable
    );
    assert_eq!(letters[2].reason, "cutout has no pixels");

    let score = Score::decode(
        stream_messages(&bus, SCORES_STREAM).await[0]
            .payload
            .clone(),
    )
    .unwrap();
    assert_eq!(score.source_id, "good");
    assert_eq!(
        stream_count(&bus, CUTOUTS_STREAM).await,
        0,
        "poison is not left in the queue"
    );
    let exposition = metrics.encode();
    for reason in ["undecodable", "schema_version", "permanent"] {
        let line =
            format!(r#"prospector_dead_letters_total{{reason="{reason}",stage="scorer"}} 1"#);
        assert!(
            exposition.contains(&line),
            "missing {line} in\n{exposition}"
        );
    }
}

#[tokio::test]
async fn a_message_failing_every_delivery_is_dead_lettered_after_max_deliver() {
    let (_server, topology, bus) = queued_cutouts(Duration::from_secs(5), 3, ["flaky"]).await;

    let stage = TestScorer::new(Behaviour::AlwaysTransient);
    let metrics = metrics();
    run_scorers_until(&bus, &topology, &stage, &metrics, 1, &[(DEAD_STREAM, 1)]).await;

    assert_eq!(*stage.deliveries_seen.lock().unwrap(), [1, 2, 3]);
    let letter =
        DeadLetter::decode(stream_messages(&bus, DEAD_STREAM).await[0].payload.clone()).unwrap();
    assert_eq!(letter.deliveries, 3);
    assert!(
        letter
            .reason
            .starts_with("max deliveries exceeded (3 allowed); last error: model server busy"),
        "{}",
        letter.reason
    );
    // Published with the letter: what the stage says a lost input means for its image.
    let failures = stream_messages(&bus, PROGRESS_STREAM).await;
    assert_eq!(failures.len(), 1);
    let failure = ProgressEvent::decode(failures[0].payload.clone()).unwrap();
    assert_eq!(failure.stage(), prospector_proto::v1::Stage::Failed);
    assert_eq!(failure.detail, letter.reason);
    assert!(!failure.image_id.is_empty());
    assert_eq!(stream_count(&bus, CUTOUTS_STREAM).await, 0);
    assert_eq!(stream_count(&bus, SCORES_STREAM).await, 0);
    let exposition = metrics.encode();
    assert!(
        exposition.contains(
            r#"prospector_messages_processed_total{outcome="transient_error",stage="scorer"} 2"#
        ),
        "{exposition}"
    );
    assert!(exposition
        .contains(r#"prospector_dead_letters_total{reason="max_deliveries",stage="scorer"} 1"#));
}

#[tokio::test]
async fn a_slow_stage_keeps_its_message_with_in_progress_acks() {
    let ack_wait = Duration::from_secs(1);
    let (_server, topology, bus) = queued_cutouts(ack_wait, 3, ["slow"]).await;

    let stage = TestScorer::new(Behaviour::Slow(ack_wait * 3));
    let metrics = metrics();
    let expected = [(SCORES_STREAM, 1), (CUTOUTS_STREAM, 0)];
    run_scorers_until(&bus, &topology, &stage, &metrics, 2, &expected).await;
    assert_eq!(stage.calls(), 1, "the second worker never got the message");
    assert_eq!(
        consumer_info(&bus, CUTOUTS_STREAM, consumers::SCORER)
            .await
            .num_redelivered,
        0
    );
}

/// A bus whose publish reaches the server and then never returns: a worker that dies
/// between its outputs being stored and its input being acknowledged.
#[derive(Clone, Debug)]
struct DiesAfterPublish {
    inner: NatsBus,
    published: Arc<tokio::sync::Notify>,
}

impl Bus for DiesAfterPublish {
    type Subscription = <NatsBus as Bus>::Subscription;

    async fn publish(
        &self,
        messages: Vec<Outgoing>,
    ) -> Result<Vec<PublishReceipt>, prospector_bus::BusError> {
        self.inner.publish(messages).await?;
        self.published.notify_one();
        std::future::pending().await
    }

    async fn subscribe(
        &self,
        consumer: &prospector_bus::ConsumerSpec,
    ) -> Result<Self::Subscription, prospector_bus::BusError> {
        self.inner.subscribe(consumer).await
    }
}

#[tokio::test]
async fn a_worker_killed_before_acking_is_redelivered_and_its_repeat_publish_dropped() {
    let (_server, topology, bus) = queued_cutouts(Duration::from_secs(1), 3, ["crash"]).await;

    let stage = TestScorer::new(Behaviour::Score);
    let metrics = metrics();
    let shutdown = CancellationToken::new();
    let dying = DiesAfterPublish {
        inner: bus.clone(),
        published: Arc::new(tokio::sync::Notify::new()),
    };
    let doomed = spawn_scorer(dying.clone(), &topology, stage.clone(), &metrics, &shutdown);
    tokio::time::timeout(Duration::from_secs(10), dying.published.notified())
        .await
        .expect("the first worker published its output");
    doomed.abort();
    assert!(doomed.await.unwrap_err().is_cancelled());
    assert_eq!(stream_count(&bus, SCORES_STREAM).await, 1);

    let survivor = spawn_scorer(bus.clone(), &topology, stage.clone(), &metrics, &shutdown);
    eventually(
        Duration::from_secs(10),
        "the redelivered cutout acknowledged",
        || async { stream_count(&bus, CUTOUTS_STREAM).await == 0 },
    )
    .await;
    shutdown.cancel();
    survivor.await.unwrap();

    assert_eq!(
        *stage.deliveries_seen.lock().unwrap(),
        [1, 2],
        "handled again after the crash"
    );
    assert_eq!(
        stream_count(&bus, SCORES_STREAM).await,
        1,
        "the repeated output was dropped as a duplicate"
    );
}

#[tokio::test]
async fn connecting_without_credentials_to_a_server_that_requires_them_fails_naming_the_server() {
    let server = NatsServer::start_with(NatsServerOptions {
        auth: Some(NatsAuth::UserPassword {
            user: "prospector".into(),
            password: "s3cret".into(),
        }),
        ..NatsServerOptions::default()
    });
    let anonymous = NatsConfig {
        servers: vec![server.url()],
        ..NatsConfig::default()
    };
    let err = NatsBus::connect(&anonymous, "auth-test")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&server.url()), "{err}");
    assert!(err.contains("authorization violation"), "{err}");

    let wrong = NatsConfig {
        user: Some("prospector".into()),
        password: Some("guess".into()),
        ..anonymous.clone()
    };
    assert!(NatsBus::connect(&wrong, "auth-test").await.is_err());

    let right = NatsConfig {
        password: Some("s3cret".into()),
        ..wrong
    };
    let bus = NatsBus::connect(&right, "auth-test").await.unwrap();
    bus.ensure_topology(&Topology::default()).await.unwrap();
}

#[tokio::test]
async fn requiring_tls_from_a_plain_server_fails_with_a_tls_error() {
    let server = NatsServer::start();
    let mut config = NatsConfig {
        servers: vec![server.url()],
        ..NatsConfig::default()
    };
    config.tls.required = true;
    let err = NatsBus::connect(&config, "tls-test")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&server.url()), "{err}");
    assert!(err.to_lowercase().contains("tls"), "{err}");
}

#[tokio::test]
async fn conflicting_auth_settings_are_refused_before_connecting() {
    let config = NatsConfig {
        token: Some("t".into()),
        user: Some("u".into()),
        password: Some("p".into()),
        ..NatsConfig::default()
    };
    let err = NatsBus::connect(&config, "auth-test")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("at most one"), "{err}");
}

/// The inputs of the parity test: good cutouts, a permanent failure and a poison pill.
fn parity_inputs() -> Vec<Outgoing> {
    let mut poison = Outgoing::new(subjects::CUTOUTS, &cutout("poison")).with_msg_id("poison");
    poison.payload = vec![0xff, 0xff].into();
    vec![
        Outgoing::new(subjects::CUTOUTS, &cutout("one")),
        Outgoing::new(subjects::CUTOUTS, &cutout("three")),
        Outgoing::new(
            subjects::CUTOUTS,
            &Cutout {
                name: "unscorable".into(),
                ..cutout("empty")
            },
        ),
        poison,
        Outgoing::new(subjects::CUTOUTS, &cutout("seven77")),
    ]
}

/// What a bus delivered downstream: (subject, message id, payload without the dead
/// letter's timestamp), sorted.
fn normalise(mut outputs: Vec<(String, String, Vec<u8>)>) -> Vec<(String, String, Vec<u8>)> {
    for (subject, _, payload) in &mut outputs {
        if subject.starts_with(subjects::DEAD) {
            let mut letter = DeadLetter::decode(payload.as_slice()).unwrap();
            letter.at_unix_ms = 0;
            *payload = letter.encode_to_vec();
        }
    }
    outputs.sort();
    outputs
}

#[tokio::test]
async fn the_in_process_bus_gives_the_same_outputs_as_nats() {
    let topology = fast_topology(Duration::from_secs(5), 3);

    let server = NatsServer::start();
    let nats = connect_with_topology(&server, &topology).await;
    nats.publish(parity_inputs()).await.unwrap();
    let stage = TestScorer::new(Behaviour::Score);
    let expected = [(CUTOUTS_STREAM, 0), (SCORES_STREAM, 3), (DEAD_STREAM, 2)];
    run_scorers_until(&nats, &topology, &stage, &metrics(), 1, &expected).await;
    let mut from_nats = Vec::new();
    for stream in [SCORES_STREAM, DEAD_STREAM] {
        for m in stream_messages(&nats, stream).await {
            let id = m.headers.get("Nats-Msg-Id").unwrap().as_str().to_owned();
            from_nats.push((m.subject.to_string(), id, m.payload.to_vec()));
        }
    }

    let listened = [
        topology.consumer(consumers::SCORER).unwrap().clone(),
        topology
            .consumer(consumers::EVALUATOR_SCORES)
            .unwrap()
            .clone(),
        topology
            .consumer(consumers::EVALUATOR_DEAD)
            .unwrap()
            .clone(),
    ];
    let local = InProcessBus::new(&listened, 16, Duration::from_secs(120));
    local.publish(parity_inputs()).await.unwrap();
    let shutdown = CancellationToken::new();
    let worker = spawn_scorer(
        local.clone(),
        &topology,
        TestScorer::new(Behaviour::Score),
        &metrics(),
        &shutdown,
    );
    let mut from_local = Vec::new();
    for consumer in &listened[1..] {
        let mut subscription = local.subscribe(consumer).await.unwrap();
        let expected = if consumer.durable == consumers::EVALUATOR_DEAD {
            2
        } else {
            3
        };
        let mut received = Vec::new();
        while received.len() < expected {
            let batch = subscription
                .next_batch(16, Duration::from_millis(10), Duration::from_secs(10))
                .await
                .unwrap();
            assert!(
                !batch.is_empty(),
                "in-process outputs on {} stopped at {}",
                consumer.durable,
                received.len()
            );
            received.extend(batch);
        }
        for d in &received {
            use prospector_bus::Delivery;
            from_local.push((
                d.subject().to_owned(),
                d.header("Nats-Msg-Id").unwrap().to_owned(),
                d.payload().to_vec(),
            ));
            d.ack().await.unwrap();
        }
    }
    shutdown.cancel();
    worker.await.unwrap();

    let (from_nats, from_local) = (normalise(from_nats), normalise(from_local));
    assert_eq!(from_nats.len(), 5);
    // The dead letters' ids name the stored message (stream sequence vs in-process
    // sequence); everything else must be identical.
    let without_dead_ids = |v: &[(String, String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
        v.iter().map(|(s, _, p)| (s.clone(), p.clone())).collect()
    };
    assert_eq!(without_dead_ids(&from_nats), without_dead_ids(&from_local));
    let score_ids = |v: &[(String, String, Vec<u8>)]| -> Vec<String> {
        v.iter()
            .filter(|(s, ..)| s == subjects::SCORES)
            .map(|(_, id, _)| id.clone())
            .collect()
    };
    assert_eq!(score_ids(&from_nats), score_ids(&from_local));
}

#[tokio::test]
async fn the_in_process_bus_redelivers_what_a_dead_worker_held_and_drops_duplicates() {
    let topology = fast_topology(Duration::from_secs(5), 3);
    let scorer = topology.consumer(consumers::SCORER).unwrap().clone();
    let local = InProcessBus::new(std::slice::from_ref(&scorer), 4, Duration::from_secs(120));
    let first = local
        .publish(vec![Outgoing::new(subjects::CUTOUTS, &cutout("x"))])
        .await
        .unwrap();
    let again = local
        .publish(vec![Outgoing::new(subjects::CUTOUTS, &cutout("x"))])
        .await
        .unwrap();
    assert!(!first[0].duplicate);
    assert!(again[0].duplicate);
    assert_eq!(again[0].sequence, first[0].sequence);

    let mut subscription = local.subscribe(&scorer).await.unwrap();
    let batch = subscription
        .next_batch(4, Duration::from_millis(10), Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(batch.len(), 1, "the duplicate was not queued");
    drop(batch); // the worker died holding it
    let batch = subscription
        .next_batch(4, Duration::from_millis(10), Duration::from_secs(1))
        .await
        .unwrap();
    use prospector_bus::Delivery;
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].deliveries(), 2);
    batch[0].ack().await.unwrap();
    drop(batch);
    let batch = subscription
        .next_batch(4, Duration::from_millis(10), Duration::from_millis(200))
        .await
        .unwrap();
    assert!(
        batch.is_empty(),
        "an acknowledged message is not redelivered"
    );
}

#[tokio::test]
async fn consumer_lag_gauges_come_from_the_server() {
    let sources = (0..4).map(|i| format!("lag{i}"));
    let (_server, topology, bus) = queued_cutouts(Duration::from_secs(5), 3, sources).await;
    let metrics = metrics();
    let shutdown = CancellationToken::new();
    let poller = bus.spawn_consumer_metrics(
        &metrics,
        &topology.consumers,
        Duration::from_millis(100),
        shutdown.clone(),
    );
    eventually(Duration::from_secs(5), "the scorer's lag of 4", || async {
        metrics
            .encode()
            .contains(r#"prospector_consumer_pending_messages{consumer="scorer",stream="PROSPECTOR_CUTOUTS"} 4"#)
    })
    .await;
    shutdown.cancel();
    poller.await.unwrap();
}

#[tokio::test]
async fn the_scorer_gets_dynamic_batches_bounded_by_size_and_wait() {
    let sources = (0..11).map(|i| format!("batch{i}"));
    let (_server, topology, bus) = queued_cutouts(Duration::from_secs(5), 3, sources).await;

    let stage = TestScorer::new(Behaviour::Score);
    let metrics = metrics();
    let shutdown = CancellationToken::new();
    let config = RunnerConfig {
        // Far longer than the bound below: a runner that waited for a full batch (or for
        // the idle timeout) instead of `max_wait` would fail it.
        idle_poll: Duration::from_secs(4),
        ..batching_runner_config()
    };
    let worker = spawn_scorer_with(
        bus.clone(),
        &topology,
        stage.clone(),
        &metrics,
        &shutdown,
        config,
    );
    eventually(
        Duration::from_secs(10),
        "the queued cutouts scored",
        || async { stream_count(&bus, SCORES_STREAM).await == 11 },
    )
    .await;
    assert_eq!(*stage.batch_sizes.lock().unwrap(), [8, 3]);

    let lone = std::time::Instant::now();
    bus.publish(vec![Outgoing::new(subjects::CUTOUTS, &cutout("lone"))])
        .await
        .unwrap();
    eventually(
        Duration::from_secs(10),
        "the lone cutout scored",
        || async { stream_count(&bus, SCORES_STREAM).await == 12 },
    )
    .await;
    assert!(
        lone.elapsed() < Duration::from_secs(2),
        "a lone message waited {:?} for a batch that never filled",
        lone.elapsed()
    );
    shutdown.cancel();
    worker.await.unwrap();
    assert_eq!(*stage.batch_sizes.lock().unwrap(), [8, 3, 1]);
    let exposition = metrics.encode();
    assert!(
        exposition.contains(r#"prospector_batch_size_sum{stage="scorer"} 12"#),
        "{exposition}"
    );
    assert!(exposition.contains(r#"prospector_batch_size_count{stage="scorer"} 3"#));
}

#[tokio::test]
async fn shutdown_finishes_the_in_flight_message_then_stops_pulling() {
    let (_server, topology, bus) =
        queued_cutouts(Duration::from_secs(5), 3, ["first", "second"]).await;

    let stage = TestScorer::new(Behaviour::Slow(Duration::from_millis(500)));
    let metrics = metrics();
    let shutdown = CancellationToken::new();
    let worker = spawn_scorer(bus.clone(), &topology, stage.clone(), &metrics, &shutdown);
    eventually(
        Duration::from_secs(10),
        "the first cutout in the stage",
        || async { stage.calls() == 1 },
    )
    .await;
    shutdown.cancel();
    worker.await.unwrap();

    assert_eq!(
        stage.calls(),
        1,
        "nothing pulled after the shutdown request"
    );
    assert_eq!(
        stream_count(&bus, SCORES_STREAM).await,
        1,
        "the in-flight message finished"
    );
    assert_eq!(
        stream_count(&bus, CUTOUTS_STREAM).await,
        1,
        "the second waits for the next worker"
    );
    let info = consumer_info(&bus, CUTOUTS_STREAM, consumers::SCORER).await;
    assert_eq!(
        (info.num_ack_pending, info.num_pending),
        (0, 1),
        "no message left held"
    );
}

#[tokio::test]
async fn the_runner_carries_on_after_the_server_restarts() {
    let mut server = NatsServer::start_with(NatsServerOptions {
        monitoring: true,
        ..NatsServerOptions::default()
    });
    let topology = fast_topology(Duration::from_secs(5), 3);
    let bus = connect_with_topology(&server, &topology).await;
    let jsz = format!("{}/jsz", server.monitoring_url().unwrap());
    let (status, body) = tokio::task::spawn_blocking(move || prospector_tests::http_get(&jsz))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(
        body.contains("\"streams\": 12"),
        "the monitoring port reports the topology: {body}"
    );
    bus.publish(vec![Outgoing::new(subjects::CUTOUTS, &cutout("before"))])
        .await
        .unwrap();
    let stage = TestScorer::new(Behaviour::Score);
    let metrics = metrics();
    let shutdown = CancellationToken::new();
    let worker = spawn_scorer(bus.clone(), &topology, stage.clone(), &metrics, &shutdown);
    eventually(Duration::from_secs(10), "the first score", || async {
        stream_count(&bus, SCORES_STREAM).await == 1
    })
    .await;

    server.restart();
    // Publishing waits for the client to reconnect; the streams are on disk.
    let after: Vec<_> = ["after1", "after2"]
        .iter()
        .map(|s| Outgoing::new(subjects::CUTOUTS, &cutout(s)))
        .collect();
    eventually(
        Duration::from_secs(10),
        "publishing after the restart",
        || {
            let (bus, after) = (bus.clone(), after.clone());
            async move { bus.publish(after).await.is_ok() }
        },
    )
    .await;
    eventually(Duration::from_secs(10), "all three scores", || async {
        stream_count(&bus, SCORES_STREAM).await == 3
            && stream_count(&bus, CUTOUTS_STREAM).await == 0
    })
    .await;
    shutdown.cancel();
    worker.await.unwrap();
}

#[tokio::test]
async fn a_full_downstream_stream_holds_the_input_without_spending_its_deliveries() {
    let server = NatsServer::start();
    let mut config = TopologyConfig {
        consumer: ConsumerSettings {
            ack_wait: Duration::from_secs(1),
            max_deliver: 2,
            max_ack_pending: 100,
        },
        ..TopologyConfig::default()
    };
    config.history = StreamLimits {
        max_messages: 2,
        discard: Discard::New,
        ..config.history
    };
    let topology = Topology::new(config);
    let bus = connect_with_topology(&server, &topology).await;
    let inputs = ["full1", "full2", "full3"]
        .iter()
        .map(|s| Outgoing::new(subjects::CUTOUTS, &cutout(s)))
        .collect();
    bus.publish(inputs).await.unwrap();

    let stage = TestScorer::new(Behaviour::Score);
    let metrics = metrics();
    let shutdown = CancellationToken::new();
    let worker = spawn_scorer(bus.clone(), &topology, stage.clone(), &metrics, &shutdown);
    eventually(
        Duration::from_secs(10),
        "the scores stream full",
        || async { stream_count(&bus, SCORES_STREAM).await == 2 },
    )
    .await;
    // Longer than two ack waits: a runner that NAKed would have used both deliveries and
    // dead-lettered the third cutout by now; one without in-progress acks would lose it
    // to a redelivery.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(stream_count(&bus, DEAD_STREAM).await, 0);
    let info = consumer_info(&bus, CUTOUTS_STREAM, consumers::SCORER).await;
    assert_eq!(
        (info.num_ack_pending, info.num_redelivered),
        (1, 0),
        "the third cutout is held, not redelivered"
    );

    // The evaluator catches up: room downstream again.
    let scores = bus.jetstream().get_stream(SCORES_STREAM).await.unwrap();
    scores.purge().await.unwrap();
    eventually(
        Duration::from_secs(10),
        "the held score published",
        || async {
            stream_count(&bus, SCORES_STREAM).await == 1
                && stream_count(&bus, CUTOUTS_STREAM).await == 0
        },
    )
    .await;
    shutdown.cancel();
    worker.await.unwrap();
    assert_eq!(*stage.deliveries_seen.lock().unwrap(), [1, 1, 1]);
    assert_eq!(stream_count(&bus, DEAD_STREAM).await, 0);
}

#[tokio::test]
async fn an_output_too_large_for_the_server_dead_letters_only_its_own_input() {
    let server = NatsServer::start_with(NatsServerOptions {
        extra_config: "max_payload: 4096\n".into(),
        ..NatsServerOptions::default()
    });
    let topology = fast_topology(Duration::from_secs(5), 3);
    let bus = connect_with_topology(&server, &topology).await;
    // Its score carries the pixels twice (cutout and reconstruction): over 4 KiB.
    let big = Cutout {
        model_pixels: Some(Pixels {
            width: 640,
            height: 1,
            encoding: PixelEncoding::F32Le as i32,
            data: vec![0; 640 * 4],
        }),
        ..cutout("big")
    };
    bus.publish(vec![
        Outgoing::new(subjects::CUTOUTS, &cutout("small1")),
        Outgoing::new(subjects::CUTOUTS, &big),
        Outgoing::new(subjects::CUTOUTS, &cutout("small2")),
    ])
    .await
    .unwrap();

    let stage = TestScorer::new(Behaviour::Score);
    let metrics = metrics();
    let shutdown = CancellationToken::new();
    let config = batching_runner_config();
    let worker = spawn_scorer_with(
        bus.clone(),
        &topology,
        stage.clone(),
        &metrics,
        &shutdown,
        config,
    );
    eventually(
        Duration::from_secs(10),
        "two scores, one dead letter",
        || async {
            stream_count(&bus, SCORES_STREAM).await == 2
                && stream_count(&bus, DEAD_STREAM).await == 1
                && stream_count(&bus, CUTOUTS_STREAM).await == 0
        },
    )
    .await;
    shutdown.cancel();
    worker.await.unwrap();

    assert_eq!(
        *stage.batch_sizes.lock().unwrap(),
        [3],
        "all three in one batch"
    );
    assert_eq!(
        *stage.deliveries_seen.lock().unwrap(),
        [1, 1, 1],
        "nothing retried"
    );
    let letter =
        DeadLetter::decode(stream_messages(&bus, DEAD_STREAM).await[0].payload.clone()).unwrap();
    assert_eq!(Cutout::decode(letter.payload.as_slice()).unwrap(), big);
    assert!(letter.reason.contains("too large"), "{}", letter.reason);
    let mut scored: Vec<_> = stream_messages(&bus, SCORES_STREAM)
        .await
        .iter()
        .map(|m| Score::decode(m.payload.clone()).unwrap().source_id)
        .collect();
    scored.sort();
    assert_eq!(scored, ["small1", "small2"]);
    assert!(metrics
        .encode()
        .contains(r#"prospector_dead_letters_total{reason="output_too_large",stage="scorer"} 1"#));
}

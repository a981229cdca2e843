//! Throughput of the stage runner against a hand-written JetStream worker loop, same
//! server, same messages, same run: what the runner's guarantees (publish acks awaited
//! before confirmed input acks, in-progress timers, spans) cost.
//!
//! `cargo bench -p prospector-tests --bench bus_throughput` (prints messages per second
//! and the ratio to the hand-written loop).

use async_nats::jetstream::{self, consumer::PullConsumer};
use futures::StreamExt;
use prospector_bus::topology::{consumers, subjects};
use prospector_bus::{
    Bus, CancellationToken, Incoming, NatsBus, NatsConfig, Outgoing, RunnerConfig, Stage,
    StageError, StageRunner, Topology,
};
use prospector_proto::v1::{Cutout, PixelEncoding, Pixels, Score};
use prospector_proto::SCHEMA_VERSION;
use prospector_tests::NatsServer;
use prost::Message;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MESSAGES: usize = 4000;

/// Cutout in, score out: no work, so the transport is all that is measured.
struct Relabel;

impl Stage for Relabel {
    type Input = Cutout;

    async fn handle(&self, input: Incoming<Cutout>) -> Result<Vec<Outgoing>, StageError> {
        Ok(vec![Outgoing::new(subjects::SCORES, &score(input.message))])
    }
}

fn score(cutout: Cutout) -> Score {
    Score {
        schema_version: SCHEMA_VERSION,
        source_id: cutout.source_id,
        image_id: cutout.image_id,
        model_pixels: cutout.model_pixels,
        ..Default::default()
    }
}

fn cutouts(round: usize) -> Vec<Outgoing> {
    (0..MESSAGES)
        .map(|i| {
            let cutout = Cutout {
                schema_version: SCHEMA_VERSION,
                source_id: format!("r{round}-s{i}"),
                image_id: "bench".into(),
                model_pixels: Some(Pixels {
                    width: 16,
                    height: 16,
                    encoding: PixelEncoding::F32Le as i32,
                    data: vec![1; 16 * 16 * 4],
                }),
                ..Default::default()
            };
            Outgoing::new(subjects::CUTOUTS, &cutout)
        })
        .collect()
}

async fn scores(bus: &NatsBus) -> u64 {
    let mut stream = bus
        .jetstream()
        .get_stream("PROSPECTOR_SCORES")
        .await
        .unwrap();
    stream.info().await.unwrap().state.messages
}

async fn wait_for(bus: &NatsBus, total: u64) {
    while scores(bus).await < total {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn with_runner(bus: &NatsBus, topology: &Topology, max_batch: usize, total: u64) -> f64 {
    let shutdown = CancellationToken::new();
    let metrics = prospector_telemetry::Metrics::new("bench", "0").unwrap();
    let runner = StageRunner::new(
        bus.clone(),
        topology.consumer(consumers::SCORER).unwrap().clone(),
        Arc::new(Relabel),
        &metrics,
    )
    .with_config(RunnerConfig {
        max_batch,
        max_wait: Duration::from_millis(5),
        ..RunnerConfig::default()
    });
    let started = Instant::now();
    let task = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { runner.run(shutdown).await.unwrap() }
    });
    wait_for(bus, total).await;
    let rate = MESSAGES as f64 / started.elapsed().as_secs_f64();
    shutdown.cancel();
    task.await.unwrap();
    rate
}

/// The usual hand-written loop: pull a batch, publish, await the publish acks, ack
/// (fire-and-forget) each input.
async fn by_hand(bus: &NatsBus, batch: usize, total: u64) -> f64 {
    let js: &jetstream::Context = bus.jetstream();
    let consumer: PullConsumer = js
        .get_stream("PROSPECTOR_CUTOUTS")
        .await
        .unwrap()
        .get_consumer(consumers::SCORER)
        .await
        .unwrap();
    let started = Instant::now();
    let mut done = 0;
    while done < MESSAGES {
        let mut messages = consumer
            .batch()
            .max_messages(batch)
            .expires(Duration::from_millis(5))
            .messages()
            .await
            .unwrap();
        let mut inputs = Vec::new();
        while let Some(Ok(m)) = messages.next().await {
            inputs.push(m);
        }
        let mut acks = Vec::new();
        for m in &inputs {
            let out = score(Cutout::decode(m.payload.clone()).unwrap());
            acks.push(
                js.publish(subjects::SCORES, out.encode_to_vec().into())
                    .await
                    .unwrap(),
            );
        }
        for ack in acks {
            ack.await.unwrap();
        }
        for m in &inputs {
            m.ack().await.unwrap();
        }
        done += inputs.len();
    }
    wait_for(bus, total).await;
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let server = NatsServer::start();
    let topology = Topology::default();
    let bus = NatsBus::connect(
        &NatsConfig {
            servers: vec![server.url()],
            ..NatsConfig::default()
        },
        "bench",
    )
    .await
    .unwrap();
    bus.ensure_topology(&topology).await.unwrap();

    let mut results = Vec::new();
    let setups = [
        ("hand loop, batch 64", 64),
        ("runner, batch 64", 64),
        ("hand loop, batch 1", 1),
        ("runner, batch 1", 1),
    ];
    for (round, (label, max_batch)) in setups.into_iter().enumerate() {
        let total = (MESSAGES * (round + 1)) as u64;
        bus.publish(cutouts(round)).await.unwrap();
        let rate = if label.starts_with("hand") {
            by_hand(&bus, max_batch, total).await
        } else {
            with_runner(&bus, &topology, max_batch, total).await
        };
        results.push((label, max_batch, rate));
    }
    println!("{MESSAGES} messages of ~1 KiB each way, one worker, nats-server on loopback");
    for (label, batch, rate) in &results {
        let hand = results
            .iter()
            .find(|(l, b, _)| l.starts_with("hand") && b == batch)
            .map(|(_, _, r)| *r)
            .unwrap_or(f64::NAN);
        println!(
            "{label:<22} {rate:>9.0} msg/s  ({:.2}x the hand loop)",
            rate / hand
        );
    }
}

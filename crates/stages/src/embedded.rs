//! The embedded pipeline: tiler -> extractor -> scorer over an [`InProcessBus`], the
//! same stages and runner the services use, feeding a ranked
//! [`prospector_ranking::Catalogue`] until every image is complete or failed.

use crate::{CutoutModel, ExtractorStage, ScorerStage, TilerStage};
use prospector_bus::topology::{consumers, subjects};
use prospector_bus::{
    decode, Bus, CancellationToken, Delivery, InProcessBus, Outgoing, RunnerConfig, StageRunner,
    Subscription, Topology, IMAGE_ID_HEADER,
};
use prospector_proto::v1::{self, DeadLetter, ImageRef, ProgressEvent, Score, TilePlan};
use prospector_proto::SCHEMA_VERSION;
use prospector_ranking::{Catalogue, ImageState};
use prospector_sources::FinderConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why the embedded run stopped.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("cannot read {path}: {reason}")]
    Image { path: PathBuf, reason: String },
    #[error("bus: {0}")]
    Bus(String),
    #[error("metrics: {0}")]
    Metrics(String),
}

/// One submitted image and its id (SHA-256 of its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub path: PathBuf,
    pub image_id: String,
}

/// Runs `images` through the pipeline and returns the catalogue once every image is
/// complete or failed (see [`Catalogue::image`] for each one's state).
pub async fn run_embedded<M: CutoutModel>(
    images: &[PathBuf],
    finder: FinderConfig,
    model: M,
    scorer_batch: usize,
) -> Result<(Catalogue, Vec<Submitted>), EmbeddedError> {
    let topology = Topology::default();
    let spec = |name: &str| {
        topology
            .consumer(name)
            .cloned()
            .map_err(|e| EmbeddedError::Bus(e.to_string()))
    };
    let collected = [
        consumers::EVALUATOR_PLANS,
        consumers::EVALUATOR_PROGRESS,
        consumers::EVALUATOR_SCORES,
        consumers::EVALUATOR_DEAD,
    ];
    let mut specs = vec![
        spec(consumers::TILER)?,
        spec(consumers::EXTRACTOR)?,
        spec(consumers::SCORER)?,
    ];
    for name in collected {
        specs.push(spec(name)?);
    }
    let bus = InProcessBus::new(&specs, 1024, Duration::from_secs(24 * 3600));
    let metrics = prospector_telemetry::Metrics::new("embedded", env!("CARGO_PKG_VERSION"))
        .map_err(|e| EmbeddedError::Metrics(e.to_string()))?;
    let shutdown = CancellationToken::new();
    let quick = RunnerConfig {
        idle_poll: Duration::from_millis(100),
        ..RunnerConfig::default()
    };
    let mut workers = tokio::task::JoinSet::new();
    let tiler = StageRunner::new(
        bus.clone(),
        specs[0].clone(),
        Arc::new(TilerStage::new(finder.clone())),
        &metrics,
    )
    .with_config(quick.clone());
    let extractor = StageRunner::new(
        bus.clone(),
        specs[1].clone(),
        Arc::new(ExtractorStage::new(finder)),
        &metrics,
    )
    .with_config(quick.clone());
    let scorer = StageRunner::new(
        bus.clone(),
        specs[2].clone(),
        Arc::new(ScorerStage::new(model)),
        &metrics,
    )
    .with_config(RunnerConfig {
        max_batch: scorer_batch.max(1),
        ..quick
    });
    let extractors = std::thread::available_parallelism().map_or(1, |n| n.get());
    workers.spawn({
        let s = shutdown.clone();
        async move { tiler.run(s).await }
    });
    for _ in 0..extractors {
        let (runner, s) = (extractor.clone(), shutdown.clone());
        workers.spawn(async move { runner.run(s).await });
    }
    workers.spawn({
        let s = shutdown.clone();
        async move { scorer.run(s).await }
    });

    let (sender, mut events) = tokio::sync::mpsc::channel::<Event>(1024);
    for name in collected {
        let mut subscription = bus
            .subscribe(&spec(name)?)
            .await
            .map_err(|e| EmbeddedError::Bus(e.to_string()))?;
        let (sender, stop) = (sender.clone(), shutdown.clone());
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let Ok(batch) = subscription
                    .next_batch(256, Duration::from_millis(5), Duration::from_millis(100))
                    .await
                else {
                    break;
                };
                for delivery in batch {
                    let event = Event::read(&delivery);
                    let _ = delivery.ack().await;
                    if let Some(event) = event {
                        if sender.send(event).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
    drop(sender);

    let mut submitted = Vec::with_capacity(images.len());
    for path in images {
        let image_id =
            prospector_sources::pipeline::file_sha256(path).map_err(|e| EmbeddedError::Image {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let size_bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let message = ImageRef {
            schema_version: SCHEMA_VERSION,
            image_id: image_id.clone(),
            uri: path.display().to_string(),
            field: file_stem(path),
            size_bytes,
            ..Default::default()
        };
        bus.publish(vec![Outgoing::new(subjects::IMAGES, &message)])
            .await
            .map_err(|e| EmbeddedError::Bus(e.to_string()))?;
        submitted.push(Submitted {
            path: path.clone(),
            image_id,
        });
    }

    let mut catalogue = Catalogue::new();
    let finished = |catalogue: &Catalogue| {
        submitted.iter().all(|s| {
            catalogue
                .image(&s.image_id)
                .is_some_and(|p| matches!(p.state(), ImageState::Complete | ImageState::Failed))
        })
    };
    while !finished(&catalogue) {
        let Some(event) = events.recv().await else {
            break;
        };
        match event {
            Event::Plan(plan) => catalogue.apply_plan(plan),
            Event::Progress(progress) => {
                catalogue.apply_progress(&progress);
            }
            Event::Score(score) => {
                catalogue.apply_score(*score);
            }
        }
    }
    shutdown.cancel();
    while workers.join_next().await.is_some() {}
    Ok((catalogue, submitted))
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What the collector applies to the catalogue.
enum Event {
    Plan(TilePlan),
    Progress(ProgressEvent),
    Score(Box<Score>),
}

impl Event {
    fn read(delivery: &impl Delivery) -> Option<Event> {
        let payload = delivery.payload();
        let subject = delivery.subject();
        if subject.starts_with(subjects::PLANS) {
            decode(payload).ok().map(Event::Plan)
        } else if subject.starts_with(subjects::PROGRESS) {
            decode(payload).ok().map(Event::Progress)
        } else if subject.starts_with(subjects::SCORES) {
            decode(payload).ok().map(|s| Event::Score(Box::new(s)))
        } else {
            // A dead letter fails its image, with the reason.
            let letter: DeadLetter = decode(payload).ok()?;
            let image_id = delivery.header(IMAGE_ID_HEADER)?.to_owned();
            Some(Event::Progress(ProgressEvent {
                schema_version: SCHEMA_VERSION,
                image_id,
                stage: v1::Stage::Failed as i32,
                detail: letter.reason,
                ..Default::default()
            }))
        }
    }
}

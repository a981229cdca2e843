//! The live catalogue and the loop that feeds it from the bus.

use crate::feed::{Event, FEED_COUNT};
use crate::live_metrics::LiveMetrics;
use crate::outputs::{image_status, Outputs};
use prospector_bus::CancellationToken;
use prospector_ranking::{Catalogue, ImageState, ScoreOutcome};
use prospector_telemetry::{EvaluatorMetrics, Readiness};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::mpsc;

/// Readiness condition set once every history stream has been replayed.
pub const REPLAY_CONDITION: &str = "replay";

/// How often a catalogue CSV that could not be written is tried again.
const CSV_RETRY_EVERY: Duration = Duration::from_secs(5);

/// Events applied before the side effects (KV status, CSV, gauges) are written.
const MAX_EVENTS_PER_BATCH: usize = 1024;

/// The catalogue shared by the feed, the gRPC and the HTTP servers, with the metrics
/// that describe it.
#[derive(Debug)]
pub struct Evaluator {
    catalogue: RwLock<Catalogue>,
    /// Each catalogued source's sequence in the scores stream, where its pictures stay
    /// (the catalogue drops them: memory grows by a few hundred bytes a source, not 32 KiB).
    score_sequences: RwLock<HashMap<String, u64>>,
    metrics: EvaluatorMetrics,
}

impl Evaluator {
    pub fn new(metrics: EvaluatorMetrics) -> Self {
        Self {
            catalogue: RwLock::new(Catalogue::new()),
            score_sequences: RwLock::new(HashMap::new()),
            metrics,
        }
    }

    /// Where in the scores stream the catalogued score of `source_id` was read.
    pub fn score_sequence(&self, source_id: &str) -> Option<u64> {
        self.score_sequences
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(source_id)
            .copied()
    }

    /// Reads the catalogue. A panic elsewhere while it was held cannot leave it half
    /// updated (each apply is a single insertion), so a poisoned lock is still usable.
    pub fn read(&self) -> RwLockReadGuard<'_, Catalogue> {
        self.catalogue
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Catalogue> {
        self.catalogue
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn metrics(&self) -> &EvaluatorMetrics {
        &self.metrics
    }

    /// Sets `prospector_labelled_auc` from the catalogue as it is now.
    pub fn refresh_labelled_auc(&self) {
        let auc = LiveMetrics::of(&self.read()).auc;
        self.metrics.labelled_auc.set(auc);
    }
}

/// Images whose state changed in a batch and must have their outputs rewritten.
#[derive(Debug, Default)]
struct Changes {
    images: BTreeSet<String>,
    /// Images that became complete in this batch.
    completed: BTreeSet<String>,
    ranking_or_labels: bool,
}

/// Applies the feed's events to the catalogue until `shutdown`. While the streams are
/// being replayed nothing is written; once all are caught up, every image's status (and
/// catalogue CSV when complete) is written once, then after each batch of live events.
pub async fn apply_events(
    evaluator: &Evaluator,
    mut events: mpsc::Receiver<Event>,
    outputs: &Outputs,
    readiness: &Readiness,
    shutdown: CancellationToken,
) {
    let mut caught_up = 0usize;
    let mut csv_pending: BTreeSet<String> = BTreeSet::new();
    let mut csv_written: HashSet<String> = HashSet::new();
    let mut retry = tokio::time::interval(CSV_RETRY_EVERY);
    let mut changes = Changes::default();
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = retry.tick() => None,
            event = events.recv() => match event {
                Some(event) => Some(event),
                None => return,
            },
        };
        let was_replaying = caught_up < FEED_COUNT;
        if let Some(event) = first {
            let mut batch = vec![event];
            while batch.len() < MAX_EVENTS_PER_BATCH {
                match events.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                }
            }
            for event in batch {
                if matches!(event, Event::CaughtUp(_)) {
                    caught_up += 1;
                } else {
                    apply(evaluator, event, &mut changes);
                }
            }
        }
        if caught_up < FEED_COUNT {
            continue;
        }
        if was_replaying {
            tracing::info!(
                sources = evaluator.read().len(),
                "history replayed; the catalogue is live"
            );
            changes.images = evaluator
                .read()
                .images()
                .map(|(id, _)| id.to_owned())
                .collect();
            changes.completed.clear();
            changes.ranking_or_labels = true;
            readiness.set(REPLAY_CONDITION, true);
        }
        let changes = std::mem::take(&mut changes);
        if changes.ranking_or_labels {
            evaluator.refresh_labelled_auc();
        }
        for image_id in &changes.images {
            let complete = evaluator
                .read()
                .image(image_id)
                .is_some_and(|p| p.state() == ImageState::Complete);
            if complete && !csv_written.contains(image_id) {
                csv_pending.insert(image_id.clone());
            }
        }
        evaluator
            .metrics()
            .images_completed_total
            .inc_by(changes.completed.len() as u64);
        let mut statuses: BTreeSet<String> = changes.images;
        for image_id in std::mem::take(&mut csv_pending) {
            match outputs.write_catalogue_csv(&evaluator.read(), &image_id) {
                Ok(path) => {
                    tracing::info!(image_id, path = %path.display(), "image complete: catalogue written");
                    csv_written.insert(image_id.clone());
                    statuses.insert(image_id);
                }
                Err(e) => {
                    tracing::error!(image_id, error = %e, retry_in_s = CSV_RETRY_EVERY.as_secs(), "catalogue not written; will retry");
                    csv_pending.insert(image_id);
                }
            }
        }
        for image_id in statuses {
            let status = image_status(
                &evaluator.read(),
                &image_id,
                csv_written
                    .contains(&image_id)
                    .then(|| outputs.catalogue_path(&image_id)),
            );
            let Some(status) = status else { continue };
            if let Err(e) = outputs.write_status(&status).await {
                tracing::error!(image_id, error = %e, "image status not written");
            }
        }
    }
}

/// Applies one event, noting what it changed.
fn apply(evaluator: &Evaluator, event: Event, changes: &mut Changes) {
    let mut catalogue = evaluator.write();
    let image_id = match &event {
        Event::Plan(p) => Some(p.image_id.clone()),
        Event::Progress(p) => Some(p.image_id.clone()),
        Event::Score { score, .. } => Some(score.image_id.clone()),
        Event::Label(_) | Event::CaughtUp(_) => None,
    };
    let complete_before = image_id
        .as_deref()
        .and_then(|id| catalogue.image(id))
        .is_some_and(|p| p.state() == ImageState::Complete);
    match event {
        Event::Plan(plan) => catalogue.apply_plan(plan),
        Event::Progress(progress) => {
            catalogue.apply_progress(&progress);
            evaluator
                .metrics()
                .image_last_progress_timestamp_seconds
                .set(unix_seconds_now());
        }
        Event::Score { score, sequence } => {
            let source_id = score.source_id.clone();
            match catalogue.apply_score(*score) {
                ScoreOutcome::Added => {
                    evaluator
                        .score_sequences
                        .write()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(source_id, sequence);
                    evaluator.metrics().sources_scored_total.inc();
                    changes.ranking_or_labels = true;
                }
                ScoreOutcome::Duplicate => {}
                ScoreOutcome::Conflict { kept_version } => {
                    tracing::warn!(
                        kept_version,
                        "a source was scored again by another model version; the first score stays"
                    );
                }
            }
        }
        Event::Label(label) => {
            catalogue.apply_label(label);
            changes.ranking_or_labels = true;
        }
        Event::CaughtUp(_) => {}
    }
    if let Some(image_id) = image_id {
        let complete_after = catalogue
            .image(&image_id)
            .is_some_and(|p| p.state() == ImageState::Complete);
        if complete_after && !complete_before {
            changes.completed.insert(image_id.clone());
        }
        changes.images.insert(image_id);
    }
}

fn unix_seconds_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

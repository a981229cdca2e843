//! The scorer: batches of cutouts through one model forward pass, one score each.

use crate::codec::{decode_pixels, encode_pixels};
use prospector_bus::topology::subjects;
use prospector_bus::{Incoming, Outgoing, Stage, StageError};
use prospector_model::{code_usage, perplexity};
use prospector_proto::v1::{CodeForm, Cutout, Score, SourceScores};
use prospector_proto::SCHEMA_VERSION;
use prospector_telemetry::ScorerMetrics;
use std::sync::{Arc, Mutex, PoisonError};

/// A model's verdict on one cutout.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelScores {
    pub scores: SourceScores,
    pub code_form: CodeForm,
    /// The model's reconstruction (`side` x `side`, pixel units), when it was asked for
    /// one: the console shows it beside the input and their residual.
    pub reconstruction: Option<Vec<f32>>,
}

/// Why a model could not score a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model {version}: {reason}")]
pub struct ModelError {
    pub version: String,
    pub reason: String,
}

/// A model that scores square cutouts. Implementations need not be `Sync` (tch modules
/// are not): the stage keeps it behind a mutex and calls it from the blocking pool.
pub trait CutoutModel: Send + 'static {
    /// Content hash of the weights (the `Score.model_version`).
    fn version(&self) -> &str;
    /// Side of the square cutouts it takes.
    fn side(&self) -> usize;
    /// Scores `n` cutouts laid out one after another in `pixels`
    /// (`n * side * side` values), in order.
    fn score(&mut self, pixels: &[f32], n: usize) -> Result<Vec<ModelScores>, ModelError>;
    /// Entries in its codebook, for a vector-quantised model (the scorer then watches
    /// how many of them recent cutouts use: codebook collapse).
    fn codebook_size(&self) -> Option<usize> {
        None
    }
}

/// Codes counted over recent cutouts: halved whenever they pass this many, so the gauges
/// follow the last few tens of thousands of codes rather than the whole run.
const CODE_WINDOW: i64 = 1 << 16;

/// How often each codebook entry occurred in recent code forms, and the gauges it feeds.
#[derive(Debug)]
struct CodebookWatch {
    metrics: ScorerMetrics,
    counts: Vec<i64>,
}

impl CodebookWatch {
    fn observe(&mut self, size: usize, codes: &[u32]) {
        if self.counts.len() != size {
            self.counts = vec![0; size];
        }
        for &code in codes {
            if let Some(count) = self.counts.get_mut(code as usize) {
                *count += 1;
            }
        }
        if self.counts.iter().sum::<i64>() > CODE_WINDOW {
            self.counts.iter_mut().for_each(|c| *c /= 2);
        }
        self.metrics
            .codebook_usage_ratio
            .set(code_usage(&self.counts));
        self.metrics
            .codebook_perplexity
            .set(perplexity(&self.counts));
    }
}

/// `Cutout` batches -> `Score`s, one forward pass per batch the runner hands it.
#[derive(Debug)]
pub struct ScorerStage<M> {
    model: Arc<Mutex<M>>,
    codebook: Option<Arc<Mutex<CodebookWatch>>>,
}

impl<M> Clone for ScorerStage<M> {
    fn clone(&self) -> Self {
        Self {
            model: Arc::clone(&self.model),
            codebook: self.codebook.clone(),
        }
    }
}

impl<M: CutoutModel> ScorerStage<M> {
    pub fn new(model: M) -> Self {
        Self {
            model: Arc::new(Mutex::new(model)),
            codebook: None,
        }
    }

    /// Also keeps the codebook usage and perplexity of recent cutouts in `metrics`.
    pub fn with_codebook_metrics(self, metrics: ScorerMetrics) -> Self {
        Self {
            codebook: Some(Arc::new(Mutex::new(CodebookWatch {
                metrics,
                counts: Vec::new(),
            }))),
            ..self
        }
    }

    /// Replaces the model (a hot swap): batches already running finish on the old one.
    pub fn swap_model(&self, model: M) {
        if let Some(watch) = &self.codebook {
            // The new model's codes mean other things: start counting afresh.
            watch
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .counts
                .clear();
        }
        *self.model.lock().unwrap_or_else(PoisonError::into_inner) = model;
    }

    /// Scores the cutouts whose pixels are valid, in one forward pass; the others get
    /// their own permanent error. Shared by the bus (a batch the runner formed) and
    /// `ScorerService.ScoreCutouts` (a caller's batch): both wait for the same model.
    pub fn score_cutouts(&self, cutouts: &[Cutout]) -> Vec<Result<Score, StageError>> {
        let mut model = self.model.lock().unwrap_or_else(PoisonError::into_inner);
        let side = model.side();
        let mut pixels = Vec::with_capacity(cutouts.len() * side * side);
        let mut results: Vec<Option<Result<Score, StageError>>> = Vec::new();
        let mut valid = Vec::new();
        for cutout in cutouts {
            match cutout_pixels(cutout, side) {
                Ok(values) => {
                    pixels.extend_from_slice(&values);
                    valid.push(results.len());
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        if !valid.is_empty() {
            match model.score(&pixels, valid.len()) {
                Ok(scored) if scored.len() == valid.len() => {
                    let version = model.version().to_owned();
                    if let (Some(watch), Some(size)) = (&self.codebook, model.codebook_size()) {
                        let mut watch = watch.lock().unwrap_or_else(PoisonError::into_inner);
                        for verdict in &scored {
                            watch.observe(size, &verdict.code_form.codes);
                        }
                    }
                    for (&i, verdict) in valid.iter().zip(scored) {
                        results[i] = Some(Ok(to_score(&cutouts[i], &version, side, verdict)));
                    }
                }
                Ok(scored) => {
                    let error = StageError::transient(format!(
                        "model {} returned {} scores for {} cutouts",
                        model.version(),
                        scored.len(),
                        valid.len()
                    ));
                    valid
                        .iter()
                        .for_each(|&i| results[i] = Some(Err(error.clone())));
                }
                // The model (or its device) failing is not the cutouts' fault: retry.
                Err(e) => {
                    let error = StageError::transient(e);
                    valid
                        .iter()
                        .for_each(|&i| results[i] = Some(Err(error.clone())));
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(StageError::transient("not scored"))))
            .collect()
    }
}

/// The cutout's model pixels, checked against the model's input size.
fn cutout_pixels(cutout: &Cutout, side: usize) -> Result<Vec<f32>, StageError> {
    let bad = |fault: String| {
        StageError::permanent(format!(
            "cutout {} of image {}: {fault}",
            cutout.source_id, cutout.image_id
        ))
    };
    let pixels = cutout
        .model_pixels
        .as_ref()
        .ok_or_else(|| bad("no model pixels".into()))?;
    if (pixels.width as usize, pixels.height as usize) != (side, side) {
        return Err(bad(format!(
            "pixels are {}x{}, the model takes {side}x{side}",
            pixels.width, pixels.height
        )));
    }
    decode_pixels(pixels).map_err(|e| bad(e.to_string()))
}

fn to_score(cutout: &Cutout, version: &str, side: usize, verdict: ModelScores) -> Score {
    Score {
        schema_version: SCHEMA_VERSION,
        source_id: cutout.source_id.clone(),
        image_id: cutout.image_id.clone(),
        model_version: version.to_owned(),
        scores: Some(verdict.scores),
        code_form: Some(verdict.code_form),
        name: cutout.name.clone(),
        sky: cutout.sky,
        pixel: cutout.pixel,
        island: cutout.island,
        reconstruction: verdict
            .reconstruction
            .map(|pixels| encode_pixels(side, side, &pixels)),
        model_pixels: cutout.model_pixels.clone(),
    }
}

impl<M: CutoutModel> Stage for ScorerStage<M> {
    type Input = Cutout;

    async fn handle(&self, input: Incoming<Cutout>) -> Result<Vec<Outgoing>, StageError> {
        self.handle_batch(vec![input])
            .await
            .pop()
            .unwrap_or_else(|| Err(StageError::transient("not scored")))
    }

    async fn handle_batch(
        &self,
        batch: Vec<Incoming<Cutout>>,
    ) -> Vec<Result<Vec<Outgoing>, StageError>> {
        let stage = self.clone();
        let n = batch.len();
        let cutouts: Vec<Cutout> = batch.into_iter().map(|i| i.message).collect();
        let scored = tokio::task::spawn_blocking(move || stage.score_cutouts(&cutouts)).await;
        match scored {
            Ok(results) => results
                .into_iter()
                .map(|score| score.map(|s| vec![Outgoing::new(subjects::SCORES, &s)]))
                .collect(),
            Err(e) => vec![Err(StageError::transient(format!("scorer worker stopped: {e}"))); n],
        }
    }
}

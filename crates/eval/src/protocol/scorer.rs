//! What a model has to provide to be evaluated: the [`AnomalyScorer`] trait and the
//! per-source results it returns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::dataset::Configuration;

/// Any error a scorer raises; the runner wraps it with the configuration, run and stage.
pub type ScorerError = Box<dyn std::error::Error + Send + Sync>;

/// Name of the study's score: normalised cross-correlation of input and reconstruction.
pub const NCC: &str = "ncc";

/// A named score a scorer produces, and which way it points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSpec {
    /// Key in [`SourceScores::scores`], e.g. `ncc`, `mse`, `code_rarity`.
    pub name: String,
    /// False for NCC (lower = worse reconstruction = more anomalous).
    pub higher_is_anomalous: bool,
    /// One line for the report.
    pub description: String,
}

/// The VQ-VAE's code form of a source: a grid of codebook indices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeForm {
    pub width: usize,
    pub height: usize,
    pub codebook_size: usize,
    /// Row-major, `width * height` indices, each `< codebook_size`.
    pub codes: Vec<u32>,
}

/// Properties of a source's island (from the source finder), used by the trivial
/// baselines: would a plain cut on size or brightness rank anomalies as well?
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IslandFeatures {
    /// Island area in pixels.
    pub size_pixels: f64,
    /// Peak surface brightness (Jy/beam).
    pub peak_flux: f64,
    /// Integrated flux density (Jy).
    pub integrated_flux: f64,
}

/// What a scorer returns for one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceScores {
    pub id: String,
    /// Every score in [`AnomalyScorer::score_specs`], by name (NCC under [`NCC`]).
    pub scores: BTreeMap<String, f64>,
    /// For t-SNE / UMAP of the code forms; `None` if the scorer has no codebook.
    pub code_form: Option<CodeForm>,
    /// For the trivial baselines; `None` if unknown.
    pub features: Option<IslandFeatures>,
}

/// A source's input image and its reconstruction, for the report's galleries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reconstruction {
    pub id: String,
    pub width: usize,
    pub height: usize,
    /// Row-major, `width * height` pixels each.
    pub input: Vec<f32>,
    pub reconstruction: Vec<f32>,
}

/// The run a scorer is being built and trained for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunContext {
    pub config: Configuration,
    pub run: usize,
    /// Seed for the scorer's own randomness (initialisation, batch order), so a run's
    /// result is a function of the protocol seed.
    pub seed: u64,
}

/// A model under evaluation. One instance serves one run: the runner creates it through
/// a [`ScorerFactory`], trains it once and asks for scores of that run's test set (and,
/// for the report's galleries, of some unlabelled sources and their reconstructions).
pub trait AnomalyScorer {
    /// The scores [`AnomalyScorer::score`] fills in, with their directions.
    fn score_specs(&self) -> Vec<ScoreSpec>;

    /// Trains from scratch on these sources (never a test source of the run).
    fn train(&mut self, run: &RunContext, train_ids: &[String]) -> Result<(), ScorerError>;

    /// Scores these sources: one entry per id, in any order.
    fn score(&mut self, ids: &[String]) -> Result<Vec<SourceScores>, ScorerError>;

    /// Inputs and reconstructions of these sources, for the galleries. Scorers without
    /// images (the baselines) return an empty list.
    fn reconstruct(&mut self, ids: &[String]) -> Result<Vec<Reconstruction>, ScorerError> {
        let _ = ids;
        Ok(Vec::new())
    }
}

/// Makes one fresh scorer per run. Shared by the worker threads (`Sync`); each scorer
/// stays on the thread that made it, so a scorer need not be `Send` or `Sync` (tch
/// modules are neither).
pub trait ScorerFactory: Sync {
    type Scorer: AnomalyScorer;

    fn create(&self, run: &RunContext) -> Result<Self::Scorer, ScorerError>;
}

impl<S, F> ScorerFactory for F
where
    S: AnomalyScorer,
    F: Fn(&RunContext) -> Result<S, ScorerError> + Sync,
{
    type Scorer = S;

    fn create(&self, run: &RunContext) -> Result<S, ScorerError> {
        self(run)
    }
}

//! Metrics of one run: for each score, AUC on the whole test set, F1/F2 thresholds chosen
//! on the first half and measured on the second, and the workload cut.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::scorer::{CodeForm, IslandFeatures};
use super::split::Half;
use crate::error::MetricError;
use crate::metrics::{
    best_threshold, confusion_at, roc_auc, workload_at, workload_reduction, ConfusionMatrix,
    WorkloadCut,
};

/// A test source with its label, half and every score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredSource {
    pub id: String,
    pub exotic: bool,
    pub half: Half,
    pub scores: BTreeMap<String, f64>,
    pub code_form: Option<CodeForm>,
    pub features: Option<IslandFeatures>,
}

/// An F-beta threshold chosen on the select half and applied to the measure half.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdOutcome {
    /// In the score's own units: a source is flagged exotic when its score is at or beyond
    /// it (`>=` if higher is anomalous, `<=` otherwise).
    pub threshold: f64,
    /// F-beta on the select half, where the threshold was chosen.
    pub select_fbeta: f64,
    /// F-beta on the measure half: the figure reported.
    pub measure_fbeta: f64,
    pub measure_confusion: ConfusionMatrix,
}

/// The cut keeping a fraction of exotic sources, chosen on the select half.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WorkloadOutcome {
    pub keep_exotic: f64,
    /// The cut as chosen on the select half (threshold in oriented units: higher flags).
    pub select: WorkloadCut,
    /// The same threshold applied to the measure half: the honest figure.
    pub measure: WorkloadCut,
}

/// Everything measured for one score in one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreMetrics {
    pub higher_is_anomalous: bool,
    /// True for the trivial baselines, whose direction was chosen on the select half.
    pub baseline: bool,
    /// On the whole test set.
    pub auc: f64,
    pub f1: ThresholdOutcome,
    pub f2: ThresholdOutcome,
    pub workload: WorkloadOutcome,
}

/// Labels and oriented scores (higher = more anomalous) of one half, or of all sources.
struct Oriented {
    labels: Vec<bool>,
    scores: Vec<f64>,
}

fn oriented(
    sources: &[ScoredSource],
    values: &[f64],
    half: Option<Half>,
    higher_is_anomalous: bool,
) -> Oriented {
    let sign = if higher_is_anomalous { 1.0 } else { -1.0 };
    let (labels, scores) = sources
        .iter()
        .zip(values)
        .filter(|(s, _)| half.is_none_or(|h| s.half == h))
        .map(|(s, &v)| (s.exotic, sign * v))
        .unzip();
    Oriented { labels, scores }
}

/// The values of score `name` for every source, in order; an error names the first
/// source lacking it.
pub fn score_values(sources: &[ScoredSource], name: &str) -> Result<Vec<f64>, MetricError> {
    sources
        .iter()
        .map(|s| {
            s.scores
                .get(name)
                .copied()
                .ok_or_else(|| MetricError::Invalid {
                    what: "score_values",
                    reason: format!("source {:?} has no score {name:?}", s.id),
                })
        })
        .collect()
}

fn threshold_outcome(
    select: &Oriented,
    measure: &Oriented,
    beta: f64,
    sign: f64,
) -> Result<ThresholdOutcome, MetricError> {
    let choice = best_threshold(&select.labels, &select.scores, beta)?;
    let confusion = confusion_at(&measure.labels, &measure.scores, choice.threshold)?;
    Ok(ThresholdOutcome {
        threshold: sign * choice.threshold,
        select_fbeta: choice.fbeta,
        measure_fbeta: confusion.fbeta(beta),
        measure_confusion: confusion,
    })
}

/// Measures one score of one run. Each half must contain both classes.
pub fn evaluate_score(
    sources: &[ScoredSource],
    values: &[f64],
    higher_is_anomalous: bool,
    baseline: bool,
    keep_exotic: f64,
) -> Result<ScoreMetrics, MetricError> {
    let sign = if higher_is_anomalous { 1.0 } else { -1.0 };
    let all = oriented(sources, values, None, higher_is_anomalous);
    let select = oriented(sources, values, Some(Half::Select), higher_is_anomalous);
    let measure = oriented(sources, values, Some(Half::Measure), higher_is_anomalous);
    let cut = workload_reduction(&select.labels, &select.scores, keep_exotic)?;
    Ok(ScoreMetrics {
        higher_is_anomalous,
        baseline,
        auc: roc_auc(&all.labels, &all.scores)?,
        f1: threshold_outcome(&select, &measure, 1.0, sign)?,
        f2: threshold_outcome(&select, &measure, 2.0, sign)?,
        workload: WorkloadOutcome {
            keep_exotic,
            select: cut,
            measure: workload_at(&measure.labels, &measure.scores, cut.threshold)?,
        },
    })
}

/// Reads one baseline's value from a source's island features.
pub type FeatureReader = fn(&IslandFeatures) -> f64;

/// The trivial baselines' names and how each is read from the island features.
pub const BASELINES: [(&str, FeatureReader); 3] = [
    ("baseline_island_size", |f| f.size_pixels),
    ("baseline_peak_flux", |f| f.peak_flux),
    ("baseline_integrated_flux", |f| f.integrated_flux),
];

/// Measures a baseline score, taking the direction with the higher AUC on the select
/// half (so the second half never influences the choice).
pub fn evaluate_baseline(
    sources: &[ScoredSource],
    values: &[f64],
    keep_exotic: f64,
) -> Result<ScoreMetrics, MetricError> {
    let select = oriented(sources, values, Some(Half::Select), true);
    let higher_is_anomalous = roc_auc(&select.labels, &select.scores)? >= 0.5;
    evaluate_score(sources, values, higher_is_anomalous, true, keep_exotic)
}

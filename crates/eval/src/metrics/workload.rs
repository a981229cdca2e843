//! Workload reduction: how much of the typical population an astronomer no longer has to
//! look at when the ranking is cut where it still keeps most exotic sources.

use serde::{Deserialize, Serialize};

use super::threshold::confusion_at;
use super::validate::check_binary;
use crate::error::MetricError;

/// A cut of the ranking and what it keeps and removes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WorkloadCut {
    /// Sources scoring `>= threshold` are kept for inspection.
    pub threshold: f64,
    /// Fraction of exotic sources kept.
    pub exotic_kept: f64,
    /// Fraction of typical sources removed (the workload saved).
    pub typical_removed: f64,
}

/// The highest threshold that keeps at least `keep_exotic` of the exotic sources
/// (e.g. 0.95), and the fraction of typical sources it removes. Equals `1 - FPR` at the
/// first ROC point whose TPR reaches `keep_exotic`.
pub fn workload_reduction(
    labels: &[bool],
    scores: &[f64],
    keep_exotic: f64,
) -> Result<WorkloadCut, MetricError> {
    let counts = check_binary("workload_reduction", labels, scores)?;
    if !(keep_exotic > 0.0 && keep_exotic <= 1.0) {
        return Err(MetricError::Invalid {
            what: "workload_reduction",
            reason: format!("kept fraction must lie in (0, 1], got {keep_exotic}"),
        });
    }
    let mut exotic_scores: Vec<f64> = labels
        .iter()
        .zip(scores)
        .filter(|(&l, _)| l)
        .map(|(_, &s)| s)
        .collect();
    exotic_scores.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
    // Smallest k with k / positives >= keep_exotic; the tolerance absorbs rounding in
    // keep_exotic * positives (0.95 * 20 must give 19, not 20).
    let needed = ((keep_exotic * counts.positives as f64) - 1e-9)
        .ceil()
        .max(1.0) as usize;
    let threshold = exotic_scores[needed.min(counts.positives) - 1];
    workload_at(labels, scores, threshold)
}

/// What the cut at `threshold` keeps and removes on a (possibly different) set.
pub fn workload_at(
    labels: &[bool],
    scores: &[f64],
    threshold: f64,
) -> Result<WorkloadCut, MetricError> {
    let m = confusion_at(labels, scores, threshold)?;
    Ok(WorkloadCut {
        threshold,
        exotic_kept: m.recall(),
        typical_removed: m.specificity(),
    })
}

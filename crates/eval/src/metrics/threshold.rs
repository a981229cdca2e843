//! Decisions at a score threshold: confusion matrices, F-beta and the threshold that
//! maximises it.

use serde::{Deserialize, Serialize};

use super::validate::{check_binary, check_finite, check_same_length, descending_order};
use crate::error::MetricError;

/// Counts of a binary decision against the truth (positive = exotic). scikit-learn's
/// `confusion_matrix(labels, predictions)` is `[[tn, fp], [fn, tp]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    pub true_negatives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    pub true_positives: u64,
}

impl ConfusionMatrix {
    /// The matrix in scikit-learn's layout `[[tn, fp], [fn, tp]]`.
    pub fn as_rows(&self) -> [[u64; 2]; 2] {
        [
            [self.true_negatives, self.false_positives],
            [self.false_negatives, self.true_positives],
        ]
    }

    /// F-beta score of the decision: `(1 + b^2) tp / (b^2 (tp + fn) + tp + fp)`, the form
    /// scikit-learn's `fbeta_score` evaluates; 0 when nothing is flagged and nothing is
    /// exotic (scikit-learn's `zero_division=0`).
    pub fn fbeta(&self, beta: f64) -> f64 {
        let b2 = beta * beta;
        let tp = self.true_positives as f64;
        let actual = tp + self.false_negatives as f64;
        let predicted = tp + self.false_positives as f64;
        let denominator = b2 * actual + predicted;
        if denominator == 0.0 {
            0.0
        } else {
            (1.0 + b2) * tp / denominator
        }
    }

    /// Fraction of flagged sources that are exotic (0 when nothing is flagged).
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Fraction of exotic sources flagged (0 when there are none).
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// Fraction of typical sources not flagged (0 when there are none).
    pub fn specificity(&self) -> f64 {
        ratio(
            self.true_negatives,
            self.true_negatives + self.false_positives,
        )
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Confusion matrix of flagging every source with `score >= threshold` as exotic.
/// One class alone is allowed here (a half of a test set may lack exotics).
pub fn confusion_at(
    labels: &[bool],
    scores: &[f64],
    threshold: f64,
) -> Result<ConfusionMatrix, MetricError> {
    check_same_length("confusion_at", labels.len(), scores.len())?;
    check_finite("confusion_at", scores)?;
    if threshold.is_nan() {
        return Err(MetricError::Invalid {
            what: "confusion_at",
            reason: "threshold is NaN".into(),
        });
    }
    let mut m = ConfusionMatrix::default();
    for (&label, &score) in labels.iter().zip(scores) {
        match (label, score >= threshold) {
            (true, true) => m.true_positives += 1,
            (true, false) => m.false_negatives += 1,
            (false, true) => m.false_positives += 1,
            (false, false) => m.true_negatives += 1,
        }
    }
    Ok(m)
}

/// The threshold maximising F-beta on one set, and what it achieves there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdChoice {
    pub threshold: f64,
    pub fbeta: f64,
    pub confusion: ConfusionMatrix,
}

/// The score threshold (one of the scores; flag `score >= threshold`) maximising F-beta.
/// Ties in F-beta go to the lowest such threshold, as `numpy.argmax` over scikit-learn's
/// `precision_recall_curve` (thresholds ascending) would pick.
pub fn best_threshold(
    labels: &[bool],
    scores: &[f64],
    beta: f64,
) -> Result<ThresholdChoice, MetricError> {
    let counts = check_binary("best_threshold", labels, scores)?;
    if !(beta.is_finite() && beta > 0.0) {
        return Err(MetricError::Invalid {
            what: "best_threshold",
            reason: format!("beta must be positive and finite, got {beta}"),
        });
    }
    let order = descending_order(scores);
    let mut m = ConfusionMatrix {
        true_negatives: counts.negatives as u64,
        false_positives: 0,
        false_negatives: counts.positives as u64,
        true_positives: 0,
    };
    let mut best: Option<ThresholdChoice> = None;
    for (rank, &i) in order.iter().enumerate() {
        if labels[i] {
            m.true_positives += 1;
            m.false_negatives -= 1;
        } else {
            m.false_positives += 1;
            m.true_negatives -= 1;
        }
        let last_of_tie = order
            .get(rank + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if !last_of_tie {
            continue;
        }
        let f = m.fbeta(beta);
        if best.is_none_or(|b| f >= b.fbeta) {
            best = Some(ThresholdChoice {
                threshold: scores[i],
                fbeta: f,
                confusion: m,
            });
        }
    }
    best.ok_or(MetricError::Empty {
        what: "best_threshold",
    })
}

//! ROC curves and the area under them, computed exactly as scikit-learn does.

use serde::{Deserialize, Serialize};

use super::validate::{check_binary, check_same_length, descending_order};
use crate::error::MetricError;

/// A ROC curve: `fpr[i]`, `tpr[i]` are the rates when sources scoring `>= thresholds[i]`
/// are flagged. `thresholds[0]` is `+inf` (nothing flagged), as in scikit-learn >= 1.3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    pub thresholds: Vec<f64>,
}

/// Cumulative false and true positive counts at each distinct score, highest score first
/// (scikit-learn's `_binary_clf_curve`).
struct CumulativeCounts {
    false_positives: Vec<f64>,
    true_positives: Vec<f64>,
    thresholds: Vec<f64>,
}

fn cumulative_counts(labels: &[bool], scores: &[f64]) -> CumulativeCounts {
    let order = descending_order(scores);
    let mut counts = CumulativeCounts {
        false_positives: Vec::new(),
        true_positives: Vec::new(),
        thresholds: Vec::new(),
    };
    let (mut tp, mut fp) = (0.0, 0.0);
    for (rank, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order
            .get(rank + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_tie {
            counts.false_positives.push(fp);
            counts.true_positives.push(tp);
            counts.thresholds.push(scores[i]);
        }
    }
    counts
}

/// True where the point is a corner of the curve: scikit-learn's `drop_intermediate`
/// keeps the end points and every point where the second difference of either count is
/// non-zero, dropping points that lie on a straight horizontal or vertical run.
fn is_corner(fp: &[f64], tp: &[f64], i: usize) -> bool {
    if i == 0 || i + 1 == fp.len() {
        return true;
    }
    let second_diff = |v: &[f64]| v[i + 1] - 2.0 * v[i] + v[i - 1];
    second_diff(fp) != 0.0 || second_diff(tp) != 0.0
}

/// ROC curve of `scores` (higher = more likely exotic) against `labels` (true = exotic),
/// matching `sklearn.metrics.roc_curve(labels, scores)` with `drop_intermediate=True`.
/// Both classes must be present: with one class a rate is undefined (scikit-learn
/// returns NaN; this returns an error).
pub fn roc_curve(labels: &[bool], scores: &[f64]) -> Result<RocCurve, MetricError> {
    let counts_by_class = check_binary("roc_curve", labels, scores)?;
    let c = cumulative_counts(labels, scores);
    let keep: Vec<usize> = if c.thresholds.len() > 2 {
        (0..c.thresholds.len())
            .filter(|&i| is_corner(&c.false_positives, &c.true_positives, i))
            .collect()
    } else {
        (0..c.thresholds.len()).collect()
    };
    let negatives = counts_by_class.negatives as f64;
    let positives = counts_by_class.positives as f64;
    let mut curve = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    for i in keep {
        curve.fpr.push(c.false_positives[i] / negatives);
        curve.tpr.push(c.true_positives[i] / positives);
        curve.thresholds.push(c.thresholds[i]);
    }
    Ok(curve)
}

/// Area under a curve by the trapezoid rule (`sklearn.metrics.auc`); `x` must be
/// monotonic (either direction).
pub fn trapezoid_area(x: &[f64], y: &[f64]) -> Result<f64, MetricError> {
    check_same_length("trapezoid_area", x.len(), y.len())?;
    if x.len() < 2 {
        return Err(MetricError::Invalid {
            what: "trapezoid_area",
            reason: format!("needs at least 2 points, got {}", x.len()),
        });
    }
    let increasing = x.windows(2).all(|w| w[1] >= w[0]);
    let decreasing = x.windows(2).all(|w| w[1] <= w[0]);
    if !increasing && !decreasing {
        return Err(MetricError::Invalid {
            what: "trapezoid_area",
            reason: "x is neither increasing nor decreasing".into(),
        });
    }
    let area: f64 = x
        .windows(2)
        .zip(y.windows(2))
        .map(|(xs, ys)| (xs[1] - xs[0]) * (ys[1] + ys[0]) / 2.0)
        .sum();
    Ok(if decreasing && !increasing {
        -area
    } else {
        area
    })
}

/// Area under the ROC curve (`sklearn.metrics.roc_auc_score`): tied scores make a
/// diagonal step, i.e. count one half, as in the Mann-Whitney statistic.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Result<f64, MetricError> {
    let curve = roc_curve(labels, scores)?;
    trapezoid_area(&curve.fpr, &curve.tpr)
}

/// Linear interpolation of a ROC curve's TPR at `fpr`, as `numpy.interp(fpr, curve.fpr,
/// curve.tpr)`: where the curve is vertical (several points at one FPR) the highest TPR
/// there is taken, i.e. the curve's upper envelope.
pub fn interpolate_tpr(curve: &RocCurve, fpr: f64) -> f64 {
    let xs = &curve.fpr;
    let ys = &curve.tpr;
    // Index of the last point with xs[j] <= fpr.
    let j = xs.partition_point(|&x| x <= fpr);
    if j == 0 {
        return ys[0];
    }
    let j = j - 1;
    if j + 1 >= xs.len() {
        return ys[ys.len() - 1];
    }
    let (x0, x1, y0, y1) = (xs[j], xs[j + 1], ys[j], ys[j + 1]);
    if x1 == x0 {
        return y1;
    }
    y0 + (fpr - x0) * (y1 - y0) / (x1 - x0)
}

/// Mean and standard deviation of several ROC curves' TPR on a common FPR grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanRoc {
    pub fpr: Vec<f64>,
    pub mean_tpr: Vec<f64>,
    /// Population standard deviation (ddof = 0), as in scikit-learn's cross-validated
    /// ROC example.
    pub std_tpr: Vec<f64>,
}

/// Averages `curves` on `grid_points` evenly spaced FPR values in [0, 1].
pub fn mean_roc(curves: &[RocCurve], grid_points: usize) -> Result<MeanRoc, MetricError> {
    if curves.is_empty() {
        return Err(MetricError::Empty { what: "mean_roc" });
    }
    if grid_points < 2 {
        return Err(MetricError::Invalid {
            what: "mean_roc",
            reason: format!("grid needs at least 2 points, got {grid_points}"),
        });
    }
    for (i, c) in curves.iter().enumerate() {
        if c.fpr.is_empty() || c.fpr.len() != c.tpr.len() {
            return Err(MetricError::Invalid {
                what: "mean_roc",
                reason: format!(
                    "curve {i} has {} FPR and {} TPR values",
                    c.fpr.len(),
                    c.tpr.len()
                ),
            });
        }
    }
    let fpr: Vec<f64> = (0..grid_points)
        .map(|i| i as f64 / (grid_points - 1) as f64)
        .collect();
    let n = curves.len() as f64;
    let mut mean_tpr = Vec::with_capacity(grid_points);
    let mut std_tpr = Vec::with_capacity(grid_points);
    for &x in &fpr {
        let values: Vec<f64> = curves.iter().map(|c| interpolate_tpr(c, x)).collect();
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        mean_tpr.push(mean);
        std_tpr.push(var.sqrt());
    }
    Ok(MeanRoc {
        fpr,
        mean_tpr,
        std_tpr,
    })
}

//! Aggregation over runs: per configuration and score, the mean and spread of AUC, F1,
//! F2 and workload reduction, averaged confusion matrices and the mean ROC; and the
//! significance tests between configurations and between scores.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dataset::Configuration;
use super::evaluate::{score_values, ScoreMetrics};
use super::runner::RunResult;
use crate::error::EvalError;
use crate::metrics::{
    mann_whitney_u, mean_roc, roc_curve, wilcoxon_signed_rank, Alternative, ConfusionMatrix,
    MeanRoc, RankTest,
};

/// Points of the common FPR grid the mean ROC is interpolated on.
pub const ROC_GRID_POINTS: usize = 101;

/// Mean, sample standard deviation and the per-run values of one figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub mean: f64,
    /// Sample standard deviation (ddof = 1); 0 for a single run.
    pub std: f64,
    pub values: Vec<f64>,
}

impl Spread {
    pub fn of(values: Vec<f64>) -> Spread {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Spread { mean, std, values }
    }
}

/// A confusion matrix averaged cell by cell over runs (scikit-learn layout via
/// [`MeanConfusion::rows`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanConfusion {
    pub true_negatives: f64,
    pub false_positives: f64,
    pub false_negatives: f64,
    pub true_positives: f64,
}

impl MeanConfusion {
    fn of(matrices: &[ConfusionMatrix]) -> MeanConfusion {
        let n = matrices.len() as f64;
        let mean = |cell: fn(&ConfusionMatrix) -> u64| {
            matrices.iter().map(|m| cell(m) as f64).sum::<f64>() / n
        };
        MeanConfusion {
            true_negatives: mean(|m| m.true_negatives),
            false_positives: mean(|m| m.false_positives),
            false_negatives: mean(|m| m.false_negatives),
            true_positives: mean(|m| m.true_positives),
        }
    }

    pub fn rows(&self) -> [[f64; 2]; 2] {
        [
            [self.true_negatives, self.false_positives],
            [self.false_negatives, self.true_positives],
        ]
    }
}

/// One score of one configuration over all its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    pub baseline: bool,
    pub auc: Spread,
    /// F1 / F2 on the measure halves, at thresholds chosen on the select halves.
    pub f1: Spread,
    pub f2: Spread,
    pub confusion_f1: MeanConfusion,
    pub confusion_f2: MeanConfusion,
    /// Typical sources removed / exotic sources kept on the measure halves, by the cut
    /// chosen on the select halves to keep `keep_exotic` of the exotic sources.
    pub keep_exotic: f64,
    pub typical_removed: Spread,
    pub exotic_kept: Spread,
    pub mean_roc: MeanRoc,
}

/// One configuration over all its runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigSummary {
    pub config: Configuration,
    pub runs: usize,
    pub test_size: usize,
    pub train_size: usize,
    pub scores: BTreeMap<String, ScoreSummary>,
}

/// Mann-Whitney U between two configurations' per-run AUCs (independent runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigComparison {
    pub score: String,
    pub first: Configuration,
    pub second: Configuration,
    pub test: RankTest,
}

/// Wilcoxon signed-rank between two scores' AUCs on the same runs (paired).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreComparison {
    pub config: Configuration,
    pub first: String,
    pub second: String,
    /// Mean of first-minus-second AUC over runs.
    pub mean_difference: f64,
    /// `None` when every run gave both scores the same AUC.
    pub test: Option<RankTest>,
}

/// The protocol's aggregated results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtocolSummary {
    pub primary_score: String,
    pub configs: Vec<ConfigSummary>,
    pub config_comparisons: Vec<ConfigComparison>,
    pub score_comparisons: Vec<ScoreComparison>,
}

fn summarize_score(runs: &[&RunResult], name: &str) -> Result<ScoreSummary, EvalError> {
    let metrics: Vec<&ScoreMetrics> = runs
        .iter()
        .map(|r| {
            r.metrics.get(name).ok_or_else(|| EvalError::ScorerOutput {
                config: r.config.to_string(),
                run: r.run,
                reason: format!("no metrics for score {name:?}"),
            })
        })
        .collect::<Result<_, _>>()?;
    let spread = |f: fn(&ScoreMetrics) -> f64| Spread::of(metrics.iter().map(|m| f(m)).collect());
    let mut curves = Vec::with_capacity(runs.len());
    for (run, m) in runs.iter().zip(&metrics) {
        let values = score_values(&run.sources, name)?;
        let sign = if m.higher_is_anomalous { 1.0 } else { -1.0 };
        let oriented: Vec<f64> = values.iter().map(|v| sign * v).collect();
        let labels: Vec<bool> = run.sources.iter().map(|s| s.exotic).collect();
        curves.push(roc_curve(&labels, &oriented)?);
    }
    let confusion = |f: fn(&ScoreMetrics) -> ConfusionMatrix| {
        MeanConfusion::of(&metrics.iter().map(|m| f(m)).collect::<Vec<_>>())
    };
    Ok(ScoreSummary {
        baseline: metrics.iter().all(|m| m.baseline),
        auc: spread(|m| m.auc),
        f1: spread(|m| m.f1.measure_fbeta),
        f2: spread(|m| m.f2.measure_fbeta),
        confusion_f1: confusion(|m| m.f1.measure_confusion),
        confusion_f2: confusion(|m| m.f2.measure_confusion),
        keep_exotic: metrics[0].workload.keep_exotic,
        typical_removed: spread(|m| m.workload.measure.typical_removed),
        exotic_kept: spread(|m| m.workload.measure.exotic_kept),
        mean_roc: mean_roc(&curves, ROC_GRID_POINTS)?,
    })
}

/// Aggregates run results (any order) per configuration, and tests: Mann-Whitney U
/// (two-sided) between every pair of configurations on the primary score's per-run AUCs,
/// and Wilcoxon signed-rank (two-sided) between the primary score and every other score
/// on the same runs' AUCs.
pub fn summarize(results: &[RunResult], primary_score: &str) -> Result<ProtocolSummary, EvalError> {
    let mut by_config: BTreeMap<Configuration, Vec<&RunResult>> = BTreeMap::new();
    for r in results {
        by_config.entry(r.config).or_default().push(r);
    }
    let mut configs = Vec::new();
    let mut score_comparisons = Vec::new();
    for (config, mut runs) in by_config {
        runs.sort_by_key(|r| r.run);
        let names: Vec<String> = runs[0].metrics.keys().cloned().collect();
        let mut scores = BTreeMap::new();
        for name in &names {
            scores.insert(name.clone(), summarize_score(&runs, name)?);
        }
        if let Some(primary) = scores.get(primary_score) {
            for (name, other) in scores.iter().filter(|(n, _)| *n != primary_score) {
                let (a, b) = (&primary.auc.values, &other.auc.values);
                let diff = a.iter().zip(b).map(|(x, y)| x - y).sum::<f64>() / a.len() as f64;
                let test = if a == b {
                    None
                } else {
                    Some(wilcoxon_signed_rank(a, b, Alternative::TwoSided)?)
                };
                score_comparisons.push(ScoreComparison {
                    config,
                    first: primary_score.to_string(),
                    second: name.clone(),
                    mean_difference: diff,
                    test,
                });
            }
        }
        configs.push(ConfigSummary {
            config,
            runs: runs.len(),
            test_size: runs[0].sources.len(),
            train_size: runs[0].train_count,
            scores,
        });
    }
    let mut config_comparisons = Vec::new();
    for (i, first) in configs.iter().enumerate() {
        for second in &configs[i + 1..] {
            let (Some(a), Some(b)) = (
                first.scores.get(primary_score),
                second.scores.get(primary_score),
            ) else {
                continue;
            };
            config_comparisons.push(ConfigComparison {
                score: primary_score.to_string(),
                first: first.config,
                second: second.config,
                test: mann_whitney_u(&a.auc.values, &b.auc.values, Alternative::TwoSided)?,
            });
        }
    }
    Ok(ProtocolSummary {
        primary_score: primary_score.to_string(),
        configs,
        config_comparisons,
        score_comparisons,
    })
}

/// Two protocol results on one per-run figure of one score in one configuration, e.g.
/// two model recipes run with the same seed (so on the same splits).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryComparison {
    pub config: Configuration,
    pub score: String,
    /// `auc` or `typical_removed` (at the summary's `keep_exotic`).
    pub measure: String,
    pub first: Spread,
    pub second: Spread,
    /// Mann-Whitney U (two-sided) of the first's per-run values against the second's.
    pub test: RankTest,
}

/// Compares two summaries' ranking figures (per-run AUC, and the typical sources
/// removed while keeping the exotic share asked for) for `score` in every configuration
/// both hold, by Mann-Whitney U over runs.
pub fn compare_summaries(
    first: &ProtocolSummary,
    second: &ProtocolSummary,
    score: &str,
) -> Result<Vec<SummaryComparison>, EvalError> {
    let mut comparisons = Vec::new();
    for a in &first.configs {
        let Some(b) = second.configs.iter().find(|b| b.config == a.config) else {
            continue;
        };
        let (Some(sa), Some(sb)) = (a.scores.get(score), b.scores.get(score)) else {
            return Err(EvalError::Setup(format!(
                "configuration {}: score {score:?} is missing from one of the summaries",
                a.config
            )));
        };
        for (measure, x, y) in [
            ("auc", &sa.auc, &sb.auc),
            ("typical_removed", &sa.typical_removed, &sb.typical_removed),
        ] {
            comparisons.push(SummaryComparison {
                config: a.config,
                score: score.to_string(),
                measure: measure.to_string(),
                first: x.clone(),
                second: y.clone(),
                test: mann_whitney_u(&x.values, &y.values, Alternative::TwoSided)?,
            });
        }
    }
    Ok(comparisons)
}

/// Reads the `summary.json` [`write_summary`] wrote into `output_dir`.
pub fn read_summary(output_dir: &Path) -> Result<ProtocolSummary, EvalError> {
    let path = output_dir.join("summary.json");
    let bytes = std::fs::read(&path).map_err(|e| EvalError::io(&path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| EvalError::Json { path, source })
}

/// Writes `summary.json` (everything) and `summary.csv` (one row per configuration and
/// score: means and standard deviations) into `output_dir`.
pub fn write_summary(summary: &ProtocolSummary, output_dir: &Path) -> Result<(), EvalError> {
    let json_path = output_dir.join("summary.json");
    let json = serde_json::to_vec_pretty(summary).map_err(|source| EvalError::Json {
        path: json_path.clone(),
        source,
    })?;
    std::fs::write(&json_path, json).map_err(|e| EvalError::io(&json_path, e))?;
    let csv_path = output_dir.join("summary.csv");
    let csv_error = |e: csv::Error| EvalError::Data {
        path: csv_path.clone(),
        reason: e.to_string(),
    };
    let mut writer = csv::Writer::from_path(&csv_path).map_err(csv_error)?;
    writer
        .write_record([
            "config",
            "score",
            "kind",
            "runs",
            "auc_mean",
            "auc_std",
            "f1_mean",
            "f1_std",
            "f2_mean",
            "f2_std",
            "keep_exotic",
            "typical_removed_mean",
            "typical_removed_std",
            "exotic_kept_mean",
            "exotic_kept_std",
        ])
        .map_err(csv_error)?;
    for c in &summary.configs {
        for (name, s) in &c.scores {
            let mut row = vec![
                c.config.to_string(),
                name.clone(),
                if s.baseline { "baseline" } else { "model" }.to_string(),
                c.runs.to_string(),
            ];
            for spread in [&s.auc, &s.f1, &s.f2] {
                row.extend([spread.mean.to_string(), spread.std.to_string()]);
            }
            row.push(s.keep_exotic.to_string());
            for spread in [&s.typical_removed, &s.exotic_kept] {
                row.extend([spread.mean.to_string(), spread.std.to_string()]);
            }
            writer.write_record(&row).map_err(csv_error)?;
        }
    }
    writer.flush().map_err(|e| EvalError::io(&csv_path, e))
}

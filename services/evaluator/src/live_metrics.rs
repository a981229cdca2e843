//! How well the live anomaly score separates the sources astronomers have labelled
//! (exotic against typical; artefacts are left out), by prospector-eval's metrics.

use prospector_eval::metrics::{best_threshold, roc_auc, workload_reduction};
use prospector_proto::v1::{GetMetricsResponse, LabelClass};
use prospector_ranking::Catalogue;
use serde::Serialize;

/// Exotic sources the workload figure keeps.
const KEEP_EXOTIC: f64 = 0.95;
/// F-beta with beta 2: missing an exotic source costs more than inspecting a typical one.
const F_BETA: f64 = 2.0;

/// Counts and separation figures; a figure is NaN (null in JSON) when it is undefined,
/// e.g. before both classes have been labelled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveMetrics {
    pub sources_scored: u64,
    pub sources_labelled: u64,
    pub exotic_labelled: u64,
    pub auc: f64,
    pub f2: f64,
    pub typical_removed_at_95_exotic: f64,
    pub model_versions: Vec<String>,
}

impl LiveMetrics {
    pub fn of(catalogue: &Catalogue) -> Self {
        let mut is_exotic = Vec::new();
        let mut anomaly = Vec::new();
        let mut labelled = 0u64;
        for (score, label) in catalogue.labelled() {
            labelled += 1;
            let exotic = match label.label() {
                LabelClass::Exotic => true,
                LabelClass::Typical => false,
                LabelClass::Artefact | LabelClass::Unspecified => continue,
            };
            is_exotic.push(exotic);
            anomaly.push(score.scores.map_or(f64::NAN, |s| s.anomaly));
        }
        // Each metric refuses one class alone or a non-finite score: that is NaN here.
        Self {
            sources_scored: catalogue.len() as u64,
            sources_labelled: labelled,
            exotic_labelled: is_exotic.iter().filter(|e| **e).count() as u64,
            auc: roc_auc(&is_exotic, &anomaly).unwrap_or(f64::NAN),
            f2: best_threshold(&is_exotic, &anomaly, F_BETA).map_or(f64::NAN, |c| c.fbeta),
            typical_removed_at_95_exotic: workload_reduction(&is_exotic, &anomaly, KEEP_EXOTIC)
                .map_or(f64::NAN, |c| c.typical_removed),
            model_versions: catalogue.model_versions(),
        }
    }
}

impl From<LiveMetrics> for GetMetricsResponse {
    fn from(m: LiveMetrics) -> Self {
        Self {
            sources_scored: m.sources_scored,
            sources_labelled: m.sources_labelled,
            exotic_labelled: m.exotic_labelled,
            auc: m.auc,
            f2: m.f2,
            typical_removed_at_95_exotic: m.typical_removed_at_95_exotic,
            model_versions: m.model_versions,
        }
    }
}

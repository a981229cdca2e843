//! Metrics of an anomaly ranking on plain vectors. Conventions everywhere: `labels[i]` is
//! true for an exotic source (the positive class) and `scores[i]` is higher for a source
//! judged more anomalous. Each function matches the scikit-learn or scipy function named
//! in its documentation; `tests/reference_values.rs` holds them against values those
//! libraries computed (`tests/reference/make_reference.py`).

mod mann_whitney;
mod normal;
mod ranks;
mod roc;
mod threshold;
mod validate;
mod wilcoxon;
mod workload;

pub use mann_whitney::{mann_whitney_u, Alternative, PValueMethod, RankTest};
pub use normal::{normal_cdf, normal_sf};
pub use ranks::{average_ranks, Ranked};
pub use roc::{interpolate_tpr, mean_roc, roc_auc, roc_curve, trapezoid_area, MeanRoc, RocCurve};
pub use threshold::{best_threshold, confusion_at, ConfusionMatrix, ThresholdChoice};
pub use validate::{check_finite, check_same_length};
pub use wilcoxon::wilcoxon_signed_rank;
pub use workload::{workload_at, workload_reduction, WorkloadCut};

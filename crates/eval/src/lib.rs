//! Evaluation of anomaly rankings: ROC/AUC, F-beta, confusion matrices, Mann-Whitney U,
//! the study's A/B/C protocol and its report.
//!
//! - [`metrics`]: ROC, AUC, F-beta thresholds, confusion matrices, workload reduction and
//!   rank tests, each matching scikit-learn / scipy.
//! - [`protocol`]: the A/B/C splits, the [`protocol::AnomalyScorer`] trait a model
//!   implements, the resumable runner and the aggregation over runs.
//! - [`embed`]: t-SNE and UMAP of code forms.
//! - [`report`]: PNG plots and one self-contained HTML page.

pub mod embed;
pub mod error;
pub mod metrics;
pub mod protocol;
pub mod report;

pub use error::{EvalError, MetricError};

//! Evaluation of anomaly rankings: ROC/AUC, F-beta, confusion matrices, Mann-Whitney U,
//! the study's A/B/C protocol and its report.
//!
//! - [`metrics`]: ROC, AUC, F-beta thresholds, confusion matrices, workload reduction and
//!   rank tests, each matching scikit-learn / scipy (held against their values in
//!   `tests/reference_values.rs`).
//! - [`protocol`]: the A/B/C splits, the [`protocol::AnomalyScorer`] trait a model
//!   implements, the resumable runner and the aggregation over runs.
//! - [`embed`]: t-SNE and UMAP of code forms.
//! - [`report`]: PNG plots and one self-contained HTML page.
//!
//! A model plugs in by implementing [`protocol::AnomalyScorer`]; a closure making one per
//! run is the factory:
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use std::path::Path;
//! use prospector_eval::protocol::*;
//! use prospector_eval::report::{build_report, write_report, ReportSettings};
//!
//! /// Ranks by a stored brightness: a stand-in for the VQ-VAE.
//! struct Brightness(BTreeMap<String, f64>);
//!
//! impl AnomalyScorer for Brightness {
//!     fn score_specs(&self) -> Vec<ScoreSpec> {
//!         vec![ScoreSpec { name: NCC.into(), higher_is_anomalous: false, description: "".into() }]
//!     }
//!     fn train(&mut self, _run: &RunContext, _ids: &[String]) -> Result<(), ScorerError> {
//!         Ok(())
//!     }
//!     fn score(&mut self, ids: &[String]) -> Result<Vec<SourceScores>, ScorerError> {
//!         ids.iter()
//!             .map(|id| {
//!                 let v = *self.0.get(id).ok_or(format!("no data for {id}"))?;
//!                 Ok(SourceScores {
//!                     id: id.clone(),
//!                     scores: BTreeMap::from([(NCC.to_string(), v)]),
//!                     code_form: None,
//!                     features: None,
//!                 })
//!             })
//!             .collect()
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (labelled, unlabelled, values): (Vec<LabelledSource>, Vec<String>, BTreeMap<String, f64>) = todo!();
//! let dataset = Dataset::new(labelled, unlabelled)?;
//! let settings = ProtocolSettings { runs: 35, jobs: 1, ..ProtocolSettings::default() };
//! let factory = |_: &RunContext| -> Result<Brightness, ScorerError> { Ok(Brightness(values.clone())) };
//! let out = Path::new("protocol-output");
//! let results = run_protocol(&dataset, &settings, &factory, out)?;
//! let summary = summarize(&results, &settings.primary_score)?;
//! write_summary(&summary, out)?;
//! let report = build_report(&results, &summary, &ReportSettings::default())?;
//! write_report(&report, &out.join("report.html"))?;
//! # Ok(())
//! # }
//! ```

pub mod embed;
pub mod error;
pub mod metrics;
pub mod protocol;
pub mod report;

pub use error::{EvalError, MetricError};

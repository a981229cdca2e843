//! The study's evaluation protocol: A/B/C splits, the scorer interface, the resumable
//! runner and the aggregation over runs.

mod combine;
mod dataset;
mod evaluate;
mod gallery;
mod runner;
mod scorer;
mod seed;
mod split;
mod summary;

pub use combine::{add_combined_score, COMBINED};
pub use dataset::{Configuration, Dataset, LabelledSource};
pub use evaluate::{
    evaluate_baseline, evaluate_score, score_values, FeatureReader, ScoreMetrics, ScoredSource,
    ThresholdOutcome, WorkloadOutcome, BASELINES,
};
pub use gallery::{
    extremes, Candidate, Gallery, GalleryEnd, GalleryGroup, GalleryItem, GallerySettings,
};
pub use runner::{
    read_run, read_runs, run_json_path, run_protocol, run_protocol_observed, ProtocolSettings,
    Quiet, RunObserver, RunResult,
};
pub use scorer::{
    AnomalyScorer, CodeForm, IslandFeatures, Reconstruction, RunContext, ScoreSpec, ScorerError,
    ScorerFactory, SourceScores, NCC,
};
pub use seed::derive_seed;
pub use split::{plan_runs, typical_set_count, Half, RunSplit, TestItem};
pub use summary::{
    compare_summaries, read_summary, summarize, write_summary, ConfigComparison, ConfigSummary,
    MeanConfusion, ProtocolSummary, ScoreComparison, ScoreSummary, Spread, SummaryComparison,
    ROC_GRID_POINTS,
};

//! Error types of the evaluation crate.

use std::path::PathBuf;

/// Why a metric could not be computed from the given vectors.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricError {
    #[error("{what}: {left} labels but {right} scores; they must pair one to one")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    #[error("{what}: no values given")]
    Empty { what: &'static str },
    #[error("{what}: value {value} at position {index} is not finite")]
    NotFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },
    #[error(
        "{what}: only one class present ({positives} exotic, {negatives} typical); \
         the metric needs both"
    )]
    SingleClass {
        what: &'static str,
        positives: usize,
        negatives: usize,
    },
    #[error("{what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

/// Errors raised by the protocol runner and the report writer.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Metric(#[from] MetricError),
    #[error("protocol set-up: {0}")]
    Setup(String),
    #[error("scorer failed in configuration {config} run {run} while {stage}: {source}")]
    Scorer {
        config: String,
        run: usize,
        stage: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("configuration {config} run {run}: {reason}")]
    ScorerOutput {
        config: String,
        run: usize,
        reason: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {reason}")]
    Data { path: PathBuf, reason: String },
    #[error("drawing {what}: {reason}")]
    Plot { what: String, reason: String },
}

impl EvalError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EvalError::Io {
            path: path.into(),
            source,
        }
    }
}

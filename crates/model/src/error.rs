//! The one error type of the crate: every fault names the file, the input or the
//! setting at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A libtorch operation failed (out of device memory, a device that went away).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    /// A model folder lacks one of the files a trained model consists of.
    #[error("{dir}: not a model folder: {file} is missing")]
    MissingFile { dir: PathBuf, file: &'static str },
    /// The model card was written by a different, incompatible version of this crate.
    #[error("{path}: model card format is `{found}`, this build reads `{expected}`")]
    CardVersion {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Pixels handed for training or scoring do not fit the model.
    #[error("bad input: {0}")]
    Input(String),
    /// A checkpoint exists but cannot continue this run (other data or configuration).
    #[error("{path}: cannot resume: {reason}")]
    Resume { path: PathBuf, reason: String },
    #[error("device: {0}")]
    Device(String),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ModelError {
    let path = path.into();
    move |source| ModelError::Io { path, source }
}

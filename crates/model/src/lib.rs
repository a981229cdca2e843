//! The VQ-VAE on libtorch (tch): training, checkpoints and anomaly scores (NCC, MSE,
//! code rarity).
//!
//! - [`train`] fits the study's VQ-VAE (preset `baseline`, the keras-io recipe) or the
//!   `improved` one to a [`prospector_cutouts::CutoutSet`], checkpointing every epoch,
//!   and writes a model folder: weights (`model.safetensors`) and a [`ModelCard`].
//! - [`Scorer`] loads a model folder and scores cutout sets or raw pixel batches.
//! - [`select_device`] picks CUDA when libtorch's CUDA backend is present, else the CPU.

mod adam;
mod card;
mod config;
mod data;
pub mod device;
mod error;
mod metrics;
mod network;
mod quantiser;
mod score;
mod store;
mod train;

pub use card::{
    MeanStd, ModelCard, ScoreStats, TrainingData, CARD_FILE, CARD_FORMAT, WEIGHTS_FILE,
};
pub use config::{
    AdamConfig, Architecture, CodebookUpdate, KMeansInit, Preset, QuantiserConfig, TrainConfig,
};
pub use data::pixels_sha256;
pub use device::{
    inference_batch_size, load_cuda_backend, select_device, set_threads, DeviceChoice,
    DeviceRequest,
};
pub use error::{ModelError, Result};
pub use metrics::{code_usage, perplexity, EpochMetrics, SplitMetrics};
pub use network::forward_flops;
pub use score::{ncc, AnomalyMeasure, Ncc, ScoreOptions, Scorer, SourceScore, CONSTANT_STD};
pub use tch::Device;
pub use train::{train, Progress, TrainOptions, CHECKPOINT_DIR};

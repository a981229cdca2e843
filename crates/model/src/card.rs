//! A trained model on disk: a folder holding the weights (`model.safetensors`) and the
//! model card (`model-card.json`) that says what they are, what they were trained on,
//! how training went, and the statistics scoring needs.

use crate::config::TrainConfig;
use crate::error::{ModelError, Result};
use crate::metrics::EpochMetrics;
use crate::network::VqVae;
use crate::store::{content_hash, read_json, read_tensors, write_json, write_tensors};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::Path;
use tch::Device;

pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const CARD_FILE: &str = "model-card.json";
/// Bumped whenever the card or the weights' meaning changes incompatibly.
pub const CARD_FORMAT: &str = "prospector-model-card/1";

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    /// SHA-256 over all cutout pixels of the set handed to training (see [`crate::pixels_sha256`]).
    pub pixels_sha256: String,
    pub cutouts: usize,
    pub train_cutouts: usize,
    pub validation_cutouts: usize,
    pub side: usize,
    /// The cutout set's own description of its normalisation.
    pub normalisation: String,
    /// Population variance of the training split's pixels (divides the reconstruction MSE).
    pub pixel_variance: f64,
}

/// Mean and population standard deviation of a score over the training split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
}

impl MeanStd {
    pub fn of(values: &[f64]) -> MeanStd {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        MeanStd {
            mean,
            std: var.sqrt(),
        }
    }

    /// `(value - mean) / std`, or 0 when the training split showed no spread.
    pub fn z(&self, value: f64) -> f64 {
        if self.std > 0.0 {
            (value - self.mean) / self.std
        } else {
            0.0
        }
    }
}

/// The trained model's scores over its own training split: the reference that turns
/// scores into z-scores for the combined score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreStats {
    pub one_minus_ncc: MeanStd,
    pub rarity: MeanStd,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// [`CARD_FORMAT`] of the build that wrote it.
    pub format: String,
    /// Content hash of the weights (SHA-256 over names, shapes and values).
    pub version_id: String,
    /// Version of prospector-model that trained it.
    pub trainer_version: String,
    pub config: TrainConfig,
    pub training_data: TrainingData,
    /// One entry per epoch, in order.
    pub epochs: Vec<EpochMetrics>,
    /// The last epoch's metrics.
    pub final_metrics: EpochMetrics,
    /// How often each code occurs in the code forms of the training split (the final
    /// weights), K entries: the frequencies behind the rarity score.
    pub code_histogram: Vec<u64>,
    pub score_stats: ScoreStats,
    /// Where it was trained ("cpu", "cuda:0") and with how many CPU threads.
    pub device: String,
    pub threads: i32,
}

/// Writes weights and card into `dir` (created if needed); sets the card's version id.
pub(crate) fn save_model(dir: &Path, net: &VqVae, card: &mut ModelCard) -> Result<()> {
    fs::create_dir_all(dir).map_err(crate::error::io_error(dir))?;
    let tensors = net.named_tensors();
    card.version_id = content_hash(&tensors)?;
    write_tensors(&dir.join(WEIGHTS_FILE), &tensors)?;
    write_json(&dir.join(CARD_FILE), card)
}

/// Reads a model folder, checking the card's format and that the weights are the ones
/// the card describes.
pub(crate) fn load_model(dir: &Path, device: Device) -> Result<(VqVae, ModelCard)> {
    for file in [CARD_FILE, WEIGHTS_FILE] {
        if !dir.join(file).is_file() {
            return Err(ModelError::MissingFile {
                dir: dir.to_path_buf(),
                file,
            });
        }
    }
    let card_path = dir.join(CARD_FILE);
    let format: FormatOnly = read_json(&card_path)?;
    if format.format != CARD_FORMAT {
        return Err(ModelError::CardVersion {
            path: card_path,
            found: format.format,
            expected: CARD_FORMAT,
        });
    }
    let card: ModelCard = read_json(&card_path)?;
    let weights_path = dir.join(WEIGHTS_FILE);
    let bad_weights = |reason: String| ModelError::BadFile {
        path: weights_path.clone(),
        reason,
    };
    let tensors = read_tensors(&weights_path)?;
    let net = VqVae::from_tensors(&card.config.architecture, tensors, device)
        .map_err(|e| bad_weights(e.to_string()))?;
    let version = content_hash(&net.named_tensors())?;
    if version != card.version_id {
        return Err(bad_weights(format!(
            "weights hash to {version}, the model card describes {}",
            card.version_id
        )));
    }
    if card.code_histogram.len() != card.config.architecture.num_codes {
        return Err(ModelError::BadFile {
            path: card_path,
            reason: format!(
                "code histogram has {} entries for {} codes",
                card.code_histogram.len(),
                card.config.architecture.num_codes
            ),
        });
    }
    Ok((net, card))
}

/// Reads the format field alone, so that a card of another version is named as such
/// rather than failing on its first unknown field.
#[derive(Deserialize)]
struct FormatOnly {
    format: String,
}

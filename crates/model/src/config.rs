//! What a training run is: the network's shape, the quantiser's recipe and the
//! optimiser's settings, gathered under two presets.
//!
//! `baseline` is the study's recipe: the keras-io VQ-VAE example ("Vector-Quantized
//! Variational Autoencoders", Sayak Paul) with K = 128 codes of dimension D = 16, trained
//! 50 epochs at batch 256 with Adam (keras defaults). `improved` keeps the network and
//! changes how the codebook is learnt, to fight codebook collapse (a handful of codes in
//! use), the known failure of the baseline recipe.

use crate::error::{ModelError, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The study's keras-io recipe, reproduced exactly (the default).
    Baseline,
    /// EMA codebook, dead-code restarts and k-means initialisation of the codebook.
    Improved,
}

impl std::str::FromStr for Preset {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "baseline" => Ok(Preset::Baseline),
            "improved" => Ok(Preset::Improved),
            other => Err(ModelError::Config(format!(
                "unknown preset `{other}` (expected `baseline` or `improved`)"
            ))),
        }
    }
}

/// The network's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Side of the square input in pixels (a multiple of 4: two stride-2 convolutions).
    pub side: usize,
    /// D: dimension of the latent vectors and the codes.
    pub latent_dim: usize,
    /// K: number of codes in the codebook.
    pub num_codes: usize,
    /// Subtracted from pixels before the encoder and added back to reconstructions. The
    /// keras example feeds `x - 0.5` for pixels in [0, 1]; every score is computed in
    /// pixel units, so the shift only changes what the network sees.
    pub input_shift: f32,
}

impl Architecture {
    /// Side of the latent grid (the code form): `side / 4`.
    pub fn grid_side(&self) -> usize {
        self.side / 4
    }
}

/// How the codebook learns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CodebookUpdate {
    /// Codes are parameters moved by the codebook loss `||sg[z_e] - e||^2` (keras example).
    Gradient,
    /// Codes are exponential moving averages of the encoder outputs assigned to them
    /// (van den Oord et al. 2017, appendix A.1), with Laplace smoothing of the counts so
    /// that an unused code never divides by zero.
    Ema { decay: f64, epsilon: f64 },
}

/// k-means initialisation of the codebook from the encoder outputs of the first batches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KMeansInit {
    pub batches: usize,
    pub iterations: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantiserConfig {
    /// beta, the weight of the commitment term `||z_e - sg[e]||^2` (0.25).
    pub commitment_cost: f64,
    pub update: CodebookUpdate,
    /// Re-seed a code from a random encoder output of the current batch when it has not
    /// been used for this many steps.
    pub dead_code_steps: Option<u32>,
    pub kmeans_init: Option<KMeansInit>,
}

/// Adam's settings; the update is keras's form (epsilon added to `sqrt(v)`, bias
/// correction folded into the step size).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    pub learning_rate: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub preset: Preset,
    pub architecture: Architecture,
    pub quantiser: QuantiserConfig,
    pub adam: AdamConfig,
    pub epochs: usize,
    pub batch_size: usize,
    /// Fraction of the cutouts held out for validation (chosen with the seed).
    pub validation_fraction: f64,
    /// Seeds weight initialisation, the validation split, the data order, k-means and
    /// dead-code restarts.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig::preset(Preset::Baseline)
    }
}

impl TrainConfig {
    pub fn preset(preset: Preset) -> TrainConfig {
        let baseline_quantiser = QuantiserConfig {
            commitment_cost: 0.25,
            update: CodebookUpdate::Gradient,
            dead_code_steps: None,
            kmeans_init: None,
        };
        let quantiser = match preset {
            Preset::Baseline => baseline_quantiser,
            Preset::Improved => QuantiserConfig {
                update: CodebookUpdate::Ema {
                    decay: 0.99,
                    epsilon: 1e-5,
                },
                dead_code_steps: Some(20),
                kmeans_init: Some(KMeansInit {
                    batches: 4,
                    iterations: 10,
                }),
                ..baseline_quantiser
            },
        };
        TrainConfig {
            preset,
            architecture: Architecture {
                side: 64,
                latent_dim: 16,
                num_codes: 128,
                input_shift: 0.5,
            },
            quantiser,
            // keras.optimizers.Adam() defaults.
            adam: AdamConfig {
                learning_rate: 1e-3,
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 1e-7,
            },
            epochs: 50,
            batch_size: 256,
            validation_fraction: 0.1,
            seed: 0,
        }
    }

    /// Refuses settings that cannot train.
    pub fn validate(&self) -> Result<()> {
        let a = &self.architecture;
        let fail = |m: String| Err(ModelError::Config(m));
        if a.side < 4 || !a.side.is_multiple_of(4) {
            return fail(format!(
                "side {} must be a positive multiple of 4 (two stride-2 convolutions)",
                a.side
            ));
        }
        if a.latent_dim == 0 || a.num_codes < 2 || a.num_codes > 1 << 16 {
            return fail(format!(
                "need latent_dim >= 1 and 2 <= num_codes <= 65536, got {} and {}",
                a.latent_dim, a.num_codes
            ));
        }
        if !a.input_shift.is_finite() {
            return fail("input_shift must be finite".into());
        }
        if self.epochs == 0 || self.batch_size == 0 {
            return fail("epochs and batch_size must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return fail(format!(
                "validation_fraction {} must be in [0, 1)",
                self.validation_fraction
            ));
        }
        let q = &self.quantiser;
        if !(q.commitment_cost >= 0.0 && q.commitment_cost.is_finite()) {
            return fail("commitment_cost must be finite and >= 0".into());
        }
        if let CodebookUpdate::Ema { decay, epsilon } = q.update {
            let in_range = decay > 0.0 && decay < 1.0 && epsilon > 0.0;
            if !in_range {
                return fail(format!(
                    "EMA needs 0 < decay < 1 and epsilon > 0, got {decay} and {epsilon}"
                ));
            }
        }
        if q.dead_code_steps == Some(0) {
            return fail("dead_code_steps must be at least 1".into());
        }
        if let Some(k) = q.kmeans_init {
            if k.batches == 0 || k.iterations == 0 {
                return fail("k-means initialisation needs batches and iterations >= 1".into());
            }
        }
        let adam = &self.adam;
        let ok = adam.learning_rate > 0.0
            && (0.0..1.0).contains(&adam.beta1)
            && (0.0..1.0).contains(&adam.beta2)
            && adam.epsilon > 0.0;
        if !ok {
            return fail(format!("Adam settings out of range: {adam:?}"));
        }
        Ok(())
    }
}

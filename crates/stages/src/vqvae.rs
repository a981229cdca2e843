//! [`CutoutModel`] for prospector-model's VQ-VAE [`Scorer`].

use crate::scorer::{CutoutModel, ModelError, ModelScores};
use prospector_model::{ScoreOptions, Scorer};
use prospector_proto::v1::{CodeForm, SourceScores};

/// The VQ-VAE scorer behind the scorer stage.
#[derive(Debug)]
pub struct VqVaeModel {
    scorer: Scorer,
    options: ScoreOptions,
}

impl VqVaeModel {
    pub fn new(scorer: Scorer, options: ScoreOptions) -> Self {
        Self { scorer, options }
    }
}

impl CutoutModel for VqVaeModel {
    fn version(&self) -> &str {
        self.scorer.version_id()
    }

    fn side(&self) -> usize {
        self.scorer.side()
    }

    fn codebook_size(&self) -> Option<usize> {
        Some(self.scorer.card().config.architecture.num_codes)
    }

    fn score(&mut self, pixels: &[f32], n: usize) -> Result<Vec<ModelScores>, ModelError> {
        let error = |reason: String| ModelError {
            version: self.scorer.version_id().to_owned(),
            reason,
        };
        let side = self.scorer.side();
        if pixels.len() != n * side * side {
            return Err(error(format!(
                "{} pixels are not {n} cutouts of {side}x{side}",
                pixels.len()
            )));
        }
        let grid = side / 4;
        let scores = self
            .scorer
            .score_pixels(pixels, &self.options)
            .map_err(|e| error(e.to_string()))?;
        Ok(scores
            .into_iter()
            .map(|s| ModelScores {
                scores: SourceScores {
                    ncc: s.ncc,
                    mse: s.mse,
                    code_rarity: s.rarity,
                    combined: s.combined,
                    anomaly: s.anomaly,
                },
                code_form: CodeForm {
                    width: grid as u32,
                    height: grid as u32,
                    codes: s.codes.into_iter().map(u32::from).collect(),
                },
                reconstruction: s.reconstruction,
            })
            .collect())
    }
}

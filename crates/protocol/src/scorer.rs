//! The VQ-VAE as an [`AnomalyScorer`]: each run trains a fresh model on its training
//! sources and scores its test sources.

use crate::ProtocolError;
use prospector_cutouts::CutoutSet;
use prospector_eval::protocol::{
    AnomalyScorer, CodeForm, IslandFeatures, Reconstruction, RunContext, ScoreSpec, ScorerError,
    SourceScores, NCC,
};
use prospector_model::{
    train, AnomalyMeasure, Device, ScoreOptions, Scorer, TrainConfig, TrainOptions,
};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// Score names the VQ-VAE scorer reports beside NCC.
pub const MSE: &str = "mse";
pub const CODE_RARITY: &str = "code_rarity";

/// Every cutout a protocol may use (labelled and unlabelled), by id.
#[derive(Debug)]
pub struct CutoutPool {
    set: CutoutSet,
    index: HashMap<String, usize>,
}

impl CutoutPool {
    /// Joins the sets; ids must be unique across them.
    pub fn new(sets: &[&CutoutSet]) -> Result<Self, ProtocolError> {
        let first = sets.first().ok_or(ProtocolError::Empty)?;
        let mut set = CutoutSet::new(first.side(), first.normalisation());
        for s in sets {
            set.extend(s)?;
        }
        let mut index = HashMap::with_capacity(set.len());
        for (i, record) in set.records().iter().enumerate() {
            if index.insert(record.source_id.clone(), i).is_some() {
                return Err(ProtocolError::DuplicateId(record.source_id.clone()));
            }
        }
        Ok(Self { set, index })
    }

    pub fn set(&self) -> &CutoutSet {
        &self.set
    }

    fn indices(&self, ids: &[String]) -> Result<Vec<usize>, ScorerError> {
        ids.iter()
            .map(|id| {
                self.index
                    .get(id)
                    .copied()
                    .ok_or_else(|| format!("no cutout with id {id}").into())
            })
            .collect()
    }
}

/// Makes one [`VqVaeScorer`] per run.
#[derive(Debug, Clone)]
pub struct VqVaeFactory {
    pub pool: Arc<CutoutPool>,
    pub config: TrainConfig,
    pub device: Device,
    /// Each run's model is written under `<models_dir>/<config>-<run>/`, so an
    /// interrupted protocol resumes mid-training from the checkpoint.
    pub models_dir: PathBuf,
}

impl VqVaeFactory {
    pub fn create_scorer(&self, run: &RunContext) -> Result<VqVaeScorer, ScorerError> {
        Ok(VqVaeScorer {
            factory: self.clone(),
            model_dir: self
                .models_dir
                .join(format!("{}-{:02}", run.config, run.run)),
            scorer: None,
        })
    }
}

/// One run's model.
#[derive(Debug)]
pub struct VqVaeScorer {
    factory: VqVaeFactory,
    model_dir: PathBuf,
    scorer: Option<Scorer>,
}

impl VqVaeScorer {
    fn trained(&self) -> Result<&Scorer, ScorerError> {
        self.scorer
            .as_ref()
            .ok_or_else(|| "the model was asked to score before it was trained".into())
    }

    fn run_model(
        &self,
        ids: &[String],
        reconstructions: bool,
    ) -> Result<(Vec<usize>, Vec<prospector_model::SourceScore>), ScorerError> {
        let indices = self.factory.pool.indices(ids)?;
        let subset = self.factory.pool.set().select(&indices);
        let options = ScoreOptions {
            reconstructions,
            anomaly: AnomalyMeasure::OneMinusNcc,
        };
        let scores = self.trained()?.score_set(&subset, &options)?;
        Ok((indices, scores))
    }
}

impl AnomalyScorer for VqVaeScorer {
    fn score_specs(&self) -> Vec<ScoreSpec> {
        vec![
            ScoreSpec {
                name: NCC.to_string(),
                higher_is_anomalous: false,
                description:
                    "normalised cross-correlation of input and reconstruction (the study's)".into(),
            },
            ScoreSpec {
                name: MSE.to_string(),
                higher_is_anomalous: true,
                description: "mean squared reconstruction error".into(),
            },
            ScoreSpec {
                name: CODE_RARITY.to_string(),
                higher_is_anomalous: true,
                description:
                    "mean negative log frequency of the codes used, under the training data's usage"
                        .into(),
            },
        ]
    }

    fn train(&mut self, run: &RunContext, train_ids: &[String]) -> Result<(), ScorerError> {
        let indices = self.factory.pool.indices(train_ids)?;
        let subset = self.factory.pool.set().select(&indices);
        let config = TrainConfig {
            seed: run.seed,
            ..self.factory.config.clone()
        };
        let options = TrainOptions {
            device: self.factory.device,
            resume: true,
            threads: None,
        };
        tracing::info!(config = %run.config, run = run.run, cutouts = subset.len(), "training");
        train(&subset, &config, &self.model_dir, &options, &mut |_| {})?;
        self.scorer = Some(Scorer::load(&self.model_dir, self.factory.device)?);
        Ok(())
    }

    fn score(&mut self, ids: &[String]) -> Result<Vec<SourceScores>, ScorerError> {
        let (indices, scores) = self.run_model(ids, false)?;
        let side = self.factory.pool.set().side();
        let codebook_size = self.factory.config.architecture.num_codes;
        Ok(indices
            .iter()
            .zip(scores)
            .map(|(&i, score)| {
                let record = &self.factory.pool.set().records()[i];
                SourceScores {
                    id: record.source_id.clone(),
                    scores: BTreeMap::from([
                        (NCC.to_string(), score.ncc),
                        (MSE.to_string(), score.mse),
                        (CODE_RARITY.to_string(), score.rarity),
                    ]),
                    code_form: Some(CodeForm {
                        width: side / 4,
                        height: side / 4,
                        codebook_size,
                        codes: score.codes.iter().map(|&c| u32::from(c)).collect(),
                    }),
                    features: Some(IslandFeatures {
                        size_pixels: record.island_pixels as f64,
                        peak_flux: record.peak_flux,
                        integrated_flux: record.total_flux,
                    }),
                }
            })
            .collect())
    }

    fn reconstruct(&mut self, ids: &[String]) -> Result<Vec<Reconstruction>, ScorerError> {
        let (indices, scores) = self.run_model(ids, true)?;
        let side = self.factory.pool.set().side();
        indices
            .iter()
            .zip(scores)
            .map(|(&i, score)| {
                Ok(Reconstruction {
                    id: self.factory.pool.set().records()[i].source_id.clone(),
                    width: side,
                    height: side,
                    input: self.factory.pool.set().cutout(i).to_vec(),
                    reconstruction: score
                        .reconstruction
                        .ok_or("the model returned no reconstruction")?,
                })
            })
            .collect()
    }
}

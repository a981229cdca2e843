//! A synthetic scorer with known behaviour, for the protocol and report tests.
//!
//! Anomaly of a source = z + d * exotic with z ~ N(0, 1), redrawn per run; the scorer
//! reports NCC = -anomaly, so the expected AUC is Phi(d / sqrt(2)). It also *memorises*
//! its training set: a source it trained on gets NCC = +10 (perfectly reconstructed), as
//! an over-fitted model would. A test source leaking into training therefore shifts the
//! AUC away from Phi(d / sqrt(2)).
#![allow(dead_code)] // each test binary uses a different part

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use prospector_eval::protocol::{
    derive_seed, AnomalyScorer, CodeForm, Dataset, IslandFeatures, LabelledSource, Reconstruction,
    RunContext, ScoreSpec, ScorerError, SourceScores, NCC,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub const CODEBOOK: usize = 16;
pub const GRID: usize = 8;
pub const IMAGE: usize = 16;

pub struct SyntheticScorer {
    pub labels: Arc<HashMap<String, bool>>,
    pub separation: f64,
    pub seed: u64,
    pub trained: HashSet<String>,
}

fn id_seed(seed: u64, id: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    derive_seed(seed, &[h])
}

impl SyntheticScorer {
    fn anomaly(&self, id: &str) -> (f64, ChaCha8Rng) {
        let mut rng = ChaCha8Rng::seed_from_u64(id_seed(self.seed, id));
        let z: f64 = StandardNormal.sample(&mut rng);
        let exotic = self.labels.get(id).copied().unwrap_or(false);
        let a = if self.trained.contains(id) {
            -10.0
        } else {
            z + if exotic { self.separation } else { 0.0 }
        };
        (a, rng)
    }
}

impl AnomalyScorer for SyntheticScorer {
    fn score_specs(&self) -> Vec<ScoreSpec> {
        vec![
            ScoreSpec {
                name: NCC.into(),
                higher_is_anomalous: false,
                description: "synthetic NCC".into(),
            },
            ScoreSpec {
                name: "mse".into(),
                higher_is_anomalous: true,
                description: "synthetic MSE: the anomaly plus independent noise".into(),
            },
        ]
    }

    fn train(&mut self, run: &RunContext, train_ids: &[String]) -> Result<(), ScorerError> {
        self.seed = run.seed;
        self.trained = train_ids.iter().cloned().collect();
        Ok(())
    }

    fn score(&mut self, ids: &[String]) -> Result<Vec<SourceScores>, ScorerError> {
        Ok(ids
            .iter()
            .map(|id| {
                let (a, mut rng) = self.anomaly(id);
                let exotic = self.labels.get(id).copied().unwrap_or(false);
                let noise: f64 = StandardNormal.sample(&mut rng);
                let size_noise: f64 = StandardNormal.sample(&mut rng);
                let offset = if exotic { CODEBOOK / 2 } else { 0 };
                let codes = (0..GRID * GRID)
                    .map(|_| (offset + rng.random_range(0..CODEBOOK / 2)) as u32)
                    .collect();
                SourceScores {
                    id: id.clone(),
                    scores: BTreeMap::from([(NCC.into(), -a), ("mse".into(), a + noise)]),
                    code_form: Some(CodeForm {
                        width: GRID,
                        height: GRID,
                        codebook_size: CODEBOOK,
                        codes,
                    }),
                    features: Some(IslandFeatures {
                        size_pixels: 100.0 + 20.0 * (size_noise + if exotic { 0.5 } else { 0.0 }),
                        peak_flux: rng.random_range(0.001..0.1),
                        integrated_flux: rng.random_range(0.01..1.0),
                    }),
                }
            })
            .collect())
    }

    fn reconstruct(&mut self, ids: &[String]) -> Result<Vec<Reconstruction>, ScorerError> {
        Ok(ids
            .iter()
            .map(|id| {
                let (a, _) = self.anomaly(id);
                let blob = |x: usize, y: usize, w: f64| {
                    let (dx, dy) = (x as f64 - 7.5, y as f64 - 7.5);
                    (-(dx * dx + dy * dy) / (2.0 * w * w)).exp() as f32
                };
                let mut input = Vec::with_capacity(IMAGE * IMAGE);
                let mut reconstruction = Vec::with_capacity(IMAGE * IMAGE);
                for y in 0..IMAGE {
                    for x in 0..IMAGE {
                        input.push(blob(x, y, 3.0));
                        reconstruction.push(blob(x, y, 3.0 + a.abs().min(3.0)));
                    }
                }
                Reconstruction {
                    id: id.clone(),
                    width: IMAGE,
                    height: IMAGE,
                    input,
                    reconstruction,
                }
            })
            .collect())
    }
}

/// `exotic` exotic and `typical` typical labelled sources, `unlabelled` unlabelled ones.
pub fn synthetic_dataset(exotic: usize, typical: usize, unlabelled: usize) -> Dataset {
    let mut labelled: Vec<LabelledSource> = (0..exotic)
        .map(|i| LabelledSource {
            id: format!("exotic-{i}"),
            exotic: true,
        })
        .collect();
    labelled.extend((0..typical).map(|i| LabelledSource {
        id: format!("typical-{i}"),
        exotic: false,
    }));
    let unlabelled = (0..unlabelled).map(|i| format!("unlabelled-{i}")).collect();
    Dataset::new(labelled, unlabelled).expect("synthetic dataset is valid")
}

/// A factory for the synthetic scorer on `dataset`.
pub fn factory(
    dataset: &Dataset,
    separation: f64,
) -> impl Fn(&RunContext) -> Result<SyntheticScorer, ScorerError> + Sync {
    let labels: Arc<HashMap<String, bool>> = Arc::new(
        dataset
            .labelled()
            .iter()
            .map(|s| (s.id.clone(), s.exotic))
            .collect(),
    );
    move |run: &RunContext| {
        Ok(SyntheticScorer {
            labels: labels.clone(),
            separation,
            seed: run.seed,
            trained: HashSet::new(),
        })
    }
}

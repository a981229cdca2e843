//! The study's evaluation protocol (prospector-eval) run with Prospector's own model
//! (prospector-model) on cutout sets (prospector-cutouts).
//!
//! - [`mirabest_sets`] turns the labelled FIRST radio galaxies into a labelled and an
//!   unlabelled cutout set, found and cut by the same source finder as the survey;
//! - [`simulated_survey_sets`] does the same for a simulated MeerKAT-like survey, with
//!   labels from the simulator's truth catalogue;
//! - [`dataset_from_sets`] gives the protocol its labelled / unlabelled ids;
//! - [`VqVaeFactory`] trains a fresh VQ-VAE per run and scores with it.

mod mirabest;
mod scorer;
mod survey;

pub use mirabest::{mirabest_sets, MiraBestSets, FIRST_BEAM_ARCSEC};
pub use scorer::{CutoutPool, VqVaeFactory, VqVaeScorer, CODE_RARITY, MSE};
pub use survey::{
    match_island, simulated_survey_sets, write_matches_csv, SetName, SurveyDataset,
    SurveyDatasetConfig, SurveyIsland, TruthMatch, MIN_FLUX_SHARE,
};

use prospector_cutouts::{CutoutSet, Label};
use prospector_eval::protocol::{Dataset, LabelledSource};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("{path}: {reason}")]
    Data { path: PathBuf, reason: String },
    #[error(transparent)]
    Cutouts(#[from] prospector_cutouts::CutoutSetError),
    #[error(transparent)]
    Eval(#[from] prospector_eval::EvalError),
    #[error("source id {0} appears in more than one cutout")]
    DuplicateId(String),
    #[error("no cutouts given")]
    Empty,
    #[error("simulated survey: {0}")]
    Simulation(String),
    #[error("the labelled set holds an unlabelled cutout ({0}); label it typical or exotic")]
    MissingLabel(String),
}

/// The protocol's view of the data: ids of the labelled set's typical and exotic
/// sources (artefacts are left out) and of the unlabelled set.
pub fn dataset_from_sets(
    labelled: &CutoutSet,
    unlabelled: &CutoutSet,
) -> Result<Dataset, ProtocolError> {
    let mut sources = Vec::with_capacity(labelled.len());
    for record in labelled.records() {
        let exotic = match record.label {
            Label::Exotic => true,
            Label::Typical => false,
            Label::Artefact => continue,
            Label::Unlabelled => return Err(ProtocolError::MissingLabel(record.source_id.clone())),
        };
        sources.push(LabelledSource {
            id: record.source_id.clone(),
            exotic,
        });
    }
    let unlabelled_ids = unlabelled
        .records()
        .iter()
        .map(|r| r.source_id.clone())
        .collect();
    Ok(Dataset::new(sources, unlabelled_ids)?)
}

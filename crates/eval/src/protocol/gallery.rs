//! Choosing the sources shown in the report's galleries (the study's Figures 12-14): the
//! best and worst reconstructed typical, exotic and unlabelled sources of one run.

use serde::{Deserialize, Serialize};

use super::scorer::Reconstruction;

/// Which population a gallery row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GalleryGroup {
    Typical,
    Exotic,
    Unlabelled,
}

/// Best = least anomalous by the primary score (e.g. highest NCC), worst = most anomalous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GalleryEnd {
    Best,
    Worst,
}

/// One source in a gallery with its images and score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryItem {
    pub group: GalleryGroup,
    pub end: GalleryEnd,
    /// The primary score in its own units (e.g. NCC).
    pub score: f64,
    pub image: Reconstruction,
}

/// The galleries of one run, by the primary score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gallery {
    pub score_name: String,
    pub items: Vec<GalleryItem>,
}

/// How many sources each gallery row shows and how many unlabelled sources are scored to
/// find the unlabelled extremes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GallerySettings {
    pub per_row: usize,
    pub unlabelled_sample: usize,
}

impl Default for GallerySettings {
    fn default() -> Self {
        GallerySettings {
            per_row: 5,
            unlabelled_sample: 2000,
        }
    }
}

/// A source id and its anomaly (higher = more anomalous).
pub type Candidate = (String, f64);

/// The `per_row` least and most anomalous of `candidates` (id, anomaly: higher = more
/// anomalous), best first and worst first; ties broken by id so the choice is stable.
pub fn extremes(candidates: &[Candidate], per_row: usize) -> (Vec<Candidate>, Vec<Candidate>) {
    let mut sorted = candidates.to_vec();
    sorted.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    let best: Vec<_> = sorted.iter().take(per_row).cloned().collect();
    let worst: Vec<_> = sorted.iter().rev().take(per_row).cloned().collect();
    (best, worst)
}

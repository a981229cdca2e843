//! The evaluation report: PNG charts drawn in Rust and one self-contained HTML page
//! (images embedded as data URIs, no external URL) with the study's figures and ours.

mod font;
mod html;
mod images;
mod plots;
mod png;
mod sections;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use font::{ensure_font, FONT_ENV};
pub use images::{gallery_strip, strip_size};
pub use plots::{box_chart, embedding_scatter, roc_chart, BoxStats, RocSeries};
pub use png::Png;

use crate::embed::{TsneSettings, UmapSettings};
use crate::error::EvalError;
use crate::protocol::{Configuration, ProtocolSummary, RunResult};

/// The study's mean figures for one configuration, printed beside ours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StudyMeans {
    pub config: Configuration,
    pub auc: f64,
    pub f1: f64,
    pub f2: f64,
}

/// The study's reported means (AUC, F1, F2 over 35 runs).
pub const STUDY_MEANS: [StudyMeans; 3] = [
    StudyMeans {
        config: Configuration::A,
        auc: 0.827,
        f1: 0.776,
        f2: 0.872,
    },
    StudyMeans {
        config: Configuration::B,
        auc: 0.871,
        f1: 0.790,
        f2: 0.897,
    },
    StudyMeans {
        config: Configuration::C,
        auc: 0.872,
        f1: 0.211,
        f2: 0.271,
    },
];

/// How the report is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSettings {
    pub title: String,
    /// Seed of the embeddings.
    pub embed_seed: u64,
    pub tsne: TsneSettings,
    pub umap: UmapSettings,
    /// Neighbours for the embeddings' trustworthiness and label agreement.
    pub neighbour_k: usize,
    /// At most this many sources are embedded (all exotic first, then typical in test
    /// order); exact t-SNE is O(n^2).
    pub max_embed_points: usize,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            title: "Prospector evaluation: VQ-VAE anomaly ranking".into(),
            embed_seed: 0,
            tsne: TsneSettings::default(),
            umap: UmapSettings::default(),
            neighbour_k: 10,
            max_embed_points: 3000,
        }
    }
}

/// A named image of the report (also embedded in the HTML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportImage {
    pub name: String,
    pub png: Png,
}

/// The finished report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub html: String,
    pub images: Vec<ReportImage>,
}

/// Builds the report from the runs and their summary.
pub fn build_report(
    results: &[RunResult],
    summary: &ProtocolSummary,
    settings: &ReportSettings,
) -> Result<Report, EvalError> {
    if summary.configs.is_empty() {
        return Err(EvalError::Setup("no runs to report".into()));
    }
    let mut page = sections::Page::new(&settings.title);
    sections::overview(&mut page, summary);
    sections::roc_and_boxes(&mut page, summary)?;
    sections::confusion(&mut page, summary);
    sections::significance(&mut page, summary);
    sections::scores_and_baselines(&mut page, summary);
    sections::embeddings(&mut page, results, summary, settings)?;
    sections::galleries(&mut page, results, summary)?;
    Ok(page.finish())
}

/// Writes the report's HTML page (the only file needed to read it).
pub fn write_report(report: &Report, path: &Path) -> Result<(), EvalError> {
    std::fs::write(path, &report.html).map_err(|e| EvalError::io(path, e))
}

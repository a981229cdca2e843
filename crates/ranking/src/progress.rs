//! Per-image progress: which tiles have reported, how many sources they own, how many of
//! those have been scored.

use prospector_proto::v1::{Stage, TilePlan};
use std::collections::{BTreeMap, HashSet};

/// Where an image stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageState {
    /// Sources are still being found or scored.
    InProgress,
    /// Every tile reported and every source it owns has been scored.
    Complete,
    /// A stage gave up on the image; the reason is in [`ImageProgress::failure`].
    Failed,
}

/// The progress of one image through the pipeline.
#[derive(Debug, Clone, Default)]
pub struct ImageProgress {
    plan: Option<TilePlan>,
    /// Sources owned by each tile that has been extracted, by tile index.
    sources_per_tile: BTreeMap<u32, u32>,
    scored: HashSet<String>,
    failure: Option<String>,
}

impl ImageProgress {
    pub(crate) fn set_plan(&mut self, plan: TilePlan) {
        self.plan = Some(plan);
    }

    /// Records that tile `tile_index` was extracted and owns `sources` sources. A repeat
    /// of the same report (a redelivered progress event) changes nothing.
    pub(crate) fn tile_extracted(&mut self, tile_index: u32, sources: u32) {
        self.sources_per_tile.insert(tile_index, sources);
    }

    pub(crate) fn source_scored(&mut self, source_id: &str) {
        self.scored.insert(source_id.to_string());
    }

    pub(crate) fn fail(&mut self, reason: String) {
        self.failure.get_or_insert(reason);
    }

    pub fn tiles_total(&self) -> Option<u32> {
        self.plan.as_ref().map(|p| p.tile_count)
    }

    pub fn tiles_done(&self) -> u32 {
        self.sources_per_tile.len() as u32
    }

    /// Sources found so far (by the tiles that have reported).
    pub fn sources_found(&self) -> u64 {
        self.sources_per_tile.values().map(|&n| u64::from(n)).sum()
    }

    pub fn sources_scored(&self) -> u64 {
        self.scored.len() as u64
    }

    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    pub fn state(&self) -> ImageState {
        if self.failure.is_some() {
            return ImageState::Failed;
        }
        let all_tiles = self
            .tiles_total()
            .is_some_and(|total| self.tiles_done() >= total);
        if all_tiles && self.sources_scored() >= self.sources_found() {
            ImageState::Complete
        } else {
            ImageState::InProgress
        }
    }

    /// The stage to report for this image (for `GetImage` / `WatchImage`).
    pub fn stage(&self) -> Stage {
        match self.state() {
            ImageState::Failed => Stage::Failed,
            ImageState::Complete => Stage::Complete,
            ImageState::InProgress if self.sources_scored() > 0 => Stage::Scored,
            ImageState::InProgress if self.tiles_done() > 0 => Stage::Extracted,
            ImageState::InProgress if self.plan.is_some() => Stage::Tiled,
            ImageState::InProgress => Stage::Submitted,
        }
    }
}

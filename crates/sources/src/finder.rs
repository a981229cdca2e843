//! The source finder on any [`PixelSource`]: background once for the full
//! image, then islands tile by tile (in parallel), merged into one list whose
//! order and content do not depend on the tiling or the thread count.

use crate::background::{Background, BackgroundConfig};
use crate::cutout::CutoutConfig;
use crate::islands::{Island, IslandCuts, PixelBeam};
use crate::parallel::map_indexed;
use crate::source::PixelSource;
use crate::tiling::{islands_in_core, plan_tiles, Tile};
use crate::SourcesError;
use serde::{Deserialize, Serialize};

/// Everything the finder can be told. `Default` is PyBDSF's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinderConfig {
    /// PyBDSF `thresh_isl`: island pixels lie this many rms above the mean.
    pub thresh_isl: f64,
    /// PyBDSF `thresh_pix`: an island's peak lies more than this many rms above the mean.
    pub thresh_pix: f64,
    /// PyBDSF `minpix_isl`; `None` for a third of the beam area, at least 6.
    pub min_island_pixels: Option<usize>,
    pub background: BackgroundConfig,
    /// Side of a tile's core in pixels.
    pub tile_core: usize,
    /// Pixels read around each core; `None` for 8 beam majors, at least 32.
    /// Islands larger than this are still completed (the tile is re-read wider).
    pub tile_margin: Option<usize>,
    /// Worker threads; 0 for one per core. Results never depend on it.
    pub threads: usize,
    pub cutouts: CutoutConfig,
}

impl Default for FinderConfig {
    fn default() -> Self {
        Self {
            thresh_isl: 3.0,
            thresh_pix: 5.0,
            min_island_pixels: None,
            background: BackgroundConfig::default(),
            tile_core: 2048,
            tile_margin: None,
            threads: 0,
            cutouts: CutoutConfig::default(),
        }
    }
}

impl FinderConfig {
    pub fn cuts(&self, beam: &PixelBeam) -> IslandCuts {
        IslandCuts {
            thresh_isl: self.thresh_isl,
            thresh_pix: self.thresh_pix,
            min_pixels: self
                .min_island_pixels
                .unwrap_or_else(|| beam.default_min_island_pixels()),
        }
    }

    pub fn margin(&self, beam: &PixelBeam) -> usize {
        self.tile_margin
            .unwrap_or_else(|| ((beam.major_px * 8.0).ceil() as usize).max(32))
    }

    fn check(&self) -> Result<(), SourcesError> {
        let fine =
            self.thresh_isl > 0.0 && self.thresh_pix >= self.thresh_isl && self.tile_core > 0;
        if fine {
            Ok(())
        } else {
            Err(SourcesError::Config(format!(
                "need 0 < thresh_isl ({}) <= thresh_pix ({}) and tile_core ({}) > 0",
                self.thresh_isl, self.thresh_pix, self.tile_core
            )))
        }
    }
}

/// The background and islands of one image. `islands` are in raster order of
/// their first pixel; an island's id is its index here.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub background: Background,
    pub islands: Vec<Island>,
}

/// Finds the islands of `source` with the background measured on it.
pub fn detect(
    source: &dyn PixelSource,
    beam: &PixelBeam,
    config: &FinderConfig,
) -> Result<Detection, SourcesError> {
    config.check()?;
    let background = Background::measure(source, beam, &config.background, config.threads)?;
    let islands = detect_with_background(source, &background, beam, config)?;
    Ok(Detection {
        background,
        islands,
    })
}

/// Finds the islands of `source` against a background already measured on it
/// (for example by the process that planned the tiles).
pub fn detect_with_background(
    source: &dyn PixelSource,
    background: &Background,
    beam: &PixelBeam,
    config: &FinderConfig,
) -> Result<Vec<Island>, SourcesError> {
    config.check()?;
    if background.image_rect() != source.rect() {
        return Err(SourcesError::Config(format!(
            "background measured on {:?} but the image is {:?}",
            background.image_rect(),
            source.rect()
        )));
    }
    let tiles = plan_tiles(source.rect(), config.tile_core, config.margin(beam));
    let per_tile = map_indexed(tiles.len(), config.threads, |i| {
        islands_of_tile(source, &tiles[i], background, beam, config)
    })?;
    let mut islands: Vec<Island> = per_tile.into_iter().flatten().collect();
    islands.sort_by_key(|i| i.first_pixel);
    Ok(islands)
}

/// The islands owned by `tile`, re-reading a wider window until none is cut.
pub fn islands_of_tile(
    source: &dyn PixelSource,
    tile: &Tile,
    background: &Background,
    beam: &PixelBeam,
    config: &FinderConfig,
) -> Result<Vec<Island>, SourcesError> {
    let cuts = config.cuts(beam);
    let mut window = tile.window;
    loop {
        let pixels = source.read(window)?;
        match islands_in_core(
            &pixels,
            tile.core,
            source.rect(),
            background,
            &cuts,
            beam.area_px(),
        ) {
            Ok(islands) => return Ok(islands),
            Err(cut) => window = cut.needed,
        }
    }
}

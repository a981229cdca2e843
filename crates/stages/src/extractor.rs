//! The extractor: a tile in, the sources its core owns out, each as a model-ready
//! cutout, then one progress event saying how many there were.

use crate::codec::{decode_background, decode_pixels, wcs_from_header};
use crate::progress::{finder_for, progress};
use crate::tiler::{proto_rect, tokio_blocking};
use prospector_bus::topology::subjects;
use prospector_bus::{Incoming, Outgoing, Stage, StageError};
use prospector_image::{Beam, Image, PixelRect};
use prospector_proto::v1::{self, Cutout, IslandStats, PixelPosition, SkyPosition, Tile};
use prospector_proto::SCHEMA_VERSION;
use prospector_sources::catalogue::Catalogue;
use prospector_sources::cutout::{cutout_square, make_cutout};
use prospector_sources::tiling::islands_in_core;
use prospector_sources::{FinderConfig, PixelBeam, PixelSource, SourcesError};
use std::collections::HashMap;

/// `Tile` -> one `Cutout` per owned island, then `ProgressEvent` `STAGE_EXTRACTED`.
#[derive(Debug, Clone)]
pub struct ExtractorStage {
    finder: FinderConfig,
}

impl ExtractorStage {
    /// Thresholds and cutout settings come from `finder`, unless the image's options
    /// override them.
    pub fn new(finder: FinderConfig) -> Self {
        Self { finder }
    }

    /// The cutouts and progress event of `tile` (what [`Stage::handle`] publishes).
    pub fn extract(&self, tile: &Tile) -> Result<Vec<Outgoing>, StageError> {
        let bad_tile = |fault: String| {
            StageError::permanent(format!(
                "tile {} of image {}: {fault}",
                tile.tile_index, tile.image_id
            ))
        };
        let rect = |r: Option<v1::PixelRect>, what: &str| {
            r.map(|r| {
                PixelRect::new(
                    r.x0 as usize,
                    r.y0 as usize,
                    r.width as usize,
                    r.height as usize,
                )
            })
            .ok_or_else(|| bad_tile(format!("no {what} rectangle")))
        };
        let core = rect(tile.core, "core")?;
        let read = rect(tile.read, "read")?;
        let image = rect(tile.image, "image")?;
        let pixels = tile
            .pixels
            .as_ref()
            .ok_or_else(|| bad_tile("no pixels".into()))?;
        if (pixels.width as usize, pixels.height as usize) != (read.width, read.height) {
            return Err(bad_tile(format!(
                "pixels are {}x{} but the read window {read:?} is {}x{}",
                pixels.width, pixels.height, read.width, read.height
            )));
        }
        // The finder relies on core ⊆ read window ⊆ image; a message is not trusted to
        // keep it (found by tests/untrusted_messages.rs).
        let within = |inner: &PixelRect, outer: &PixelRect| {
            inner.width > 0 && inner.height > 0 && inner.intersection(outer) == Some(*inner)
        };
        if !within(&core, &read) || !within(&read, &image) {
            return Err(bad_tile(format!(
                "the core {core:?} must lie in the read window {read:?}, and that in the image {image:?}"
            )));
        }
        let values = decode_pixels(pixels).map_err(|e| bad_tile(e.to_string()))?;
        let window = Image::new(read, values).map_err(|e| bad_tile(e.to_string()))?;
        let background =
            decode_background(&tile.background).map_err(|e| bad_tile(e.to_string()))?;
        if background.image_rect() != image {
            return Err(bad_tile(format!(
                "background was measured on {:?}, not on the image {image:?}",
                background.image_rect()
            )));
        }
        let wcs = wcs_from_header(&tile.wcs_header).map_err(|e| bad_tile(e.to_string()))?;
        let beam_deg = tile
            .beam
            .map(|b| Beam {
                major_deg: b.major_deg,
                minor_deg: b.minor_deg,
                pa_deg: b.pa_deg,
            })
            .ok_or_else(|| bad_tile("no beam".into()))?;
        let beam = PixelBeam::new(&beam_deg, wcs.pixel_area_sq_deg().sqrt());
        let config = finder_for(&self.finder, tile.options.as_ref());
        let islands = islands_in_core(
            &window,
            core,
            image,
            &background,
            &config.cuts(&beam),
            beam.area_px(),
        )
        .map_err(|cut| bad_tile(format!("the margin is too small for an island: {cut}")))?;

        let rows = Catalogue::new(&tile.image_id, &islands, &wcs).rows;
        let mut precut = precut_cutouts(tile, config.cutouts.size).map_err(bad_tile)?;
        let source = Window {
            image,
            pixels: window,
        };
        let mut out = Vec::with_capacity(islands.len() + 1);
        for (island, row) in islands.iter().zip(&rows) {
            let (x0, y0, side) = cutout_square(island, &config.cutouts);
            let model = match precut.remove(&island.first_pixel) {
                Some(model) => model,
                None => {
                    make_cutout(&source, island, &config.cutouts)
                        .map_err(|e| bad_tile(format!("cutting out {}: {e}", row.source_id)))?
                        .model
                }
            };
            let message = Cutout {
                schema_version: SCHEMA_VERSION,
                source_id: row.source_id.clone(),
                image_id: tile.image_id.clone(),
                tile_index: tile.tile_index,
                name: row.name.clone(),
                sky: Some(SkyPosition {
                    ra_deg: row.ra,
                    dec_deg: row.dec,
                }),
                pixel: Some(PixelPosition {
                    x: island.x,
                    y: island.y,
                }),
                island: Some(IslandStats {
                    peak_flux_jy_beam: island.peak_flux,
                    total_flux_jy: island.total_flux,
                    pixel_count: island.pixels as u64,
                    major_fwhm_arcsec: row.maj * 3600.0,
                    minor_fwhm_arcsec: row.min * 3600.0,
                    pa_deg: row.pa,
                    snr: island.snr,
                    local_rms_jy_beam: island.rms,
                    local_mean_jy_beam: island.mean,
                    bounding_box: Some(proto_rect(island.bbox)),
                }),
                model_pixels: Some(crate::codec::encode_pixels(
                    config.cutouts.size,
                    config.cutouts.size,
                    &model,
                )),
                raw_rect: Some(v1::PixelRect {
                    x0: x0.max(0) as u64,
                    y0: y0.max(0) as u64,
                    width: side as u64,
                    height: side as u64,
                }),
                normalisation: config.cutouts.stretch.describe(),
            };
            out.push(Outgoing::new(subjects::CUTOUTS, &message));
        }
        let owned =
            u32::try_from(islands.len()).map_err(|_| bad_tile("too many sources".into()))?;
        out.push(Outgoing::new(
            subjects::PROGRESS,
            &progress(
                &tile.image_id,
                v1::Stage::Extracted,
                tile.tile_index,
                tile.tile_count,
                owned,
                String::new(),
            ),
        ));
        Ok(out)
    }
}

/// The model-ready cutouts the tiler cut for islands too large for the tile's window, by
/// the island's first pixel `(y, x)`; each must hold `side` x `side` values.
fn precut_cutouts(tile: &Tile, side: usize) -> Result<HashMap<(usize, usize), Vec<f32>>, String> {
    tile.precut
        .iter()
        .map(|p| {
            let at = (p.first_pixel_y as usize, p.first_pixel_x as usize);
            let pixels = p
                .model_pixels
                .as_ref()
                .ok_or_else(|| format!("the precut cutout at {at:?} has no pixels"))?;
            let values =
                decode_pixels(pixels).map_err(|e| format!("the precut cutout at {at:?}: {e}"))?;
            if values.len() != side * side {
                return Err(format!(
                    "the precut cutout at {at:?} holds {} values, not {side}x{side}",
                    values.len()
                ));
            }
            Ok((at, values))
        })
        .collect()
}

/// The tile's window standing in for the whole image. Every owned island's cutout is
/// either inside it or precut by the tiler; a read beyond the window means a tile that
/// breaks that contract, and fails rather than cut a partly blank square whose score
/// would depend on the tiling.
struct Window {
    image: PixelRect,
    pixels: Image,
}

impl PixelSource for Window {
    fn rect(&self) -> PixelRect {
        self.image
    }

    fn read(&self, rect: PixelRect) -> Result<Image, SourcesError> {
        self.pixels
            .crop(&rect)
            .filter(|part| part.rect() == rect)
            .ok_or_else(|| SourcesError::Read {
                rect,
                reason: format!(
                    "outside the tile's pixels {:?}, and the tiler sent no precut cutout",
                    self.pixels.rect()
                ),
            })
    }
}

impl Stage for ExtractorStage {
    type Input = Tile;

    async fn handle(&self, input: Incoming<Tile>) -> Result<Vec<Outgoing>, StageError> {
        let stage = self.clone();
        let tile = input.message;
        tokio_blocking(move || stage.extract(&tile)).await
    }
}

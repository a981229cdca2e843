//! The tiler: opens a submitted image, measures its background once, and cuts it into
//! tiles (core + margin) small enough for one bus message each.

use crate::codec::{encode_background, encode_pixels, wcs_header};
use crate::progress::finder_for;
use prospector_bus::topology::subjects;
use prospector_bus::{Incoming, Outgoing, Stage, StageError};
use prospector_fits::{FitsImage, OpenOptions};
use prospector_proto::v1::{self, ImageRef, PrecutCutout, Tile, TilePlan};
use prospector_proto::SCHEMA_VERSION;
use prospector_sources::cutout::{cutout_rect, make_cutout};
use prospector_sources::tiling::islands_in_core;
use prospector_sources::{
    plan_tiles, Background, FinderConfig, FitsSource, PixelBeam, PixelSource,
};
use std::path::Path;

/// The most an ordinary tile message may weigh: NATS's default `max_payload` (1 MiB)
/// less room for the headers and the message's other fields. A tile widened around an
/// island larger than its margin may weigh more; the deployed server allows 8 MB, and a
/// server that does not refuses it, which fails the image naming the limit.
pub const MAX_TILE_PAYLOAD: usize = 1024 * 1024 - 16 * 1024;

/// The largest core side whose window (core + `margin` on every side) fits in a tile
/// message beside `fixed_bytes` of other fields, even if zstd cannot compress the
/// pixels at all (incompressible data grows by under 1%), at most `preferred`.
pub fn tile_core_for_payload(preferred: usize, margin: usize, fixed_bytes: usize) -> Option<usize> {
    let budget = MAX_TILE_PAYLOAD.checked_sub(fixed_bytes)?;
    let max_pixels = budget * 99 / 100 / 4;
    let side = (max_pixels as f64).sqrt().floor() as usize;
    let core = side.checked_sub(2 * margin)?.min(preferred);
    // Smaller cores would spend most of each tile on margin.
    (core >= 64).then_some(core)
}

/// `ImageRef` -> `TilePlan`, then one `Tile` per core.
#[derive(Debug, Clone)]
pub struct TilerStage {
    finder: FinderConfig,
}

impl TilerStage {
    /// `finder.tile_core` is the preferred core side; it shrinks when a tile would not
    /// fit in one message. The margin and background settings are the finder's.
    pub fn new(finder: FinderConfig) -> Self {
        Self { finder }
    }

    /// The plan and tiles of `image` (what [`Stage::handle`] publishes).
    pub fn tile(&self, image: &ImageRef) -> Result<Vec<Outgoing>, StageError> {
        let path = Path::new(&image.uri);
        let options = image.options.unwrap_or_default();
        let open = OpenOptions {
            plane: (options.plane > 0).then_some(options.plane as usize),
            beam: options.beam_override.map(|b| prospector_image::Beam {
                major_deg: b.major_deg,
                minor_deg: b.minor_deg,
                pa_deg: b.pa_deg,
            }),
            ..OpenOptions::default()
        };
        let bad_image = |fault: String| {
            StageError::permanent(format!("image {} ({}): {fault}", image.uri, image.image_id))
        };
        let fits = FitsImage::open(path, &open).map_err(|e| bad_image(e.to_string()))?;
        let beam_deg = fits.beam().map_err(|e| bad_image(e.to_string()))?;
        let wcs = fits.wcs().clone();
        let beam = PixelBeam::new(&beam_deg, wcs.pixel_area_sq_deg().sqrt());
        let source = FitsSource::new(fits);
        let background =
            Background::measure(&source, &beam, &self.finder.background, self.finder.threads)
                .map_err(|e| bad_image(format!("measuring the background: {e}")))?;
        let background_bytes = encode_background(&background);
        let header = wcs_header(&wcs);
        let margin = self.finder.margin(&beam);
        let finder = finder_for(&self.finder, Some(&options));
        let core = tile_core_for_payload(
            self.finder.tile_core,
            margin,
            background_bytes.len() + header.len() + 1024 + precut_reserve(finder.cutouts.size),
        )
        .ok_or_else(|| {
            bad_image(format!(
                "a tile with a {margin}-pixel margin and the {}-byte background cannot fit in one {MAX_TILE_PAYLOAD}-byte message",
                background_bytes.len()
            ))
        })?;
        let rect = source.rect();
        let tiles = plan_tiles(rect, core, margin);
        let tile_count =
            u32::try_from(tiles.len()).map_err(|_| bad_image("too many tiles".into()))?;

        let mut out = Vec::with_capacity(tiles.len() + 1);
        out.push(Outgoing::new(
            subjects::PLANS,
            &TilePlan {
                schema_version: SCHEMA_VERSION,
                image_id: image.image_id.clone(),
                tile_count,
                image: Some(proto_rect(rect)),
                core_size: core as u32,
                margin: margin as u32,
            },
        ));
        let cuts = finder.cuts(&beam);
        for (index, tile) in tiles.iter().enumerate() {
            // Widen the window until no island the core owns is cut by its edge, so the
            // extractor measures every island whole, whatever the tiling (an island
            // larger than the margin can push such a tile past the payload budget).
            let mut window = tile.window;
            let (pixels, islands) = loop {
                let pixels = source
                    .read(window)
                    .map_err(|e| bad_image(format!("reading {window:?}: {e}")))?;
                match islands_in_core(&pixels, tile.core, rect, &background, &cuts, beam.area_px())
                {
                    Ok(islands) => break (pixels, islands),
                    Err(cut) => window = cut.needed,
                }
            };
            // A large island's cutout square reaches past the window: cut it here, from
            // the whole image, rather than widen the tile past what a message may carry.
            let precut = islands
                .iter()
                .filter(|island| {
                    let square = cutout_rect(island, &finder.cutouts, &rect);
                    square.intersection(&window) != Some(square)
                })
                .map(|island| {
                    let cutout = make_cutout(&source, island, &finder.cutouts).map_err(|e| {
                        bad_image(format!("cutting out the island at {:?}: {e}", island.bbox))
                    })?;
                    let size = finder.cutouts.size;
                    Ok(PrecutCutout {
                        first_pixel_y: island.first_pixel.0 as u64,
                        first_pixel_x: island.first_pixel.1 as u64,
                        model_pixels: Some(encode_pixels(size, size, &cutout.model)),
                    })
                })
                .collect::<Result<Vec<_>, StageError>>()?;
            let message = Tile {
                schema_version: SCHEMA_VERSION,
                image_id: image.image_id.clone(),
                tile_index: index as u32,
                tile_count,
                core: Some(proto_rect(tile.core)),
                read: Some(proto_rect(window)),
                image: Some(proto_rect(rect)),
                pixels: Some(encode_pixels(window.width, window.height, pixels.pixels())),
                wcs_header: header.clone(),
                beam: Some(v1::Beam {
                    major_deg: beam_deg.major_deg,
                    minor_deg: beam_deg.minor_deg,
                    pa_deg: beam_deg.pa_deg,
                }),
                options: Some(options),
                background: background_bytes.clone(),
                precut,
            };
            out.push(Outgoing::new(subjects::TILES, &message));
        }
        Ok(out)
    }
}

/// Room kept in each tile for the precut cutouts of islands whose square reaches past its
/// window: eight at the model's side (incompressible), more than any tile of the surveys
/// and simulations tried here needed. A tile that needs more fails its image by name
/// (the message is refused as too large) rather than publish a tiling-dependent cutout.
fn precut_reserve(side: usize) -> usize {
    8 * (side * side * 4 + 64)
}

pub(crate) fn proto_rect(rect: prospector_image::PixelRect) -> v1::PixelRect {
    v1::PixelRect {
        x0: rect.x0 as u64,
        y0: rect.y0 as u64,
        width: rect.width as u64,
        height: rect.height as u64,
    }
}

impl Stage for TilerStage {
    type Input = ImageRef;

    async fn handle(&self, input: Incoming<ImageRef>) -> Result<Vec<Outgoing>, StageError> {
        // Reading and measuring a whole image is blocking work: keep it off the
        // async worker threads.
        let stage = self.clone();
        let image = input.message;
        tokio_blocking(move || stage.tile(&image)).await
    }
}

/// Runs CPU- or disk-bound stage work on the blocking pool.
pub(crate) async fn tokio_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StageError> + Send + 'static,
) -> Result<T, StageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StageError::transient(format!("stage worker stopped: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_tile_of_incompressible_pixels_fits_the_budget() {
        let core = tile_core_for_payload(4096, 40, 50_000).unwrap();
        let side = core + 80;
        assert!(side * side * 4 * 101 / 100 + 50_000 <= MAX_TILE_PAYLOAD);
        assert_eq!(tile_core_for_payload(256, 40, 0), Some(256));
        assert_eq!(tile_core_for_payload(4096, 300, 0), None);
    }
}

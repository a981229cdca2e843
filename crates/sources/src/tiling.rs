//! Tiles: the image cut into cores that partition it, each read with a margin
//! so that islands crossing a core's edge are seen whole.
//!
//! A source belongs to the one tile whose core holds its centroid. An island
//! that reaches the outer edge of a tile's window, where the image goes on, may
//! be incomplete; when it also overlaps the core (so its centroid could lie
//! there) the tile refuses with [`TruncatedIsland`], naming the window that
//! would hold it, rather than measuring a truncated island. Together with a
//! background computed once for the full image, this makes the catalogue of any
//! tiling equal to the catalogue of one whole-image pass.

use crate::background::Background;
use crate::islands::{components, measure, Island, IslandCuts};
use prospector_image::{Image, PixelRect};
use serde::{Deserialize, Serialize};

/// One tile: the core it owns sources in and the window read around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tile {
    pub core: PixelRect,
    /// The core grown by the margin, clipped to the image.
    pub window: PixelRect,
}

/// Cores of at most `core_size` x `core_size` pixels covering `image` row by
/// row, each with a window `margin` pixels wider on every side (within the image).
pub fn plan_tiles(image: PixelRect, core_size: usize, margin: usize) -> Vec<Tile> {
    let core_size = core_size.max(1);
    let mut tiles = Vec::new();
    let mut y = image.y0;
    while y < image.y1() {
        let h = core_size.min(image.y1() - y);
        let mut x = image.x0;
        while x < image.x1() {
            let w = core_size.min(image.x1() - x);
            let core = PixelRect::new(x, y, w, h);
            tiles.push(Tile {
                core,
                window: core.expanded_within(margin, &image),
            });
            x += w;
        }
        y += h;
    }
    tiles
}

/// A tile's window cut through an island that may belong to its core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "island with bounding box {island:?} reaches the edge of tile window {window:?}; \
     read at least {needed:?} to complete it"
)]
pub struct TruncatedIsland {
    pub window: PixelRect,
    /// The part of the island inside the window.
    pub island: PixelRect,
    /// A window holding the whole window and the island's part grown by the
    /// same margin; reading it may reveal more of the island, so callers
    /// retry until the tile succeeds.
    pub needed: PixelRect,
}

/// The islands whose centroid lies in `core`, found in `pixels` (the tile's
/// window, or more) of an image spanning `image`.
pub fn islands_in_core(
    pixels: &Image,
    core: PixelRect,
    image: PixelRect,
    background: &Background,
    cuts: &IslandCuts,
    beam_area_px: f64,
) -> Result<Vec<Island>, TruncatedIsland> {
    let window = pixels.rect();
    let mut out = Vec::new();
    for component in components(pixels, background, cuts.thresh_isl) {
        let bbox = PixelRect::new(
            component.x0,
            component.y0,
            component.x1 - component.x0,
            component.y1 - component.y0,
        );
        let cut_open = (bbox.x0 == window.x0 && window.x0 > image.x0)
            || (bbox.y0 == window.y0 && window.y0 > image.y0)
            || (bbox.x1() == window.x1() && window.x1() < image.x1())
            || (bbox.y1() == window.y1() && window.y1() < image.y1());
        if cut_open {
            if bbox.intersection(&core).is_some() {
                let margin = [
                    core.x0 - window.x0,
                    core.y0 - window.y0,
                    window.x1() - core.x1(),
                    window.y1() - core.y1(),
                ]
                .into_iter()
                .max()
                .unwrap_or(0)
                .max(1);
                let grown = bbox.expanded_within(margin, &image);
                return Err(TruncatedIsland {
                    window,
                    island: bbox,
                    needed: union(&window, &grown),
                });
            }
            // Its centroid cannot be in the core: a neighbouring tile owns it.
            continue;
        }
        if let Some(island) = measure(component, pixels, background, cuts, beam_area_px) {
            if core.contains(island.x, island.y) {
                out.push(island);
            }
        }
    }
    out.sort_by_key(|i| i.first_pixel);
    Ok(out)
}

fn union(a: &PixelRect, b: &PixelRect) -> PixelRect {
    let x0 = a.x0.min(b.x0);
    let y0 = a.y0.min(b.y0);
    PixelRect::new(x0, y0, a.x1().max(b.x1()) - x0, a.y1().max(b.y1()) - y0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_partition_the_image_and_windows_stay_inside_it() {
        let image = PixelRect::new(0, 0, 250, 130);
        let tiles = plan_tiles(image, 100, 16);
        assert_eq!(tiles.len(), 6);
        let covered: usize = tiles.iter().map(|t| t.core.area()).sum();
        assert_eq!(covered, image.area());
        for (i, a) in tiles.iter().enumerate() {
            assert_eq!(a.window.intersection(&image), Some(a.window));
            for b in &tiles[i + 1..] {
                assert!(a.core.intersection(&b.core).is_none());
            }
        }
        assert_eq!(tiles[4].window, PixelRect::new(84, 84, 132, 46));
    }
}

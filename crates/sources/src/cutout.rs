//! Cutouts for the model: a square around each island, resampled to the
//! model's input size and normalised, plus the raw pixels for FITS.
//!
//! # Size and centre
//! The square is centred on the island centroid (rounded to the nearest pixel)
//! and its side is `scale x` the island's largest bounding-box side, so the
//! island fills about `1 / scale` of it (2/3 by default), clamped to
//! `min_side..=max_side` image pixels.
//!
//! # Resampling
//! Area-weighted (each output pixel the overlap-weighted mean of the image
//! pixels under it) when the square is at least the output size, which keeps
//! the flux of compact sources; bilinear when it is smaller (upsampling).
//! Blank pixels and pixels beyond the image edge carry no weight; an output
//! pixel with nothing under it is blank until normalised.
//!
//! # Normalisation (recorded with the cutout set)
//! - [`Stretch::MinMax`] (baseline, as the study): `(v - min) / (max - min)`
//!   over the cutout, blanks to 0;
//! - [`Stretch::Asinh`]: `asinh(max(v - mean, 0) / (k x rms))` with the
//!   island's background mean and rms, then min-max; it compresses the
//!   dynamic range of bright sources while keeping faint emission visible.

use crate::islands::Island;
use crate::source::PixelSource;
use crate::SourcesError;
use prospector_cutouts::{CutoutRecord, Label};
use prospector_image::{Image, PixelRect};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Stretch {
    MinMax,
    /// Softening in units of the local rms.
    Asinh {
        softening_rms: f64,
    },
}

impl Stretch {
    /// The description stored in the cutout set.
    pub fn describe(&self) -> String {
        match self {
            Stretch::MinMax => "min-max to [0,1], blanks 0".to_string(),
            Stretch::Asinh { softening_rms } => {
                format!("asinh(max(x-mean,0)/({softening_rms}*rms)), min-max to [0,1], blanks 0")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutoutConfig {
    /// Output side in pixels (the model's input).
    pub size: usize,
    /// Cutout side over the island's largest extent.
    pub scale: f64,
    pub min_side: usize,
    pub max_side: usize,
    pub stretch: Stretch,
}

impl Default for CutoutConfig {
    fn default() -> Self {
        Self {
            size: 64,
            scale: 1.5,
            min_side: 16,
            max_side: 1024,
            stretch: Stretch::MinMax,
        }
    }
}

/// One island's cutout.
#[derive(Debug, Clone, PartialEq)]
pub struct Cutout {
    /// The square cut from the image, clipped to the image edge.
    pub raw: Image,
    /// Side of the square before clipping, in image pixels.
    pub side: usize,
    /// `size * size` normalised pixels, row-major.
    pub model: Vec<f32>,
}

/// The square (in full-image coordinates, possibly reaching beyond the image)
/// cut around `island`: top-left corner and side.
pub fn cutout_square(island: &Island, config: &CutoutConfig) -> (i64, i64, usize) {
    let extent = island.bbox.width.max(island.bbox.height) as f64;
    let side = ((extent * config.scale).ceil() as usize)
        .clamp(config.min_side, config.max_side.max(config.min_side));
    let half = side as i64 / 2;
    (
        island.x.round() as i64 - half,
        island.y.round() as i64 - half,
        side,
    )
}

/// The pixels [`make_cutout`] reads for `island`: its square clipped to `image`. A tile
/// must hold all of them for the cutout to equal the whole-image pass's.
pub fn cutout_rect(island: &Island, config: &CutoutConfig, image: &PixelRect) -> PixelRect {
    let (x0, y0, side) = cutout_square(island, config);
    let clip = |lo: i64, min: usize, max: usize| {
        let a = lo.clamp(min as i64, max as i64) as usize;
        let b = (lo + side as i64).clamp(min as i64, max as i64) as usize;
        (a, b)
    };
    let (ax, bx) = clip(x0, image.x0, image.x1());
    let (ay, by) = clip(y0, image.y0, image.y1());
    PixelRect::new(ax, ay, bx - ax, by - ay)
}

/// An unlabelled cutout-set row with `island`'s measurements and the side of the square
/// cut around it; the caller fills in the identity (ids, name, sky position) with
/// struct-update syntax.
pub fn island_record(island: &Island, cutout_side: usize) -> CutoutRecord {
    CutoutRecord {
        source_id: String::new(),
        image_id: String::new(),
        name: String::new(),
        ra_deg: f64::NAN,
        dec_deg: f64::NAN,
        x: island.x,
        y: island.y,
        peak_flux: island.peak_flux,
        total_flux: island.total_flux,
        island_pixels: island.pixels as u64,
        cutout_side_px: cutout_side as u32,
        label: Label::Unlabelled,
    }
}

/// Cuts, resamples and normalises the cutout of `island` from `source`.
pub fn make_cutout(
    source: &dyn PixelSource,
    island: &Island,
    config: &CutoutConfig,
) -> Result<Cutout, SourcesError> {
    let (x0, y0, side) = cutout_square(island, config);
    let raw = source.read(cutout_rect(island, config, &source.rect()))?;
    let square = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 {
            return f32::NAN;
        }
        raw.get(x as usize, y as usize).unwrap_or(f32::NAN)
    };
    let mut model = resample(side, config.size, |i, j| {
        square(x0 + i as i64, y0 + j as i64)
    });
    normalise(&mut model, island, config.stretch);
    Ok(Cutout { raw, side, model })
}

/// `out x out` pixels resampled from a `side x side` square read by `at(i, j)`.
fn resample(side: usize, out: usize, at: impl Fn(usize, usize) -> f32) -> Vec<f32> {
    let scale = side as f64 / out as f64;
    let mut result = vec![f32::NAN; out * out];
    for oj in 0..out {
        for oi in 0..out {
            result[oj * out + oi] = if side >= out {
                area_mean(&at, oi as f64 * scale, oj as f64 * scale, scale, side)
            } else {
                bilinear(
                    &at,
                    (oi as f64 + 0.5) * scale - 0.5,
                    (oj as f64 + 0.5) * scale - 0.5,
                    side,
                )
            };
        }
    }
    result
}

fn area_mean(at: &impl Fn(usize, usize) -> f32, x: f64, y: f64, size: f64, side: usize) -> f32 {
    let (mut sum, mut weight) = (0f64, 0f64);
    let (i0, i1) = (x.floor() as usize, ((x + size).ceil() as usize).min(side));
    let (j0, j1) = (y.floor() as usize, ((y + size).ceil() as usize).min(side));
    for j in j0..j1 {
        let wy = (y + size).min(j as f64 + 1.0) - y.max(j as f64);
        for i in i0..i1 {
            let wx = (x + size).min(i as f64 + 1.0) - x.max(i as f64);
            let v = at(i, j);
            if v.is_finite() && wx > 0.0 && wy > 0.0 {
                sum += v as f64 * wx * wy;
                weight += wx * wy;
            }
        }
    }
    if weight > 0.0 {
        (sum / weight) as f32
    } else {
        f32::NAN
    }
}

fn bilinear(at: &impl Fn(usize, usize) -> f32, x: f64, y: f64, side: usize) -> f32 {
    let last = side.saturating_sub(1) as f64;
    let (x, y) = (x.clamp(0.0, last), y.clamp(0.0, last));
    let (i, j) = (x.floor() as usize, y.floor() as usize);
    let (i1, j1) = ((i + 1).min(side - 1), (j + 1).min(side - 1));
    let (fx, fy) = (x - i as f64, y - j as f64);
    let corners = [
        (at(i, j), (1.0 - fx) * (1.0 - fy)),
        (at(i1, j), fx * (1.0 - fy)),
        (at(i, j1), (1.0 - fx) * fy),
        (at(i1, j1), fx * fy),
    ];
    let (mut sum, mut weight) = (0f64, 0f64);
    for (v, w) in corners {
        if v.is_finite() && w > 0.0 {
            sum += v as f64 * w;
            weight += w;
        }
    }
    if weight > 0.0 {
        (sum / weight) as f32
    } else {
        f32::NAN
    }
}

fn normalise(pixels: &mut [f32], island: &Island, stretch: Stretch) {
    if let Stretch::Asinh { softening_rms } = stretch {
        let soft = softening_rms * island.rms;
        for v in pixels.iter_mut().filter(|v| v.is_finite()) {
            *v = ((*v as f64 - island.mean).max(0.0) / soft).asinh() as f32;
        }
    }
    let (lo, hi) = pixels
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let range = hi - lo;
    for v in pixels.iter_mut() {
        *v = if v.is_finite() && range > 0.0 {
            (*v - lo) / range
        } else {
            0.0
        };
    }
}

/// A source id that depends only on the image and the island: SHA-256 of the
/// image id, the centroid rounded to 1/100 pixel and the pixel count, first 16
/// hex digits. A redelivered tile gives the same ids.
pub fn source_id(image_id: &str, island: &Island) -> String {
    let mut hash = Sha256::new();
    hash.update(image_id.as_bytes());
    hash.update(b"\0");
    hash.update((island.x * 100.0).round().to_string().as_bytes());
    hash.update(b",");
    hash.update((island.y * 100.0).round().to_string().as_bytes());
    hash.update(b",");
    hash.update(island.pixels.to_string().as_bytes());
    hex::encode(&hash.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn island_at(x: f64, y: f64, extent: usize) -> Island {
        Island {
            bbox: PixelRect::new(0, 0, extent, extent / 2),
            ..Island::example(x, y)
        }
    }

    #[test]
    fn the_island_fills_two_thirds_of_a_clamped_square() {
        let config = CutoutConfig::default();
        assert_eq!(
            cutout_square(&island_at(50.2, 60.7, 40), &config),
            (20, 31, 60)
        );
        assert_eq!(cutout_square(&island_at(50.0, 50.0, 2), &config).2, 16);
        assert_eq!(
            cutout_square(&island_at(5000.0, 5000.0, 4000), &config).2,
            1024
        );
    }

    #[test]
    fn area_weighted_downsampling_keeps_the_mean_and_edges_are_blank_not_zero() {
        let mut data = vec![0f32; 128 * 128];
        for (i, v) in data.iter_mut().enumerate() {
            *v = ((i % 128) / 2) as f32;
        }
        let image = Image::from_vec(128, 128, data).unwrap();
        let config = CutoutConfig {
            size: 32,
            min_side: 64,
            ..CutoutConfig::default()
        };
        // Centred at the corner: three quarters of the square lie outside.
        let cut = make_cutout(&image, &island_at(0.0, 0.0, 10), &config).unwrap();
        assert_eq!(cut.raw.rect(), PixelRect::new(0, 0, 32, 32));
        assert_eq!(cut.side, 64);
        assert_eq!(cut.model.len(), 32 * 32);
        // Outside the image is blank, normalised to 0; inside rises left to right.
        assert_eq!(cut.model[0], 0.0);
        let row = &cut.model[20 * 32..21 * 32];
        assert!(row[16] < row[31] && (row[31] - 1.0).abs() < 1e-6, "{row:?}");
    }

    #[test]
    fn ids_are_stable_and_distinguish_images_and_islands() {
        let a = island_at(10.004, 20.0, 5);
        let b = island_at(10.02, 20.0, 5);
        assert_eq!(source_id("img", &a), source_id("img", &a.clone()));
        assert_ne!(source_id("img", &a), source_id("img", &b));
        assert_ne!(source_id("img", &a), source_id("other", &a));
        assert_eq!(source_id("img", &a).len(), 16);
    }
}

//! PyBDSF's `adaptive_rms_box`: a smaller box near the brightest compact
//! sources, whose artefacts a large box would average away.
//!
//! Following `rmsimage.py`:
//! 1. bright islands: islands above `t` clipped sigma for `t = 500, 400, 320,
//!    ...` until at least 5 are found or `t` would drop below 50;
//! 2. of the islands above 10 sigma, those whose peak is a bright island's peak
//!    and that are compact (`2 x pixels / beam area < 25`, or under 8 times the
//!    bright island's) mark bright sources; without any, the box is not adapted;
//! 3. the small box is `max(brightsize, 9 x beam sigma, 2 x largest bright
//!    island extent)` (one more when a multiple of 10), step a third of it (at
//!    most a tenth of the image), where `brightsize` is the diameter at which
//!    the brightest pixel's beam falls to 3 sigma;
//! 4. maps are made on both grids; the large-box grid is interpolated onto the
//!    small one, and within 15 x 15 small-grid nodes of each bright source the
//!    small-box values are blended in, weight 1 near the source tapering
//!    linearly beyond the nearest node where the small-box rms is under twice
//!    the large-box rms;
//! 5. the blended small grid is interpolated to every pixel, and the rms map
//!    is always used.
//!
//! One deviation: PyBDSF keeps the bright islands' areas from every round of
//! step 1 in one list but indexes it by the last round's island order; we use
//! the last round's areas, as the comparison intends.

use super::{cell, Axis, BoxSize, Grid};
use crate::islands::{PixelBeam, FWHM_PER_SIGMA};
use crate::labeller::{runs_where, RowLabeller};
use crate::source::{for_each_band, PixelSource};
use crate::stats::ClippedStats;
use crate::SourcesError;
use std::collections::HashMap;

const START_SIGMA: f64 = 500.0;
const LOWEST_SIGMA: f64 = 50.0;
const SIGMA_STEP: f64 = 0.8;
const WANTED_BRIGHT: usize = 5;
/// Side, in small-grid nodes, of the region blended around a bright source.
const BLEND_NODES: usize = 15;

/// An island above some threshold: extent, size and brightest pixel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Blob {
    pub extent: usize,
    pub pixels: usize,
    pub peak: f32,
    pub peak_at: (usize, usize),
}

/// Every island of `source` above `sigma` clipped sigma.
pub(crate) fn blobs_above(
    source: &dyn PixelSource,
    clipped: &ClippedStats,
    sigma: f64,
) -> Result<Vec<Blob>, SourcesError> {
    let mut labeller = RowLabeller::new(true);
    let mut run_peaks: HashMap<(usize, usize), (f32, usize)> = HashMap::new();
    let mut blobs = Vec::new();
    let mut close = |components: Vec<crate::labeller::Component>,
                     run_peaks: &mut HashMap<(usize, usize), (f32, usize)>| {
        for c in components {
            let mut peak = (f32::NEG_INFINITY, (0, 0));
            for r in &c.runs {
                if let Some((v, x)) = run_peaks.remove(&(r.y, r.x0)) {
                    if v > peak.0 {
                        peak = (v, (x, r.y));
                    }
                }
            }
            blobs.push(Blob {
                extent: c.extent(),
                pixels: c.pixels,
                peak: peak.0,
                peak_at: peak.1,
            });
        }
    };
    for_each_band(source, super::BAND_ROWS, |band| {
        let rect = band.rect();
        for row in 0..rect.height {
            let values = band.row(row);
            let set = values
                .iter()
                .map(|&v| (v as f64 - clipped.mean) / sigma >= clipped.rms);
            let runs = runs_where(set, rect.x0);
            let y = rect.y0 + row;
            for &(x0, x1) in &runs {
                let (mut best, mut at) = (f32::NEG_INFINITY, x0);
                for x in x0..x1 {
                    if values[x - rect.x0] > best {
                        (best, at) = (values[x - rect.x0], x);
                    }
                }
                run_peaks.insert((y, x0), (best, at));
            }
            let closed = labeller.push_row(y, &runs);
            close(closed, &mut run_peaks);
        }
    })?;
    close(labeller.finish(), &mut run_peaks);
    Ok(blobs)
}

/// Where the bright sources are (their brightest pixels) and the small box
/// used around them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BrightPlan {
    pub positions: Vec<(usize, usize)>,
    pub small_box: BoxSize,
}

/// The bright-source plan, or `None` when the image has no bright compact source.
pub(crate) fn plan(
    source: &dyn PixelSource,
    clipped: &ClippedStats,
    beam: &PixelBeam,
    ten_sigma: &[Blob],
    max_value: f32,
) -> Result<Option<BrightPlan>, SourcesError> {
    let mut threshold = START_SIGMA;
    let mut bright = Vec::new();
    while bright.len() < WANTED_BRIGHT && threshold >= LOWEST_SIGMA {
        bright = blobs_above(source, clipped, threshold)?;
        threshold *= SIGMA_STEP;
    }
    let area = |pixels: usize| pixels as f64 / beam.area_px() * 2.0;
    let mut positions = Vec::new();
    let mut largest_bright = 0;
    for blob in ten_sigma {
        let Some(b) = bright.iter().find(|b| b.peak_at == blob.peak_at) else {
            continue;
        };
        let low = area(blob.pixels);
        if low < 25.0 || low / area(b.pixels) < 8.0 {
            positions.push(blob.peak_at);
            largest_bright = largest_bright.max(b.extent);
        }
    }
    if positions.is_empty() {
        return Ok(None);
    }
    let image = source.rect();
    let ratio = max_value as f64 / (3.0 * clipped.rms);
    let beam_sigma_diameter = 2.0 * beam.major_px / FWHM_PER_SIGMA;
    let brightsize = if ratio > 1.0 {
        (beam_sigma_diameter * (2.0 * ratio.ln()).sqrt()).round()
    } else {
        beam_sigma_diameter.round()
    } as usize;
    let min_size = (beam.major_sigma_px() * 9.0) as usize;
    let mut size = brightsize.max(min_size).max(largest_bright * 2);
    if size.is_multiple_of(10) {
        size += 1;
    }
    let smaller = image.width.min(image.height) as f64;
    let step = super::round_half_even((size as f64 / 3.0).min(smaller / 10.0)) as usize;
    Ok(Some(BrightPlan {
        positions,
        small_box: BoxSize {
            size,
            step: step.max(1),
        },
    }))
}

/// The small-box grid with the large-box values outside the bright sources'
/// neighbourhoods and a blend of both within them.
pub(crate) fn blend(
    small: &Grid,
    large: &Grid,
    large_axes: (&Axis, &Axis),
    bright: &[(usize, usize)],
    width: usize,
    height: usize,
) -> Grid {
    // PyBDSF places small-grid node i at image position i x size / nodes when
    // sampling the large grid there.
    let remap = |axis: &Axis, n_image: usize, n_small: usize| {
        let scaled: Vec<f64> = axis
            .coords
            .iter()
            .map(|c| c / n_image as f64 * n_small as f64)
            .collect();
        super::remap(&scaled, n_small)
    };
    let gx = remap(large_axes.0, width, small.nx);
    let gy = remap(large_axes.1, height, small.ny);
    let sample = |values: &[f32], i: usize, j: usize| {
        let (ix, fx) = cell(gx[i], large.nx);
        let (iy, fy) = cell(gy[j], large.ny);
        large.bilinear(values, ix, fx, iy, fy) as f32
    };
    let (nx, ny) = (small.nx, small.ny);
    let mut large_rms = vec![0f32; nx * ny];
    let mut large_mean = vec![0f32; nx * ny];
    for i in 0..nx {
        for j in 0..ny {
            large_rms[i * ny + j] = sample(&large.rms, i, j);
            large_mean[i * ny + j] = sample(&large.mean, i, j);
        }
    }
    let mut rms = large_rms.clone();
    let mut mean = large_mean.clone();
    let (scale_x, scale_y) = (width as f64 / nx as f64, height as f64 / ny as f64);
    let half = BLEND_NODES / 2;
    for &(x, y) in bright {
        let (ci, cj) = ((x as f64 / scale_x) as usize, (y as f64 / scale_y) as usize);
        let (i0, i1) = (ci.saturating_sub(half), (ci + half + 1).min(nx));
        let (j0, j1) = (cj.saturating_sub(half), (cj + half + 1).min(ny));
        let dist = |i: usize, j: usize| (i as f64 - ci as f64).hypot(j as f64 - cj as f64);
        let nearest_low = (i0..i1)
            .flat_map(|i| (j0..j1).map(move |j| (i, j)))
            .filter(|&(i, j)| small.rms[i * ny + j] / large_rms[i * ny + j] < 2.0)
            .map(|(i, j)| dist(i, j))
            .fold(f64::INFINITY, f64::min);
        let diagonal = ((i1 - i0) as f64).hypot((j1 - j0) as f64);
        for i in i0..i1 {
            for j in j0..j1 {
                let d = dist(i, j);
                let w = if d >= nearest_low {
                    1.0 - d / diagonal * 2.0
                } else {
                    1.0
                } as f32;
                let k = i * ny + j;
                rms[k] = small.rms[k] * w + large_rms[k] * (1.0 - w);
                mean[k] = small.mean[k] * w + large_mean[k] * (1.0 - w);
            }
        }
    }
    Grid {
        nx,
        ny,
        mean,
        rms,
        gx: small.gx.clone(),
        gy: small.gy.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::{detect, BackgroundConfig, FinderConfig, PixelBeam};
    use prospector_image::Image;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    /// Unit noise with a 5000-sigma point source at (300, 300) ringed by
    /// sidelobe-like artefacts (noise of 8 sigma from 5 to 18 pixels), and
    /// a few ordinary sources elsewhere.
    fn bright_source_with_artefacts() -> Image {
        let n = 600;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let noise = Normal::new(0.0, 1.0).unwrap();
        let mut data = vec![0f32; n * n];
        for (i, v) in data.iter_mut().enumerate() {
            let (x, y) = ((i % n) as f64, (i / n) as f64);
            let r = (x - 300.0).hypot(y - 300.0);
            let sidelobes = if (5.0..18.0).contains(&r) { 8.0 } else { 1.0 };
            let mut value = noise.sample(&mut rng) * sidelobes;
            value += 5000.0 * (-(r * r) / (2.0 * 1.7 * 1.7)).exp();
            for (sx, sy) in [(100.0, 100.0), (500.0, 120.0), (120.0, 480.0)] {
                let d2 = (x - sx).powi(2) + (y - sy).powi(2);
                value += 40.0 * (-d2 / (2.0 * 1.7 * 1.7)).exp();
            }
            *v = value as f32;
        }
        Image::from_vec(n, n, data).unwrap()
    }

    const BEAM: PixelBeam = PixelBeam {
        major_px: 4.0,
        minor_px: 4.0,
        pa_deg: 0.0,
    };

    fn config(adaptive: bool) -> FinderConfig {
        FinderConfig {
            background: BackgroundConfig {
                adaptive_rms_box: adaptive,
                ..BackgroundConfig::default()
            },
            ..FinderConfig::default()
        }
    }

    #[test]
    fn a_small_box_near_a_bright_source_suppresses_its_artefacts() {
        let sky = bright_source_with_artefacts();
        let plain = detect(&sky, &BEAM, &config(false)).unwrap();
        let adapted = detect(&sky, &BEAM, &config(true)).unwrap();
        let (small, bright) = adapted.background.adaptive_box().unwrap();
        assert!(bright >= 1);
        assert!(small.size < adapted.background.rms_box().size, "{small:?}");
        let near = |d: &crate::Detection| d.background.at(300, 312).1;
        // The sidelobes are 8 sigma: the adapted map sees them, the plain one
        // (a constant here: its large boxes dilute them) does not.
        assert!(
            near(&adapted) > 3.0 * near(&plain),
            "{} vs {}",
            near(&adapted),
            near(&plain)
        );
        // Far from the bright source the two agree.
        let far = |d: &crate::Detection| d.background.at(60, 560).1;
        assert!((far(&adapted) / far(&plain) - 1.0).abs() < 0.25);
        let in_ring = |d: &crate::Detection| {
            d.islands
                .iter()
                .filter(|i| {
                    (i.x - 300.0).hypot(i.y - 300.0) > 8.0
                        && (i.x - 300.0).hypot(i.y - 300.0) < 20.0
                })
                .count()
        };
        assert!(in_ring(&plain) >= 3, "{}", in_ring(&plain));
        assert_eq!(in_ring(&adapted), 0);
        // The ordinary sources are still found.
        for (sx, sy) in [(100.0, 100.0), (500.0, 120.0), (120.0, 480.0)] {
            assert!(adapted
                .islands
                .iter()
                .any(|i| (i.x - sx).hypot(i.y - sy) < 2.0));
        }
    }

    #[test]
    fn the_adapted_map_does_not_depend_on_tiling() {
        let sky = bright_source_with_artefacts();
        let whole = detect(
            &sky,
            &BEAM,
            &FinderConfig {
                tile_core: 600,
                ..config(true)
            },
        )
        .unwrap();
        let tiled = detect(
            &sky,
            &BEAM,
            &FinderConfig {
                tile_core: 128,
                tile_margin: Some(6),
                threads: 2,
                ..config(true)
            },
        )
        .unwrap();
        assert_eq!(whole, tiled);
    }
}

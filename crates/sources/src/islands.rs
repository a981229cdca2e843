//! Islands of emission and what is measured on each, as PyBDSF defines them
//! (`islands.py`): 8-connected pixels with `(value - mean) / thresh_isl >= rms`,
//! kept when they hold at least `min_pixels` pixels and their peak satisfies
//! `(peak - mean) / thresh_pix > rms` at the peak pixel. Blank (NaN) pixels are
//! never part of an island.

use crate::background::Background;
use crate::labeller::{runs_where, Component, RowLabeller, Run};
use prospector_image::{Image, PixelRect};
use serde::{Deserialize, Serialize};

/// FWHM of a Gaussian in units of its sigma, `2 sqrt(2 ln 2)`.
pub const FWHM_PER_SIGMA: f64 = 2.354_820_045_030_949;
/// The factor PyBDSF multiplies `bmaj_px * bmin_px` by for the beam area in
/// pixels (`pi / (4 ln 2)` rounded as PyBDSF rounds it), used so that our
/// minimum island size and fluxes match its catalogues.
pub const PYBDSF_BEAM_AREA_FACTOR: f64 = 1.1331;

/// The restoring beam in pixels: FWHM of the axes and the position angle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PixelBeam {
    pub major_px: f64,
    pub minor_px: f64,
    pub pa_deg: f64,
}

impl PixelBeam {
    /// The beam of `beam` on square pixels of `pixel_scale_deg` degrees a side.
    pub fn new(beam: &prospector_image::Beam, pixel_scale_deg: f64) -> Self {
        Self {
            major_px: beam.major_deg / pixel_scale_deg,
            minor_px: beam.minor_deg / pixel_scale_deg,
            pa_deg: beam.pa_deg,
        }
    }

    /// Beam solid angle in pixels, as PyBDSF's `pixel_beamarea`.
    pub fn area_px(&self) -> f64 {
        PYBDSF_BEAM_AREA_FACTOR * self.major_px * self.minor_px
    }

    /// The major axis' Gaussian sigma in pixels.
    pub fn major_sigma_px(&self) -> f64 {
        self.major_px / FWHM_PER_SIGMA
    }

    /// PyBDSF's default `minpix_isl`: a third of the beam area, at least 6.
    pub fn default_min_island_pixels(&self) -> usize {
        ((self.area_px() / 3.0) as usize).max(6)
    }
}

/// The cuts that make an island.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IslandCuts {
    /// Island pixels lie at least this many rms above the mean (PyBDSF `thresh_isl`).
    pub thresh_isl: f64,
    /// An island's peak lies more than this many rms above the mean (`thresh_pix`).
    pub thresh_pix: f64,
    /// Fewest pixels in an island (`minpix_isl`).
    pub min_pixels: usize,
}

/// One island and its measurements. Positions are 0-based full-image pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Island {
    /// The island's first pixel in raster order (row, then column): islands
    /// are listed in this order, which no tiling changes.
    pub first_pixel: (usize, usize),
    pub pixels: usize,
    pub bbox: PixelRect,
    /// Centroid weighted by `value - mean`.
    pub x: f64,
    pub y: f64,
    /// Brightest pixel (Jy/beam) and where it is.
    pub peak_flux: f64,
    pub peak_x: usize,
    pub peak_y: usize,
    /// Sum of the island's pixels divided by the beam area in pixels (Jy).
    pub total_flux: f64,
    /// Mean of the background rms and mean maps over the island (Jy/beam).
    pub rms: f64,
    pub mean: f64,
    /// `(peak - mean) / rms` at the peak pixel.
    pub snr: f64,
    /// FWHM of the major and minor axes from the weighted second moments (pixels)
    /// and the major axis' angle from +y (north) towards -x (east), 0..180 deg.
    pub major_px: f64,
    pub minor_px: f64,
    pub pa_deg: f64,
    /// The island's pixels, row by row.
    #[serde(skip)]
    pub runs: Vec<Run>,
}

#[cfg(test)]
impl Island {
    /// A compact island centred on `(x, y)`, for tests of what is built on islands.
    pub(crate) fn example(x: f64, y: f64) -> Island {
        Island {
            first_pixel: ((y as usize).saturating_sub(2), x as usize),
            pixels: 30,
            bbox: PixelRect::new(
                (x as usize).saturating_sub(2),
                (y as usize).saturating_sub(2),
                5,
                5,
            ),
            x,
            y,
            peak_flux: 2.0,
            peak_x: x as usize,
            peak_y: y as usize,
            total_flux: 3.0,
            rms: 0.1,
            mean: 0.0,
            snr: 20.0,
            major_px: 3.0,
            minor_px: 3.0,
            pa_deg: 0.0,
            runs: Vec::new(),
        }
    }
}

/// Every connected set of pixels of `image` above `thresh_isl`, runs kept, in
/// no particular order.
pub fn components(image: &Image, background: &Background, thresh_isl: f64) -> Vec<Component> {
    let rect = image.rect();
    let mut labeller = RowLabeller::new(true);
    let mut out = Vec::new();
    let (mut mean, mut rms) = (Vec::new(), Vec::new());
    for row in 0..rect.height {
        let y = rect.y0 + row;
        background.row(y, rect.x0, rect.width, &mut mean, &mut rms);
        let set = image
            .row(row)
            .iter()
            .zip(mean.iter().zip(&rms))
            .map(|(&v, (&m, &r))| v.is_finite() && (v as f64 - m) / thresh_isl >= r);
        let runs = runs_where(set, rect.x0);
        out.extend(labeller.push_row(y, &runs));
    }
    out.extend(labeller.finish());
    out
}

/// Measures `component` (whose pixels all lie in `image`), or `None` when it
/// fails the size or peak cut.
pub fn measure(
    mut component: Component,
    image: &Image,
    background: &Background,
    cuts: &IslandCuts,
    beam_area_px: f64,
) -> Option<Island> {
    if component.pixels < cuts.min_pixels {
        return None;
    }
    component.sort_runs();
    let mut peak = (f64::NEG_INFINITY, 0, 0);
    let mut sums = Moments::default();
    let (mut rms_sum, mut mean_sum, mut flux_sum) = (0.0, 0.0, 0.0);
    for run in &component.runs {
        for x in run.x0..run.x1 {
            let v = image.get(x, run.y)? as f64;
            let (m, r) = background.at(x, run.y);
            if v > peak.0 {
                peak = (v, x, run.y);
            }
            rms_sum += r;
            flux_sum += v;
            mean_sum += m;
            sums.add(x as f64, run.y as f64, v - m);
        }
    }
    let (peak_flux, peak_x, peak_y) = peak;
    let (peak_mean, peak_rms) = background.at(peak_x, peak_y);
    let peak_passes = (peak_flux - peak_mean) / cuts.thresh_pix > peak_rms;
    if !peak_passes {
        return None;
    }
    let n = component.pixels as f64;
    let (x, y) = sums.centroid();
    let (major_px, minor_px, pa_deg) = sums.shape();
    Some(Island {
        first_pixel: (component.runs[0].y, component.runs[0].x0),
        pixels: component.pixels,
        bbox: PixelRect::new(
            component.x0,
            component.y0,
            component.x1 - component.x0,
            component.y1 - component.y0,
        ),
        x,
        y,
        peak_flux,
        peak_x,
        peak_y,
        total_flux: flux_sum / beam_area_px,
        rms: rms_sum / n,
        mean: mean_sum / n,
        snr: (peak_flux - peak_mean) / peak_rms,
        major_px,
        minor_px,
        pa_deg,
        runs: component.runs,
    })
}

/// Weighted sums for the centroid and second moments.
#[derive(Debug, Default)]
struct Moments {
    w: f64,
    wx: f64,
    wy: f64,
    wxx: f64,
    wyy: f64,
    wxy: f64,
}

impl Moments {
    fn add(&mut self, x: f64, y: f64, w: f64) {
        self.w += w;
        self.wx += w * x;
        self.wy += w * y;
        self.wxx += w * x * x;
        self.wyy += w * y * y;
        self.wxy += w * x * y;
    }

    fn centroid(&self) -> (f64, f64) {
        (self.wx / self.w, self.wy / self.w)
    }

    /// Major and minor FWHM (pixels) and position angle (deg, from +y towards -x).
    fn shape(&self) -> (f64, f64, f64) {
        let (cx, cy) = self.centroid();
        let sxx = (self.wxx / self.w - cx * cx).max(0.0);
        let syy = (self.wyy / self.w - cy * cy).max(0.0);
        let sxy = self.wxy / self.w - cx * cy;
        let half_trace = (sxx + syy) / 2.0;
        let root = (((sxx - syy) / 2.0).powi(2) + sxy * sxy).sqrt();
        let major = (half_trace + root).max(0.0).sqrt() * FWHM_PER_SIGMA;
        let minor = (half_trace - root).max(0.0).sqrt() * FWHM_PER_SIGMA;
        let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        let pa = (-theta.cos())
            .atan2(theta.sin())
            .to_degrees()
            .rem_euclid(180.0);
        (major, minor, pa)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::background::{BackgroundConfig, BoxSize, MeanMapMode};

    /// A noiseless background of mean 0, rms 1 on a `w` x `h` image.
    fn unit_background(image: &Image) -> Background {
        let config = BackgroundConfig {
            rms_box: Some(BoxSize {
                size: 1000,
                step: 500,
            }),
            rms_map: Some(false),
            mean_map: MeanMapMode::Zero,
            ..BackgroundConfig::default()
        };
        let beam = PixelBeam {
            major_px: 3.0,
            minor_px: 3.0,
            pa_deg: 0.0,
        };
        Background::measure(image, &beam, &config, 1).unwrap()
    }

    fn gaussian(w: usize, h: usize, blobs: &[(f64, f64, f64, f64, f64, f64)]) -> Image {
        // (x, y, peak, sigma_major, sigma_minor, theta from +x)
        let mut data = vec![0f32; w * h];
        for (i, v) in data.iter_mut().enumerate() {
            let (x, y) = ((i % w) as f64, (i / w) as f64);
            // Alternating +-1 "noise" gives a clipped rms of 1 and mean 0.
            *v = if (i + i / w).is_multiple_of(2) {
                1.0
            } else {
                -1.0
            };
            for &(cx, cy, peak, sa, sb, th) in blobs {
                let (dx, dy) = (x - cx, y - cy);
                let u = dx * th.cos() + dy * th.sin();
                let t = -dx * th.sin() + dy * th.cos();
                *v += (peak * (-(u * u / (2.0 * sa * sa) + t * t / (2.0 * sb * sb))).exp()) as f32;
            }
        }
        Image::from_vec(w, h, data).unwrap()
    }

    #[test]
    fn an_elliptical_source_is_measured_at_its_true_position_and_angle() {
        let image = gaussian(80, 80, &[(40.3, 38.7, 1000.0, 4.0, 2.0, 0.0)]);
        let bg = unit_background(&image);
        let cuts = IslandCuts {
            thresh_isl: 3.0,
            thresh_pix: 5.0,
            min_pixels: 6,
        };
        let mut islands: Vec<Island> = components(&image, &bg, cuts.thresh_isl)
            .into_iter()
            .filter_map(|c| measure(c, &image, &bg, &cuts, 10.0))
            .collect();
        assert_eq!(islands.len(), 1);
        let isl = islands.pop().unwrap();
        assert!(
            (isl.x - 40.3).abs() < 0.05 && (isl.y - 38.7).abs() < 0.05,
            "{isl:?}"
        );
        // Major axis along x: east-west, PA 90.
        assert!((isl.pa_deg - 90.0).abs() < 1.0, "{isl:?}");
        assert!(isl.major_px > 1.8 * isl.minor_px, "{isl:?}");
        assert_eq!((isl.peak_x, isl.peak_y), (40, 39));
        assert!(isl.snr > 900.0);
    }

    #[test]
    fn faint_and_small_islands_are_cut() {
        // Peak near 4 sigma: above thresh_isl but not thresh_pix.
        let image = gaussian(
            60,
            60,
            &[
                (15.0, 15.0, 3.5, 3.0, 3.0, 0.0),
                (45.0, 45.0, 50.0, 0.5, 0.5, 0.0),
            ],
        );
        let bg = unit_background(&image);
        let cuts = IslandCuts {
            thresh_isl: 3.0,
            thresh_pix: 5.0,
            min_pixels: 6,
        };
        let kept: Vec<Island> = components(&image, &bg, cuts.thresh_isl)
            .into_iter()
            .filter_map(|c| measure(c, &image, &bg, &cuts, 10.0))
            .collect();
        assert!(kept.is_empty(), "{kept:?}");
        let loose = IslandCuts {
            thresh_pix: 3.0,
            min_pixels: 1,
            ..cuts
        };
        let kept = components(&image, &bg, loose.thresh_isl)
            .into_iter()
            .filter_map(|c| measure(c, &image, &bg, &loose, 10.0))
            .count();
        assert_eq!(kept, 2);
    }

    #[test]
    fn blank_pixels_split_islands_and_never_join_them() {
        let mut image = gaussian(60, 30, &[(30.0, 15.0, 200.0, 6.0, 6.0, 0.0)]);
        for y in 0..30 {
            image.pixels_mut()[y * 60 + 30] = f32::NAN;
        }
        let bg = unit_background(&image);
        let comps = components(&image, &bg, 3.0);
        assert_eq!(comps.len(), 2);
        assert!(comps.iter().all(|c| c.x1 <= 30 || c.x0 >= 31));
    }
}

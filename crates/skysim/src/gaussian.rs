//! Elliptical Gaussian components and their closed-form convolution with the
//! restoring beam.
//!
//! Every simulated source is a sum of [`Blob`]s (intrinsic elliptical
//! Gaussians, possibly of zero size). Convolving a Gaussian with the Gaussian
//! beam adds their covariance matrices, so the rendered component is again a
//! Gaussian, a [`PixelGaussian`], whose peak in Jy/beam is fixed by flux
//! conservation: summing its pixels and dividing by the beam area in pixels
//! gives back the component's flux in Jy (up to the truncation below).

use crate::config::BeamConfig;

/// Components are rendered over the axis-aligned box that encloses their
/// `TRUNCATION_SIGMA`-sigma ellipse. The flux outside a 5-sigma ellipse is
/// exp(-12.5) = 3.7e-6 of the total, below any measurement the tests make.
pub const TRUNCATION_SIGMA: f64 = 5.0;

/// Converts a FWHM to the Gaussian sigma.
pub(crate) fn fwhm_to_sigma(fwhm: f64) -> f64 {
    fwhm / (8.0 * std::f64::consts::LN_2).sqrt()
}

/// An intrinsic (unconvolved) elliptical Gaussian in a source's own frame:
/// `along` runs along the source axis (its position angle), `across` is 90
/// degrees east of it; lengths in arcsec. `angle_deg` turns the component's
/// major axis from the source axis towards `across`. `weight` is its share of
/// the source's flux before normalisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Blob {
    pub along: f64,
    pub across: f64,
    pub major: f64,
    pub minor: f64,
    pub angle_deg: f64,
    pub weight: f64,
}

impl Blob {
    /// An unresolved component.
    pub fn point(along: f64, across: f64, weight: f64) -> Self {
        Self::round(along, across, 0.0, weight)
    }

    /// A circular component of the given FWHM.
    pub fn round(along: f64, across: f64, fwhm: f64, weight: f64) -> Self {
        Self {
            along,
            across,
            major: fwhm,
            minor: fwhm,
            angle_deg: 0.0,
            weight,
        }
    }
}

/// A symmetric 2x2 covariance matrix in pixel units: `[[xx, xy], [xy, yy]]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Covariance {
    pub xx: f64,
    pub xy: f64,
    pub yy: f64,
}

impl Covariance {
    /// The covariance of an elliptical Gaussian with FWHMs in pixels and the
    /// major axis at `pa_deg` east of north. North is +y and east is -x (RA
    /// grows to the left), so the major axis points along (-sin pa, cos pa).
    pub fn from_fwhm(major_px: f64, minor_px: f64, pa_deg: f64) -> Self {
        let (sa, sb) = (fwhm_to_sigma(major_px), fwhm_to_sigma(minor_px));
        let (sin, cos) = pa_deg.to_radians().sin_cos();
        let (va, vb) = (sa * sa, sb * sb);
        Self {
            xx: va * sin * sin + vb * cos * cos,
            xy: (vb - va) * sin * cos,
            yy: va * cos * cos + vb * sin * sin,
        }
    }

    /// The covariance of a beam, in pixels of `pixel_scale_arcsec`.
    pub fn of_beam(beam: &BeamConfig, pixel_scale_arcsec: f64) -> Self {
        Self::from_fwhm(
            beam.major_arcsec / pixel_scale_arcsec,
            beam.minor_arcsec / pixel_scale_arcsec,
            beam.pa_deg,
        )
    }

    pub fn det(&self) -> f64 {
        self.xx * self.yy - self.xy * self.xy
    }

    pub fn plus(&self, other: &Covariance) -> Covariance {
        Covariance {
            xx: self.xx + other.xx,
            xy: self.xy + other.xy,
            yy: self.yy + other.yy,
        }
    }

    pub fn scaled(&self, factor: f64) -> Covariance {
        Covariance {
            xx: self.xx * factor,
            xy: self.xy * factor,
            yy: self.yy * factor,
        }
    }
}

/// A beam-convolved Gaussian on the pixel grid, ready to add into images.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PixelGaussian {
    pub x: f64,
    pub y: f64,
    /// Integrated flux density, Jy (negative for artefact troughs).
    pub flux_jy: f64,
    /// Peak surface brightness in Jy/beam.
    pub amplitude: f64,
    /// Inverse covariance, so that the exponent is
    /// -0.5 (ixx dx^2 + 2 ixy dx dy + iyy dy^2).
    ixx: f64,
    ixy: f64,
    iyy: f64,
    /// Inclusive pixel bounds of the truncated support.
    pub support: Support,
}

/// Inclusive pixel bounds in full-image coordinates; may extend beyond the
/// image (the sky does not stop at the edge of the image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Support {
    pub x_min: i64,
    pub x_max: i64,
    pub y_min: i64,
    pub y_max: i64,
}

impl Support {
    /// Columns covered.
    pub fn width(&self) -> usize {
        (self.x_max - self.x_min + 1).max(0) as usize
    }

    /// Rows covered.
    pub fn height(&self) -> usize {
        (self.y_max - self.y_min + 1).max(0) as usize
    }

    pub fn overlaps(&self, other: &Support) -> bool {
        self.x_min <= other.x_max
            && other.x_min <= self.x_max
            && self.y_min <= other.y_max
            && other.y_min <= self.y_max
    }

    pub fn union(&self, other: &Support) -> Support {
        Support {
            x_min: self.x_min.min(other.x_min),
            x_max: self.x_max.max(other.x_max),
            y_min: self.y_min.min(other.y_min),
            y_max: self.y_max.max(other.y_max),
        }
    }
}

impl PixelGaussian {
    /// Convolves an intrinsic Gaussian of `flux_jy` and covariance
    /// `intrinsic` (pixels) centred at `(x, y)` with the beam.
    pub fn convolved(
        x: f64,
        y: f64,
        flux_jy: f64,
        intrinsic: &Covariance,
        beam: &Covariance,
    ) -> Self {
        let cov = intrinsic.plus(beam);
        let det = cov.det();
        // Flux conservation: sum(pixels) / (2 pi sqrt(det beam)) = flux.
        let amplitude = flux_jy * (beam.det() / det).sqrt();
        let half_x = TRUNCATION_SIGMA * cov.xx.sqrt();
        let half_y = TRUNCATION_SIGMA * cov.yy.sqrt();
        Self {
            x,
            y,
            flux_jy,
            amplitude,
            ixx: cov.yy / det,
            ixy: -cov.xy / det,
            iyy: cov.xx / det,
            support: Support {
                x_min: (x - half_x).floor() as i64,
                x_max: (x + half_x).ceil() as i64,
                y_min: (y - half_y).floor() as i64,
                y_max: (y + half_y).ceil() as i64,
            },
        }
    }

    /// The (untruncated) value at a position, in Jy/beam.
    pub fn value_at(&self, x: f64, y: f64) -> f64 {
        let (dx, dy) = (x - self.x, y - self.y);
        let q = self.ixx * dx * dx + 2.0 * self.ixy * dx * dy + self.iyy * dy * dy;
        self.amplitude * (-0.5 * q).exp()
    }

    /// Adds this component into `acc`, the row-major pixels of the rectangle
    /// with inclusive corner `(x0, y0)` and the given width and height. Only
    /// pixels inside the truncated support are touched.
    ///
    /// Along a row the Gaussian is a product of geometric sequences: with
    /// `g(dx) = A exp(-q(dx)/2)`, `g(dx + 1) = g(dx) r(dx)` and
    /// `r(dx + 1) = r(dx) exp(-ixx)`, so a row costs two `exp` calls rather
    /// than one per pixel. The recurrence always starts at the support's left
    /// edge, whatever the rectangle, so a pixel's value never depends on
    /// which rectangle it is rendered in.
    pub fn add_into(&self, acc: &mut [f64], x0: i64, y0: i64, width: usize, height: usize) {
        let xs = self.support.x_min.max(x0);
        let xe = self.support.x_max.min(x0 + width as i64 - 1);
        let ys = self.support.y_min.max(y0);
        let ye = self.support.y_max.min(y0 + height as i64 - 1);
        if xs > xe {
            return;
        }
        let step_ratio = (-self.ixx).exp();
        for py in ys..=ye {
            let row = (py - y0) as usize * width;
            let dy = py as f64 - self.y;
            let dx = self.support.x_min as f64 - self.x;
            let q = self.ixx * dx * dx + 2.0 * self.ixy * dx * dy + self.iyy * dy * dy;
            let mut value = self.amplitude * (-0.5 * q).exp();
            let mut ratio = (-0.5 * self.ixx * (2.0 * dx + 1.0) - self.ixy * dy).exp();
            for px in self.support.x_min..=xe {
                if px >= xs {
                    acc[row + (px - x0) as usize] += value;
                }
                value *= ratio;
                ratio *= step_ratio;
            }
        }
    }
}

/// The maximum of a sum of positive Gaussians: mean-shift (the fixed-point
/// iteration x = (sum w_i P_i)^-1 sum w_i P_i mu_i, w_i the i-th term at x,
/// P_i its inverse covariance) climbs from the brightest component centres
/// to local maxima; the largest is the peak. Converges monotonically for
/// positive mixtures (Carreira-Perpinan 2007).
pub(crate) fn mixture_peak(components: &[PixelGaussian]) -> f64 {
    const ITERATIONS: usize = 100;
    const TOLERANCE_PX: f64 = 1e-4;
    /// Climbs start from this many of the brightest centres: for every model
    /// the simulator builds, the highest hill holds one of them.
    const STARTS: usize = 4;
    if let [single] = components {
        return single.amplitude;
    }
    let value = |x: f64, y: f64| components.iter().map(|c| c.value_at(x, y)).sum::<f64>();
    let mut starts: Vec<(f64, f64, f64)> = components
        .iter()
        .map(|c| (value(c.x, c.y), c.x, c.y))
        .collect();
    starts.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best = starts.first().map_or(0.0, |s| s.0);
    for &(_, x0, y0) in starts.iter().take(STARTS) {
        let (mut x, mut y) = (x0, y0);
        for _ in 0..ITERATIONS {
            let (mut axx, mut axy, mut ayy, mut bx, mut by) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for c in components {
                let w = c.value_at(x, y);
                axx += w * c.ixx;
                axy += w * c.ixy;
                ayy += w * c.iyy;
                bx += w * (c.ixx * c.x + c.ixy * c.y);
                by += w * (c.ixy * c.x + c.iyy * c.y);
            }
            let det = axx * ayy - axy * axy;
            if det <= 0.0 || !det.is_finite() {
                break;
            }
            let (nx, ny) = ((ayy * bx - axy * by) / det, (axx * by - axy * bx) / det);
            let step = (nx - x).abs() + (ny - y).abs();
            (x, y) = (nx, ny);
            if step < TOLERANCE_PX {
                break;
            }
        }
        best = best.max(value(x, y));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beam() -> Covariance {
        Covariance::from_fwhm(5.0, 5.0, 0.0)
    }

    /// The component rendered over its whole support, row-major.
    fn render_support(g: &PixelGaussian) -> Vec<f64> {
        let s = g.support;
        let mut acc = vec![0.0; s.width() * s.height()];
        g.add_into(&mut acc, s.x_min, s.y_min, s.width(), s.height());
        acc
    }

    #[test]
    fn point_source_peak_equals_its_flux_in_jy_per_beam() {
        let g = PixelGaussian::convolved(
            10.3,
            4.0,
            0.02,
            &Covariance::from_fwhm(0.0, 0.0, 0.0),
            &beam(),
        );
        assert!((g.amplitude - 0.02).abs() < 1e-15);
        assert!((g.value_at(10.3, 4.0) - 0.02).abs() < 1e-15);
    }

    #[test]
    fn pixel_sum_over_beam_area_gives_back_the_flux() {
        let beam = beam();
        let beam_area = 2.0 * std::f64::consts::PI * beam.det().sqrt();
        let intrinsic = Covariance::from_fwhm(12.0, 4.0, 33.0);
        let g = PixelGaussian::convolved(0.4, -7.2, 0.5, &intrinsic, &beam);
        assert!(
            g.amplitude < 0.5 * 0.5,
            "resolved source peak {} not diluted",
            g.amplitude
        );
        let flux = render_support(&g).iter().sum::<f64>() / beam_area;
        assert!((flux - 0.5).abs() < 1e-5 * 0.5, "flux {flux}");
    }

    #[test]
    fn row_recurrence_matches_direct_evaluation() {
        let intrinsic = Covariance::from_fwhm(9.0, 3.0, 61.0);
        let g = PixelGaussian::convolved(3.3, -2.6, 0.7, &intrinsic, &beam());
        let (s, acc) = (g.support, render_support(&g));
        let w = s.width();
        for (i, v) in acc.iter().enumerate() {
            let (x, y) = (s.x_min + (i % w) as i64, s.y_min + (i / w) as i64);
            let direct = g.value_at(x as f64, y as f64);
            assert!(
                (v - direct).abs() <= 1e-12 * g.amplitude,
                "({x}, {y}): {v} vs {direct}"
            );
        }
    }

    #[test]
    fn mixture_peak_finds_the_maximum_between_two_overlapping_components() {
        let point = Covariance::from_fwhm(0.0, 0.0, 0.0);
        let a = PixelGaussian::convolved(0.0, 0.0, 1.0, &point, &beam());
        let b = PixelGaussian::convolved(2.0, 0.0, 1.0, &point, &beam());
        let peak = mixture_peak(&[a, b]);
        // Two unit beams 2 px apart peak midway: 2 exp(-0.5 * 1 / sigma^2).
        let sigma = fwhm_to_sigma(5.0);
        assert!(
            (peak - 2.0 * (-0.5 / (sigma * sigma)).exp()).abs() < 1e-9,
            "{peak}"
        );
        assert!(peak > a.value_at(0.0, 0.0) + b.value_at(0.0, 0.0));
    }

    #[test]
    fn position_angle_turns_the_major_axis_from_north_through_east() {
        // PA 90: major axis east-west, i.e. along x.
        let c = Covariance::from_fwhm(10.0, 2.0, 90.0);
        assert!(c.xx > c.yy && c.xy.abs() < 1e-12);
        // PA 45: major axis towards north-east, i.e. -x and +y together.
        let c = Covariance::from_fwhm(10.0, 2.0, 45.0);
        assert!(c.xy < 0.0);
    }
}

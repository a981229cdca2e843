//! Image-plane noise correlated on the beam scale, as a pure function of
//! (seed, pixel).
//!
//! An interferometric image's noise is correlated like the beam: its
//! autocorrelation function is (close to) the synthesised beam. White
//! Gaussian noise convolved with a Gaussian kernel of covariance `B / 2`
//! (`B` the beam's covariance) has exactly the beam as its autocorrelation,
//! so that is the kernel used; the result is scaled to the requested rms
//! using the exact L2 norm of the discrete kernel.
//!
//! The 2-D kernel is applied as two 1-D passes: along x with variance
//! `s1`, then along the sheared direction `(t, 1)` with variance `s2`
//! (`s2 = Cyy, t = Cxy / Cyy, s1 = Cxx - Cxy^2 / Cyy`), which reproduces any
//! covariance `C`, so a rotated elliptical beam costs the same as a circular
//! one. The sheared pass reads the first pass at fractional x by linear
//! interpolation (exactly no interpolation when the beam is axis-aligned).
//! Each output pixel is a fixed weighted sum, in a fixed order, of white
//! noise at fixed absolute positions (beyond the image edge too), so any
//! rectangle renders bit-identically to the same crop of the whole image.

use crate::gaussian::Covariance;
use crate::rng::{mix64, pixel_normals_row, stream};

/// Kernels extend to this many of their sigmas.
pub const KERNEL_SIGMA: f64 = 4.0;

/// A correlated-noise field for one seed.
#[derive(Debug, Clone)]
pub(crate) struct NoiseField {
    seed: u64,
    /// First pass, along x, taps at -r1..=r1.
    along_x: Vec<f64>,
    /// Second pass, taps k = -r2..=r2 at (x + shift_k + frac_k, y + k).
    sheared: Vec<ShearTap>,
    /// Largest |shift| of the sheared pass, plus one for the interpolation.
    reach_x: i64,
}

#[derive(Debug, Clone, Copy)]
struct ShearTap {
    weight: f64,
    shift: i64,
    frac: f64,
}

/// Unnormalised discrete Gaussian taps at -r..=r for a variance in pixels^2.
fn gaussian_taps(variance: f64) -> Vec<f64> {
    let r = (KERNEL_SIGMA * variance.sqrt()).ceil() as i64;
    (-r..=r)
        .map(|i| {
            if variance > 0.0 {
                (-0.5 * (i * i) as f64 / variance).exp()
            } else {
                1.0
            }
        })
        .collect()
}

impl NoiseField {
    /// Noise of standard deviation `rms` whose autocorrelation is the beam
    /// of covariance `beam` (pixels).
    pub fn new(seed: u64, rms: f64, beam: &Covariance) -> Self {
        let kernel = beam.scaled(0.5);
        let s2 = kernel.yy;
        let t = kernel.xy / kernel.yy;
        let s1 = (kernel.xx - kernel.xy * kernel.xy / kernel.yy).max(0.0);
        let along_x = gaussian_taps(s1);
        let taps = gaussian_taps(s2);
        let r2 = (taps.len() / 2) as i64;
        let mut sheared: Vec<ShearTap> = taps
            .iter()
            .zip(-r2..=r2)
            .map(|(&weight, k)| {
                let offset = t * k as f64;
                ShearTap {
                    weight,
                    shift: offset.floor() as i64,
                    frac: offset - offset.floor(),
                }
            })
            .collect();
        let reach_x = sheared.iter().map(|s| s.shift.abs() + 1).max().unwrap_or(1);
        // Scale to the requested rms with the exact norm of the effective kernel.
        let norm = effective_kernel_norm(&along_x, &sheared);
        let scale = rms / norm;
        for tap in &mut sheared {
            tap.weight *= scale;
        }
        Self {
            seed: mix64(seed ^ stream::NOISE),
            along_x,
            sheared,
            reach_x,
        }
    }

    /// Rows of kernel margin the field needs above and below a rectangle.
    fn reach_y(&self) -> i64 {
        (self.sheared.len() / 2) as i64
    }

    /// The noise over the rectangle with corner `(x0, y0)`, row-major, in
    /// `scratch`'s output buffer.
    pub fn render<'s>(
        &self,
        x0: i64,
        y0: i64,
        width: usize,
        height: usize,
        scratch: &'s mut NoiseScratch,
    ) -> &'s [f64] {
        let r1 = (self.along_x.len() / 2) as i64;
        let r2 = self.reach_y();
        // The first pass is needed over x0 - reach .. x0 + width + reach.
        let first_x0 = x0 - self.reach_x;
        let first_width = width + 2 * self.reach_x as usize + 1;
        let first_rows = height + 2 * r2 as usize;
        let NoiseScratch { first, white, out } = scratch;
        reset(first, first_width * first_rows);
        reset(white, first_width + 2 * r1 as usize);
        reset(out, width * height);
        for (row, line) in first.chunks_exact_mut(first_width).enumerate() {
            let y = y0 - r2 + row as i64;
            pixel_normals_row(self.seed, first_x0 - r1, y, white);
            for (i, out) in line.iter_mut().enumerate() {
                *out = self
                    .along_x
                    .iter()
                    .zip(&white[i..])
                    .map(|(k, v)| k * v)
                    .sum();
            }
        }
        for (row, line) in out.chunks_exact_mut(width).enumerate() {
            for (k, tap) in self.sheared.iter().enumerate() {
                let source = &first[(row + k) * first_width..(row + k + 1) * first_width];
                let start = (self.reach_x + tap.shift) as usize;
                let (a, b) = (tap.weight * (1.0 - tap.frac), tap.weight * tap.frac);
                if tap.frac == 0.0 {
                    for (o, v) in line.iter_mut().zip(&source[start..]) {
                        *o += a * v;
                    }
                } else {
                    for (o, v) in line.iter_mut().zip(source[start..].windows(2)) {
                        *o += a * v[0] + b * v[1];
                    }
                }
            }
        }
        out
    }
}

/// Working buffers of [`NoiseField::render`], reused from one call to the
/// next so that rendering strip after strip does not map fresh memory (and
/// take its page faults) each time.
#[derive(Debug, Default)]
pub(crate) struct NoiseScratch {
    first: Vec<f64>,
    white: Vec<f64>,
    out: Vec<f64>,
}

/// Makes `buffer` `len` zeros, keeping its allocation.
pub(crate) fn reset(buffer: &mut Vec<f64>, len: usize) {
    buffer.clear();
    buffer.resize(len, 0.0);
}

/// L2 norm of the 2-D kernel the two passes apply together.
fn effective_kernel_norm(along_x: &[f64], sheared: &[ShearTap]) -> f64 {
    let mut sum_sq = 0.0;
    for tap in sheared {
        // Row k of the 2-D kernel: (1 - f) * along_x + f * along_x shifted by one.
        let mut row = vec![0.0; along_x.len() + 1];
        for (i, w) in along_x.iter().enumerate() {
            row[i] += (1.0 - tap.frac) * w;
            row[i + 1] += tap.frac * w;
        }
        sum_sq += tap.weight * tap.weight * row.iter().map(|v| v * v).sum::<f64>();
    }
    sum_sq.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BeamConfig;

    fn stats(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        (
            mean,
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt(),
        )
    }

    #[test]
    fn rotated_elliptical_beam_noise_has_the_requested_rms_and_orientation() {
        let beam = BeamConfig {
            major_arcsec: 12.0,
            minor_arcsec: 6.0,
            pa_deg: 45.0,
        };
        let field = NoiseField::new(4, 2.0, &Covariance::of_beam(&beam, 1.5));
        let (w, h) = (600, 600);
        let noise = field
            .render(-100, 37, w, h, &mut NoiseScratch::default())
            .to_vec();
        let (_, rms) = stats(&noise);
        assert!((rms - 2.0).abs() < 0.08, "rms {rms}");
        // PA 45 east of north: the beam runs from lower right to upper left,
        // so noise correlates more along (-1, +1) than along (+1, +1).
        let lag = |dx: i64, dy: i64| {
            let mut s = 0.0;
            for y in 10..h - 10 {
                for x in 10..w - 10 {
                    s += noise[y * w + x]
                        * noise[(y as i64 + dy) as usize * w + (x as i64 + dx) as usize];
                }
            }
            s
        };
        assert!(
            lag(-2, 2) > 2.0 * lag(2, 2),
            "{} vs {}",
            lag(-2, 2),
            lag(2, 2)
        );
    }

    #[test]
    fn a_sub_rectangle_is_bit_identical_to_the_crop_even_when_sheared() {
        let beam = BeamConfig {
            major_arcsec: 10.0,
            minor_arcsec: 5.0,
            pa_deg: 20.0,
        };
        let field = NoiseField::new(8, 1.0, &Covariance::of_beam(&beam, 1.5));
        let mut scratch = NoiseScratch::default();
        let whole = field.render(0, 0, 50, 40, &mut scratch).to_vec();
        // The same scratch, reused, must not leak the previous call's values.
        let part = field.render(13, 7, 20, 9, &mut scratch);
        for row in 0..9 {
            assert_eq!(
                &part[row * 20..(row + 1) * 20],
                &whole[(row + 7) * 50 + 13..(row + 7) * 50 + 33]
            );
        }
    }
}

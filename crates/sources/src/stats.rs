//! Kappa-sigma clipped statistics, as PyBDSF 1.14.1 computes them
//! (`functions.bstat`, the PySE method):
//! - start from all values; the first round's sigma is the raw standard
//!   deviation (ddof = 1), later rounds' the population standard deviation of
//!   the values kept;
//! - keep the values in `[median - kappa sigma, median + kappa sigma)`, the
//!   median being the upper middle value; repeat until fewer than one in a
//!   million values change (at most 200 rounds);
//! - the centre is the mode estimate `2.5 median - 1.5 mean` when the kept
//!   values are nearly symmetric (|mean - median| <= 0.3 sigma), else the median;
//!   the rms is their standard deviation (ddof = 1) corrected for the tails the
//!   clipping removed.
//!
//! When the clipping does not converge (more than 198 rounds) PyBDSF uses the
//! raw mean and rms; so do we. `kappa` is fixed, or (PyBDSF's default) follows
//! the number of independent beams among the values kept:
//! `kappa = sqrt(2) erfcinv(beam_area / (2 n))`, at least 3.

use serde::{Deserialize, Serialize};

/// Where the clipping stops: values changed in a round below this fraction.
const CONVERGENCE: f64 = 1e-6;
const MAX_ROUNDS: usize = 200;
/// PyBDSF uses the raw statistics when the clipping took more rounds than this.
const ROUNDS_BEFORE_FALLBACK: usize = 198;
/// The clipped distribution counts as symmetric below this |mean - median| / sigma.
const SKEW_LIMIT: f64 = 0.3;
/// The smallest clipping threshold PyBDSF derives from the beam.
const MIN_BEAM_KAPPA: f64 = 3.0;

/// The clipping threshold, in sigma.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Kappa {
    Fixed(f64),
    /// PyBDSF's `kappa_clip = None`: from the count of values per beam area (pixels).
    FromBeam {
        beam_area_px: f64,
    },
}

impl Kappa {
    fn for_count(&self, n: usize) -> f64 {
        match *self {
            Kappa::Fixed(k) => k,
            Kappa::FromBeam { beam_area_px } => {
                let k = std::f64::consts::SQRT_2 * erfc_inv(beam_area_px / (2.0 * n as f64));
                if k.is_finite() {
                    k.max(MIN_BEAM_KAPPA)
                } else {
                    MIN_BEAM_KAPPA
                }
            }
        }
    }
}

/// Clipped mean and rms of a set of pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClippedStats {
    pub mean: f64,
    pub rms: f64,
}

/// Clipped statistics of the finite values in `values` (reordered in place), or
/// `None` when fewer than two values are finite or they are all equal (a region of
/// constant value has no noise to measure; PyBDSF stops with an error there).
///
/// PyBDSF sorts the values once and clips by binary search; we select the
/// median and partition instead (the same sets of values, without the sort).
pub fn clipped_stats(values: &mut Vec<f32>, kappa: Kappa) -> Option<ClippedStats> {
    values.retain(|v| v.is_finite());
    if values.len() < 2 {
        return None;
    }
    let n = values.len();
    let raw_mean = mean(values);
    // Sums over the values kept: of the values and of their squared
    // deviations from the raw mean (as PyBDSF keeps them).
    let mut sums = (raw_mean * n as f64, sum_sq_dev(values, raw_mean));
    let raw_rms = (sums.1 / (n - 1) as f64).sqrt();
    let mut kept = n;
    let mut rounds = 0;
    let mut k;
    loop {
        let count = kept;
        k = kappa.for_count(count);
        let median = upper_median(&mut values[..count]);
        let sigma = if rounds == 0 {
            raw_rms
        } else {
            let m = sums.0 / count as f64;
            (sums.1 / count as f64 - (raw_mean - m).powi(2))
                .max(0.0)
                .sqrt()
        };
        let (low, high) = (median - k * sigma, median + k * sigma);
        let (inside, inside_sums) = keep_within(&mut values[..count], low, high, raw_mean);
        if inside > 0 {
            kept = inside;
            sums = inside_sums;
        }
        rounds += 1;
        let changed = inside.abs_diff(count) as f64;
        if changed < CONVERGENCE * count as f64 || rounds >= MAX_ROUNDS {
            break;
        }
    }
    if rounds > ROUNDS_BEFORE_FALLBACK {
        return (raw_rms > 0.0).then_some(ClippedStats {
            mean: raw_mean,
            rms: raw_rms,
        });
    }
    let kept = &mut values[..kept];
    let count = kept.len() as f64;
    if count < 2.0 {
        return None;
    }
    let mean = sums.0 / count;
    let variance = sums.1 / (count - 1.0) - (raw_mean - mean).powi(2) * count / (count - 1.0);
    let sigma = variance.max(0.0).sqrt();
    if sigma.is_nan() || sigma <= 0.0 {
        return None;
    }
    let median = upper_median(kept);
    let centre = if (mean - median).abs() / sigma <= SKEW_LIMIT {
        2.5 * median - 1.5 * mean
    } else {
        median
    };
    Some(ClippedStats {
        mean: centre,
        rms: sigma * clipped_gaussian_correction(k),
    })
}

/// The value at index `len / 2` of the sorted values (PyBDSF's median).
fn upper_median(values: &mut [f32]) -> f64 {
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f32::total_cmp).1 as f64
}

/// Moves the values in `[low, high)` to the front; returns their count and
/// their sums (of values, and of squared deviations from `centre`).
fn keep_within(values: &mut [f32], low: f64, high: f64, centre: f64) -> (usize, (f64, f64)) {
    let mut front = 0;
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for i in 0..values.len() {
        let v = values[i] as f64;
        if v >= low && v < high {
            values.swap(front, i);
            front += 1;
            sum += v;
            sum_sq += (v - centre) * (v - centre);
        }
    }
    (front, (sum, sum_sq))
}

fn sum_sq_dev(values: &[f32], centre: f64) -> f64 {
    values.iter().map(|&v| (v as f64 - centre).powi(2)).sum()
}

/// The factor by which the standard deviation of a Gaussian truncated at
/// +-kappa sigma underestimates the true sigma.
fn clipped_gaussian_correction(kappa: f64) -> f64 {
    let r1 = (2.0 * std::f64::consts::PI).sqrt() * erf(kappa / std::f64::consts::SQRT_2);
    (r1 / (r1 - 2.0 * kappa * (-kappa * kappa / 2.0).exp())).sqrt()
}

pub(crate) fn mean(values: &[f32]) -> f64 {
    values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64
}

/// Standard deviation with `ddof` delta degrees of freedom, as numpy's `std`.
pub(crate) fn std_dev(values: &[f32], ddof: usize) -> f64 {
    let m = mean(values);
    let ss: f64 = values.iter().map(|&v| (v as f64 - m).powi(2)).sum();
    (ss / (values.len() - ddof) as f64).sqrt()
}

/// The complementary error function, to a relative 1.2e-7 everywhere
/// (Numerical Recipes' Chebyshev fit), so that its far tail stays accurate.
pub(crate) fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let tail = t * poly.exp();
    if x >= 0.0 {
        tail
    } else {
        2.0 - tail
    }
}

pub(crate) fn erf(x: f64) -> f64 {
    1.0 - erfc(x)
}

/// The inverse of [`erfc`] on `(0, 2)`, by Newton's method.
pub(crate) fn erfc_inv(y: f64) -> f64 {
    if !(y > 0.0 && y < 2.0) {
        return f64::NAN;
    }
    // exp(-x^2) ~ y is close for small y; Newton converges from there.
    let mut x = if y < 1.0 {
        (-y.ln()).sqrt()
    } else {
        -(-(2.0 - y).ln()).sqrt()
    };
    for _ in 0..100 {
        let step = (erfc(x) - y) / (2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp());
        x += step;
        if step.abs() < 1e-12 * x.abs().max(1.0) {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Normal};

    fn gaussian_noise(n: usize, sigma: f64, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0, sigma).unwrap();
        (0..n).map(|_| normal.sample(&mut rng) as f32).collect()
    }

    #[test]
    fn clipped_rms_of_pure_noise_is_the_noise_sigma() {
        let mut v = gaussian_noise(200_000, 2.0, 1);
        let s = clipped_stats(&mut v, Kappa::Fixed(3.0)).unwrap();
        assert!((s.rms - 2.0).abs() < 0.02, "{s:?}");
        assert!(s.mean.abs() < 0.03, "{s:?}");
    }

    #[test]
    fn bright_sources_do_not_inflate_the_clipped_rms() {
        let mut v = gaussian_noise(100_000, 1.0, 2);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..2_000 {
            let i = rng.random_range(0..v.len());
            v[i] += 500.0;
        }
        let raw = std_dev(&v, 1);
        let s = clipped_stats(&mut v, Kappa::Fixed(3.0)).unwrap();
        assert!(raw > 10.0);
        assert!((s.rms - 1.0).abs() < 0.03, "{s:?}");
    }

    #[test]
    fn blanks_are_ignored_and_constant_regions_have_no_noise() {
        let mut v = gaussian_noise(10_000, 1.0, 4);
        v.extend(std::iter::repeat_n(f32::NAN, 5_000));
        assert!((clipped_stats(&mut v, Kappa::Fixed(3.0)).unwrap().rms - 1.0).abs() < 0.05);
        assert_eq!(clipped_stats(&mut vec![0.5; 100], Kappa::Fixed(3.0)), None);
        assert_eq!(
            clipped_stats(&mut vec![f32::NAN; 100], Kappa::Fixed(3.0)),
            None
        );
    }

    #[test]
    fn erf_matches_known_values() {
        assert!((erf(0.5) - 0.520_499_877_8).abs() < 2e-7);
        assert!((erf(-1.0) + 0.842_700_792_9).abs() < 2e-7);
        assert!((erf(3.0 / std::f64::consts::SQRT_2) - 0.997_300_203_9).abs() < 2e-7);
    }

    #[test]
    fn erfc_inverse_inverts_erfc_far_into_the_tail() {
        for x in [-1.0, 0.1, 1.0, 3.0, 4.4, 5.5] {
            assert!((erfc_inv(erfc(x)) - x).abs() < 1e-6, "{x}");
        }
        // The kappa PyBDSF derives for a million pixels of 21.3-pixel beams.
        let k = Kappa::FromBeam {
            beam_area_px: 21.28,
        }
        .for_count(1_000_000);
        assert!((k - 4.39).abs() < 0.02, "{k}");
        assert_eq!(
            Kappa::FromBeam {
                beam_area_px: 21.28
            }
            .for_count(100),
            3.0
        );
    }
}

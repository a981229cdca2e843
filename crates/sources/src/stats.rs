//! Kappa-sigma clipped statistics, as PyBDSF computes them (`functions.bstat`,
//! the PySE method): iterate "keep the values within kappa x std of the median"
//! until fewer than one in a million values change (at most 200 rounds); then take
//! the mean as the mode estimate `2.5 median - 1.5 mean` when the clipped
//! distribution is nearly symmetric (|mean - median| <= 0.3 sigma) and the median
//! otherwise, and correct the clipped standard deviation (ddof = 1) for the tails
//! the clipping removed. When the clipping does not converge (more than 198 rounds)
//! PyBDSF falls back to the raw mean and rms; so do we.

/// Where the clipping stops: values changed in a round below this fraction.
const CONVERGENCE: f64 = 1e-6;
const MAX_ROUNDS: usize = 200;
/// PyBDSF uses the raw statistics when the clipping took more rounds than this.
const ROUNDS_BEFORE_FALLBACK: usize = 198;
/// The clipped distribution counts as symmetric below this |mean - median| / sigma.
const SKEW_LIMIT: f64 = 0.3;

/// Clipped mean and rms of a set of pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClippedStats {
    pub mean: f64,
    pub rms: f64,
}

/// Clipped statistics of the finite values in `values` (reordered in place), or
/// `None` when fewer than two values are finite or they are all equal (a region of
/// constant value has no noise to measure; PyBDSF stops with an error there).
pub fn clipped_stats(values: &mut Vec<f32>, kappa: f64) -> Option<ClippedStats> {
    values.retain(|v| v.is_finite());
    if values.len() < 2 {
        return None;
    }
    let raw = ClippedStats {
        mean: mean(values),
        rms: std_dev(values, 1),
    };
    let mut kept = values.len();
    let mut rounds = 0;
    loop {
        let last = kept;
        let median = median(&mut values[..kept]);
        let sigma = std_dev(&values[..kept], 0);
        kept = partition_within(&mut values[..kept], median, kappa * sigma);
        if kept == 0 {
            kept = last; // PyBDSF keeps the previous set when nothing survives
        }
        rounds += 1;
        let changed = kept.abs_diff(last) as f64;
        if changed < CONVERGENCE * last as f64 || rounds >= MAX_ROUNDS {
            break;
        }
    }
    if rounds > ROUNDS_BEFORE_FALLBACK {
        return Some(raw);
    }
    let kept = &mut values[..kept];
    let mean = mean(kept);
    let sigma = std_dev(kept, 1);
    if !(sigma > 0.0) {
        return None;
    }
    let median = median(kept);
    let centre = if (mean - median).abs() / sigma <= SKEW_LIMIT {
        2.5 * median - 1.5 * mean
    } else {
        median
    };
    Some(ClippedStats {
        mean: centre,
        rms: sigma * clipped_gaussian_correction(kappa),
    })
}

/// The factor by which the standard deviation of a Gaussian truncated at
/// +-kappa sigma underestimates the true sigma.
fn clipped_gaussian_correction(kappa: f64) -> f64 {
    let r1 = (2.0 * std::f64::consts::PI).sqrt() * erf(kappa / std::f64::consts::SQRT_2);
    (r1 / (r1 - 2.0 * kappa * (-kappa * kappa / 2.0).exp())).sqrt()
}

/// Moves the values strictly within `limit` of `centre` to the front, keeping
/// nothing else; returns how many there are.
fn partition_within(values: &mut [f32], centre: f64, limit: f64) -> usize {
    let mut kept = 0;
    for i in 0..values.len() {
        if (values[i] as f64 - centre).abs() < limit {
            values.swap(kept, i);
            kept += 1;
        }
    }
    kept
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

/// numpy's median: the middle value, or the mean of the two middle values.
fn median(values: &mut [f32]) -> f64 {
    let n = values.len();
    let (_, upper, _) = values.select_nth_unstable_by(n / 2, f32::total_cmp);
    let upper = *upper as f64;
    if n % 2 == 1 {
        return upper;
    }
    let lower = values[..n / 2].iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    (lower + upper) / 2.0
}

/// The error function, to 1.2e-7 (Numerical Recipes' erfc Chebyshev fit).
pub(crate) fn erf(x: f64) -> f64 {
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
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - erfc
    } else {
        erfc - 1.0
    }
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
        let s = clipped_stats(&mut v, 3.0).unwrap();
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
        let s = clipped_stats(&mut v, 3.0).unwrap();
        assert!(raw > 10.0);
        assert!((s.rms - 1.0).abs() < 0.03, "{s:?}");
    }

    #[test]
    fn blanks_are_ignored_and_constant_regions_have_no_noise() {
        let mut v = gaussian_noise(10_000, 1.0, 4);
        v.extend(std::iter::repeat_n(f32::NAN, 5_000));
        assert!((clipped_stats(&mut v, 3.0).unwrap().rms - 1.0).abs() < 0.05);
        assert_eq!(clipped_stats(&mut vec![0.5; 100], 3.0), None);
        assert_eq!(clipped_stats(&mut vec![f32::NAN; 100], 3.0), None);
    }

    #[test]
    fn erf_matches_known_values() {
        assert!((erf(0.5) - 0.520_499_877_8).abs() < 2e-7);
        assert!((erf(-1.0) + 0.842_700_792_9).abs() < 2e-7);
        assert!((erf(3.0 / std::f64::consts::SQRT_2) - 0.997_300_203_9).abs() < 2e-7);
    }

    #[test]
    fn median_follows_numpy_for_even_counts() {
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), 3.0);
    }
}

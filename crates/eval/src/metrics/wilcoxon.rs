//! The Wilcoxon signed-rank test for paired samples, as `scipy.stats.wilcoxon` (scipy
//! 1.17) computes it with its defaults: `zero_method='wilcox'` (zero differences are
//! dropped), `correction=False`, `method='auto'`.

use super::mann_whitney::{Alternative, PValueMethod, RankTest};
use super::normal::{normal_cdf, normal_sf};
use super::ranks::average_ranks;
use super::validate::{check_finite, check_same_length};
use crate::error::MetricError;

/// Largest sample for which scipy's 'auto' uses the exact null distribution.
const EXACT_MAX: usize = 50;
/// Largest sample for which scipy enumerates every sign flip when there are ties or zeros.
const PERMUTATION_MAX: usize = 13;

/// Wilcoxon signed-rank test of the paired differences `x - y`. The statistic is
/// `min(R+, R-)` for the two-sided test and `R+` otherwise. p-value as scipy's 'auto':
/// exact null distribution for n <= 50 without ties or zeros; every sign flip enumerated
/// for n <= 13 with ties or zeros; otherwise the normal approximation with tie correction.
pub fn wilcoxon_signed_rank(
    x: &[f64],
    y: &[f64],
    alternative: Alternative,
) -> Result<RankTest, MetricError> {
    const WHAT: &str = "wilcoxon_signed_rank";
    check_same_length(WHAT, x.len(), y.len())?;
    if x.is_empty() {
        return Err(MetricError::Empty { what: WHAT });
    }
    check_finite(WHAT, x)?;
    check_finite(WHAT, y)?;
    let all: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
    let nonzero: Vec<f64> = all.iter().copied().filter(|&d| d != 0.0).collect();
    if nonzero.is_empty() {
        return Err(MetricError::Invalid {
            what: WHAT,
            reason: "every paired difference is zero; the test is undefined".into(),
        });
    }
    let zeros = all.len() - nonzero.len();
    let magnitudes: Vec<f64> = nonzero.iter().map(|d| d.abs()).collect();
    let ranked = average_ranks(&magnitudes);
    let r_plus: f64 = nonzero
        .iter()
        .zip(&ranked.ranks)
        .filter(|(d, _)| **d > 0.0)
        .map(|(_, r)| r)
        .sum();
    let count = nonzero.len() as f64;
    let r_minus = count * (count + 1.0) / 2.0 - r_plus;
    let statistic = match alternative {
        Alternative::TwoSided => r_plus.min(r_minus),
        _ => r_plus,
    };
    let ties_or_zeros = ranked.has_ties() || zeros > 0;
    let (pvalue, method) = if all.len() <= EXACT_MAX && !ties_or_zeros {
        (
            exact_pvalue(r_plus, nonzero.len(), alternative),
            PValueMethod::Exact,
        )
    } else if all.len() <= EXACT_MAX && all.len() <= PERMUTATION_MAX {
        (
            permutation_pvalue(&nonzero, &ranked.ranks, r_plus, alternative),
            PValueMethod::Permutation,
        )
    } else {
        let mean = count * (count + 1.0) / 4.0;
        let var = (count * (count + 1.0) * (2.0 * count + 1.0) - ranked.tie_term() / 2.0) / 24.0;
        let z = (r_plus - mean) / var.sqrt();
        let p = match alternative {
            Alternative::TwoSided => 2.0 * normal_sf(z.abs()),
            Alternative::Greater => normal_sf(z),
            Alternative::Less => normal_cdf(z),
        };
        (p, PValueMethod::Asymptotic)
    };
    Ok(RankTest {
        statistic,
        pvalue: pvalue.clamp(0.0, 1.0),
        method,
    })
}

/// Probabilities of R+ = 0..=n(n+1)/2 under the null: counts of subsets of {1..n} with
/// each sum, over 2^n.
fn signed_rank_pmf(n: usize) -> Vec<f64> {
    let max = n * (n + 1) / 2;
    let mut counts = vec![0u64; max + 1];
    counts[0] = 1;
    for rank in 1..=n {
        for s in (rank..=max).rev() {
            counts[s] += counts[s - rank];
        }
    }
    let total = 2f64.powi(n as i32);
    counts.into_iter().map(|c| c as f64 / total).collect()
}

fn exact_pvalue(r_plus: f64, n: usize, alternative: Alternative) -> f64 {
    let pmf = signed_rank_pmf(n);
    // Without ties R+ is an integer; rounding only guards against summation error.
    let k = r_plus.round() as usize;
    let cdf = |k: usize| pmf[..=k.min(pmf.len() - 1)].iter().sum::<f64>();
    let sf = |k: usize| pmf[k.min(pmf.len())..].iter().sum::<f64>();
    match alternative {
        Alternative::Less => cdf(k),
        Alternative::Greater => sf(k),
        Alternative::TwoSided => 2.0 * sf(k).min(cdf(k)),
    }
}

/// p-value from every one of the 2^n sign assignments of the non-zero differences
/// (zeros contribute nothing to R+ whatever their sign), with scipy's relative tolerance
/// for ties between the observed and permuted statistics.
fn permutation_pvalue(nonzero: &[f64], ranks: &[f64], observed: f64, alt: Alternative) -> f64 {
    let n = nonzero.len();
    let gamma = (observed * 100.0 * f64::EPSILON).abs();
    let (mut less, mut greater) = (0u64, 0u64);
    for signs in 0u64..(1u64 << n) {
        let r_plus: f64 = (0..n)
            .filter(|&i| signs >> i & 1 == 1)
            .map(|i| ranks[i])
            .sum();
        less += u64::from(r_plus <= observed + gamma);
        greater += u64::from(r_plus >= observed - gamma);
    }
    let total = (1u64 << n) as f64;
    let (p_less, p_greater) = (less as f64 / total, greater as f64 / total);
    match alt {
        Alternative::Less => p_less,
        Alternative::Greater => p_greater,
        Alternative::TwoSided => 2.0 * p_less.min(p_greater),
    }
}

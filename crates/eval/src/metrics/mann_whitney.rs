//! The Mann-Whitney U test, as `scipy.stats.mannwhitneyu` (scipy 1.17) computes it with
//! its defaults: `use_continuity=True`, `method='auto'`.

use serde::{Deserialize, Serialize};

use super::normal::normal_sf;
use super::ranks::average_ranks;
use super::validate::check_finite;
use crate::error::MetricError;

/// Which alternative hypothesis a rank test assesses (scipy's `alternative`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    TwoSided,
    /// The first sample tends to be smaller.
    Less,
    /// The first sample tends to be larger.
    Greater,
}

/// How a p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PValueMethod {
    /// From the exact null distribution (no ties, a small sample).
    Exact,
    /// From the normal approximation with tie correction.
    Asymptotic,
    /// By enumerating every sign assignment (Wilcoxon, small samples with ties/zeros).
    Permutation,
}

/// Result of a rank test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankTest {
    /// The statistic scipy reports (for Mann-Whitney: U of the first sample).
    pub statistic: f64,
    pub pvalue: f64,
    pub method: PValueMethod,
}

/// Mann-Whitney U test of `x` against `y`. The statistic is U of `x` (the number of
/// pairs with x > y, ties counting one half). scipy's `method='auto'`: the exact null
/// distribution when either sample has at most 8 values and nothing is tied, otherwise
/// the normal approximation with tie and continuity correction. (One deviation: when the
/// exact counts would overflow 128 bits, 8 values against about 10^5, the normal
/// approximation is used where scipy would still count.)
pub fn mann_whitney_u(
    x: &[f64],
    y: &[f64],
    alternative: Alternative,
) -> Result<RankTest, MetricError> {
    const WHAT: &str = "mann_whitney_u";
    if x.is_empty() || y.is_empty() {
        return Err(MetricError::Empty { what: WHAT });
    }
    check_finite(WHAT, x)?;
    check_finite(WHAT, y)?;
    let (n1, n2) = (x.len(), y.len());
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let ranked = average_ranks(&pooled);
    let r1: f64 = ranked.ranks[..n1].iter().sum();
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let u1 = r1 - n1f * (n1f + 1.0) / 2.0;
    let u2 = n1f * n2f - u1;
    let (u, factor) = match alternative {
        Alternative::Greater => (u1, 1.0),
        Alternative::Less => (u2, 1.0),
        Alternative::TwoSided => (u1.max(u2), 2.0),
    };
    // scipy: exact unless both samples exceed 8 values or anything is tied.
    let exact = !(ranked.has_ties() || (n1 > 8 && n2 > 8));
    let exact_p = if exact {
        exact_u_sf(u.round() as usize, n1.min(n2), n1.max(n2))
    } else {
        None
    };
    let (p, method) = if let Some(p) = exact_p {
        (p, PValueMethod::Exact)
    } else {
        let n = n1f + n2f;
        let mu = n1f * n2f / 2.0;
        let s = (n1f * n2f / 12.0 * ((n + 1.0) - ranked.tie_term() / (n * (n - 1.0)))).sqrt();
        let z = (u - mu - 0.5) / s;
        // s == 0 (every value tied) gives z = -inf and p = 1 after clipping, as scipy.
        let z = if z.is_nan() { f64::NEG_INFINITY } else { z };
        (normal_sf(z), PValueMethod::Asymptotic)
    };
    Ok(RankTest {
        statistic: u1,
        pvalue: (p * factor).clamp(0.0, 1.0),
        method,
    })
}

/// P(U >= k) under the null hypothesis for samples of sizes m <= n without ties.
/// The counts of each U are the coefficients of the Gaussian binomial
/// [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), built exactly in integers.
/// `None` when the counts overflow 128 bits (m = 8 with n beyond about 10^5); the caller
/// then uses the normal approximation, where scipy would still count exactly.
fn exact_u_sf(k: usize, m: usize, n: usize) -> Option<f64> {
    let max_u = m * n;
    let mut counts = vec![0i128; max_u + 1];
    counts[0] = 1;
    for i in 1..=m {
        // Multiply by (1 - q^(n+i)), highest degree first so each term is read unchanged.
        let shift = n + i;
        for d in (shift..=max_u).rev() {
            counts[d] = counts[d].checked_sub(counts[d - shift])?;
        }
        // Divide by (1 - q^i): a running sum with stride i.
        for d in i..=max_u {
            counts[d] = counts[d].checked_add(counts[d - i])?;
        }
    }
    let sum = |c: &[i128]| c.iter().try_fold(0i128, |acc, &v| acc.checked_add(v));
    let total = sum(&counts)?;
    let upper = sum(&counts[k.min(max_u + 1)..])?;
    Some(upper as f64 / total as f64)
}

//! Standard normal tail probabilities, for the asymptotic rank tests.

/// P(Z > z) for a standard normal Z, accurate in the far tails (uses erfc, not 1 - cdf).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// P(Z <= z) for a standard normal Z.
pub fn normal_cdf(z: f64) -> f64 {
    normal_sf(-z)
}

//! Counter-based random numbers.
//!
//! Every random quantity in the simulator is a pure function of the field
//! seed and a position or index: pixel noise is `hash(seed, x, y)` and each
//! source draws from its own stream seeded by `hash(seed, source index)`.
//! That is what makes any rectangle render bit-identically to the same crop of
//! the whole image, on any number of threads.

/// The SplitMix64 finaliser: a bijective 64-bit mixer with full avalanche.
pub(crate) const fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of a seed and two signed counters (pixel coordinates or indices).
pub(crate) fn hash3(seed: u64, a: i64, b: i64) -> u64 {
    mix64(mix64(mix64(seed) ^ a as u64) ^ (b as u64).rotate_left(32))
}

/// Domain separators so that the noise, the catalogue and the artefacts of one
/// seed never share random numbers.
pub(crate) mod stream {
    pub const NOISE: u64 = 0x6E6F_6973_6500_0001;
    pub const SOURCES: u64 = 0x736F_7572_6365_0002;
    pub const ARTEFACTS: u64 = 0x6172_7465_6661_0003;
    pub const STAMPS: u64 = 0x7374_616D_7073_0004;
    pub const SURVEY: u64 = 0x7375_7276_6579_0005;
}

/// Two independent standard normal deviates for the horizontal pixel pair
/// `(2 * pair, y)`, `(2 * pair + 1, y)`, by Marsaglia's polar method: the
/// candidate point comes from the pair's hash and, when it falls outside the
/// unit disc (21% of the time), from re-mixing that hash, so the result
/// stays a function of `(seed, pair, y)` alone and needs no trigonometry.
fn pixel_normal_pair(seed: u64, pair: i64, y: i64) -> [f64; 2] {
    const SCALE: f64 = 1.0 / (1u64 << 31) as f64;
    let mut h = hash3(seed, pair, y);
    loop {
        let u = ((h >> 32) as f64 + 0.5) * SCALE - 1.0;
        let v = ((h & 0xFFFF_FFFF) as f64 + 0.5) * SCALE - 1.0;
        let s = u * u + v * v;
        if s < 1.0 {
            let factor = (-2.0 * s.ln() / s).sqrt();
            return [u * factor, v * factor];
        }
        h = mix64(h);
    }
}

/// Fills `out` with the standard normal deviates of pixels
/// `x_start .. x_start + out.len()` of row `y`.
pub(crate) fn pixel_normals_row(seed: u64, x_start: i64, y: i64, out: &mut [f64]) {
    let x_end = x_start + out.len() as i64;
    let mut pair = x_start.div_euclid(2);
    while 2 * pair < x_end {
        for (k, value) in pixel_normal_pair(seed, pair, y).into_iter().enumerate() {
            let x = 2 * pair + k as i64;
            if x >= x_start && x < x_end {
                out[(x - x_start) as usize] = value;
            }
        }
        pair += 1;
    }
}

/// A sequential generator (SplitMix64) for drawing one source or one stamp.
#[derive(Debug, Clone)]
pub(crate) struct Stream {
    state: u64,
}

impl Stream {
    pub fn new(seed: u64, domain: u64, index: i64) -> Self {
        Self {
            state: hash3(seed ^ domain, index, 0x5EED),
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Log-uniform in [lo, hi) (both positive).
    pub fn log_range(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.uniform()).exp()
    }

    /// A Poisson deviate of mean `mean`: Knuth's product-of-uniforms method on
    /// chunks of mean at most 16 (exact, and O(mean), which is cheap next to
    /// building that many sources).
    pub fn poisson(&mut self, mean: f64) -> usize {
        const CHUNK: f64 = 16.0;
        let mut remaining = mean.max(0.0);
        let mut count = 0;
        while remaining > 0.0 {
            let limit = (-remaining.min(CHUNK)).exp();
            remaining -= CHUNK;
            let mut product = self.uniform();
            while product > limit {
                count += 1;
                product *= self.uniform();
            }
        }
        count
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// A uniform angle in degrees, [0, 360).
    pub fn angle_deg(&mut self) -> f64 {
        self.range(0.0, 360.0)
    }

    /// An index drawn with probability proportional to `weights` (not all zero).
    pub fn weighted_index(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if target < *w {
                return i;
            }
            target -= w;
        }
        weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_normals_have_unit_variance_and_no_neighbour_correlation() {
        let n = 200_000;
        let mut values = vec![0.0; n];
        for (y, row) in values.chunks_mut(1000).enumerate() {
            pixel_normals_row(7, -333, y as i64, row);
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        let lag1 = values.windows(2).map(|w| w[0] * w[1]).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
        assert!(lag1.abs() < 0.01, "lag-1 correlation {lag1}");
        // Gaussian shape: 4th moment 3, 4.55% beyond 2 sigma.
        let kurtosis = values.iter().map(|v| v.powi(4)).sum::<f64>() / n as f64;
        let beyond_two = values.iter().filter(|v| v.abs() > 2.0).count() as f64 / n as f64;
        assert!((kurtosis - 3.0).abs() < 0.05, "kurtosis {kurtosis}");
        assert!(
            (beyond_two - 0.0455).abs() < 0.002,
            "beyond 2 sigma {beyond_two}"
        );
    }

    #[test]
    fn a_row_segment_matches_the_same_pixels_of_a_longer_row() {
        let mut long = vec![0.0; 40];
        let mut short = vec![0.0; 7];
        pixel_normals_row(5, -11, 3, &mut long);
        pixel_normals_row(5, -4, 3, &mut short);
        assert_eq!(&long[7..14], &short[..]);
    }

    #[test]
    fn poisson_mean_and_variance_match() {
        let mut s = Stream::new(1, stream::SOURCES, 0);
        for mean in [0.7, 3.0, 40.0] {
            let draws: Vec<f64> = (0..20_000).map(|_| s.poisson(mean) as f64).collect();
            let m = draws.iter().sum::<f64>() / draws.len() as f64;
            let v = draws.iter().map(|d| (d - m).powi(2)).sum::<f64>() / draws.len() as f64;
            assert!((m - mean).abs() < 0.05 * mean, "mean {m} for {mean}");
            assert!((v - mean).abs() < 0.1 * mean, "variance {v} for {mean}");
        }
    }

    #[test]
    fn weighted_index_follows_weights_and_skips_zeros() {
        let mut s = Stream::new(3, stream::SOURCES, 0);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[s.weighted_index(&[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        let ratio = counts[2] as f64 / counts[0] as f64;
        assert!((ratio - 3.0).abs() < 0.2, "ratio {ratio}");
    }
}

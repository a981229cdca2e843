//! Seeds derived from the protocol seed, so every run's randomness depends only on
//! (seed, configuration, run) and not on the order or thread in which runs execute.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// SplitMix64 finaliser: a bijective mix with good avalanche.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seed for one purpose (`parts`, e.g. a tag, configuration and run) derived from `base`.
pub fn derive_seed(base: u64, parts: &[u64]) -> u64 {
    parts.iter().fold(mix(base), |acc, &p| mix(acc ^ mix(p)))
}

/// A random generator for one purpose.
pub fn rng_for(base: u64, parts: &[u64]) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_seed(base, parts))
}

/// FNV-1a over a list of ids: recognises a saved run made from a different split.
pub fn fingerprint<'a>(ids: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for b in id.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Tags keeping the purposes' random streams apart.
pub mod tag {
    pub const TYPICAL_PARTITION: u64 = 1;
    pub const HALVES: u64 = 2;
    pub const GALLERY_SAMPLE: u64 = 3;
}

//! From cutout pixels to batches: checks, the seeded validation split, the per-epoch
//! order and the training data's identity (SHA-256 of its pixels).
//!
//! Every random choice draws from its own ChaCha stream of the run's seed, so the order
//! of epoch `e` does not depend on how many numbers earlier epochs drew: a resumed run
//! sees the same batches as an uninterrupted one.

use crate::error::{ModelError, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use tch::{Device, Tensor};

/// ChaCha streams of a run's seed, one per purpose.
pub(crate) mod stream {
    pub const WEIGHTS: u64 = 1;
    pub const SPLIT: u64 = 2;
    pub const KMEANS: u64 = 3;
    /// Epoch `e` shuffles with stream `EPOCH_ORDER + e`.
    pub const EPOCH_ORDER: u64 = 1 << 32;
    /// Epoch `e` re-seeds dead codes with stream `RESTARTS + e`.
    pub const RESTARTS: u64 = 2 << 32;
}

pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// SHA-256 of the pixels as little-endian f32, cutout after cutout (what
/// `hashlib.sha256(pixels.astype('<f4').tobytes())` gives in Python).
pub fn pixels_sha256(pixels: &[f32]) -> String {
    let mut hasher = Sha256::new();
    for chunk in pixels.chunks(1 << 14) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
        hasher.update(&bytes);
    }
    hex::encode(hasher.finalize())
}

/// Refuses pixels that are not whole `side` x `side` images or hold NaN or infinity.
pub(crate) fn check_pixels(pixels: &[f32], side: usize) -> Result<usize> {
    let per_image = side * side;
    if !pixels.len().is_multiple_of(per_image) {
        return Err(ModelError::Input(format!(
            "{} pixels are not a whole number of {side}x{side} cutouts",
            pixels.len()
        )));
    }
    if let Some(at) = pixels.iter().position(|v| !v.is_finite()) {
        return Err(ModelError::Input(format!(
            "cutout {} holds a non-finite pixel ({}) at index {}",
            at / per_image,
            pixels[at],
            at % per_image
        )));
    }
    Ok(pixels.len() / per_image)
}

/// Indices of the training and validation cutouts: a seeded shuffle, the first
/// `round(n * fraction)` for validation, both sorted.
pub(crate) fn split(n: usize, validation_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut all: Vec<usize> = (0..n).collect();
    all.shuffle(&mut rng(seed, stream::SPLIT));
    let n_val = ((n as f64) * validation_fraction).round() as usize;
    let mut validation = all[..n_val].to_vec();
    let mut train = all[n_val..].to_vec();
    validation.sort_unstable();
    train.sort_unstable();
    (train, validation)
}

/// The order in which epoch `epoch` (0-based) visits the training cutouts.
pub(crate) fn epoch_order(train: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
    let mut order = train.to_vec();
    order.shuffle(&mut rng(seed, stream::EPOCH_ORDER + epoch as u64));
    order
}

/// Population variance of the chosen cutouts' pixels (computed in f64).
pub(crate) fn pixel_variance(pixels: &[f32], side: usize, indices: &[usize]) -> f64 {
    let per_image = side * side;
    let images = || {
        indices
            .iter()
            .flat_map(|&i| &pixels[i * per_image..(i + 1) * per_image])
    };
    let count = (indices.len() * per_image) as f64;
    let mean = images().map(|&v| v as f64).sum::<f64>() / count;
    images().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / count
}

/// The cutouts at `indices` gathered into one contiguous buffer.
pub(crate) fn gather(pixels: &[f32], side: usize, indices: &[usize]) -> Vec<f32> {
    let per_image = side * side;
    let mut out = Vec::with_capacity(indices.len() * per_image);
    for &i in indices {
        out.extend_from_slice(&pixels[i * per_image..(i + 1) * per_image]);
    }
    out
}

/// Contiguous cutouts as the network's input: `[N, 1, S, S]` on `device`, minus `shift`.
pub(crate) fn images_tensor(
    pixels: &[f32],
    side: usize,
    shift: f32,
    device: Device,
) -> Result<Tensor> {
    let s = side as i64;
    let t = Tensor::f_from_slice(pixels)?
        .f_view([-1, 1, s, s])?
        .f_to_device(device)?;
    Ok(t.f_sub_scalar(shift as f64)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_seeded_disjoint_and_complete() {
        let (train, val) = split(100, 0.1, 7);
        assert_eq!(val.len(), 10);
        let mut all: Vec<usize> = train.iter().chain(&val).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(split(100, 0.1, 7), (train, val.clone()));
        assert_ne!(split(100, 0.1, 8).1, val);
    }

    #[test]
    fn epoch_orders_differ_by_epoch_and_repeat_by_seed() {
        let train: Vec<usize> = (0..50).collect();
        assert_eq!(epoch_order(&train, 1, 3), epoch_order(&train, 1, 3));
        assert_ne!(epoch_order(&train, 1, 3), epoch_order(&train, 1, 4));
    }

    #[test]
    fn non_finite_pixels_and_partial_cutouts_are_named() {
        let err = check_pixels(&[0.0; 5], 2).unwrap_err().to_string();
        assert!(err.contains("5 pixels") && err.contains("2x2"), "{err}");
        let mut pixels = vec![0.0; 8];
        pixels[6] = f32::NAN;
        let err = check_pixels(&pixels, 2).unwrap_err().to_string();
        assert!(err.contains("cutout 1") && err.contains("index 2"), "{err}");
    }

    #[test]
    fn the_pixel_hash_is_sha256_of_little_endian_floats() {
        // Python: hashlib.sha256(struct.pack('<ff', 1.0, 2.0)).hexdigest()
        assert_eq!(
            pixels_sha256(&[1.0, 2.0]),
            "b9c80b5adeca450753a16950c3cc655d271f7bef7a485bc83f112b72fef21d37"
        );
    }
}

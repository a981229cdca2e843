//! Small synthetic radio-like cutouts (single blobs and double-lobed sources) and a tiny
//! model configuration, so that training tests take seconds.

#![allow(dead_code)] // each test file uses its own part of this module

use prospector_cutouts::{CutoutRecord, CutoutSet, Label};
use prospector_model::{Device, ModelCard, Preset, Progress, TrainConfig, TrainOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

pub fn record_labelled(i: usize, label: Label) -> CutoutRecord {
    CutoutRecord {
        source_id: format!("src{i}"),
        image_id: "synthetic".into(),
        name: format!("J0000+{i:04}"),
        ra_deg: 0.0,
        dec_deg: 0.0,
        x: 0.0,
        y: 0.0,
        peak_flux: 1.0,
        total_flux: 1.0,
        island_pixels: 1,
        cutout_side_px: 0,
        label,
    }
}

pub fn record(i: usize) -> CutoutRecord {
    record_labelled(i, Label::Unlabelled)
}

/// Adds an elliptical Gaussian of peak `amp` at (cx, cy) with widths (sx, sy) rotated by `pa`.
fn add_gaussian(
    img: &mut [f32],
    side: usize,
    (cx, cy): (f32, f32),
    (sx, sy): (f32, f32),
    pa: f32,
    amp: f32,
) {
    let (c, s) = (pa.cos(), pa.sin());
    for y in 0..side {
        for x in 0..side {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let (u, v) = (c * dx + s * dy, -s * dx + c * dy);
            img[y * side + x] += amp * (-0.5 * ((u / sx).powi(2) + (v / sy).powi(2))).exp();
        }
    }
}

/// `n` cutouts of `side` x `side`: every third a double (two lobes), the rest single
/// blobs, with noise, min-max normalised to [0, 1] as the source finder does.
pub fn blobs_and_doubles(n: usize, side: usize, seed: u64) -> CutoutSet {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut set = CutoutSet::new(side, "synthetic, min-max to [0,1]");
    let centre = side as f32 / 2.0;
    for i in 0..n {
        let mut img = vec![0f32; side * side];
        let double = i % 3 == 2;
        let width = rng.random_range(0.04..0.10) * side as f32;
        if double {
            let sep = rng.random_range(0.15..0.3) * side as f32;
            let angle: f32 = rng.random_range(0.0..std::f32::consts::PI);
            for sign in [-1.0f32, 1.0] {
                let at = (
                    centre + sign * sep * angle.cos(),
                    centre + sign * sep * angle.sin(),
                );
                add_gaussian(
                    &mut img,
                    side,
                    at,
                    (width, width * 0.7),
                    angle,
                    rng.random_range(0.6..1.0),
                );
            }
        } else {
            let at = (
                centre + rng.random_range(-2.0..2.0),
                centre + rng.random_range(-2.0..2.0),
            );
            let shape = (width * rng.random_range(1.0..2.0), width);
            add_gaussian(&mut img, side, at, shape, rng.random_range(0.0..3.0), 1.0);
        }
        for v in &mut img {
            *v += rng.random_range(-0.03..0.03);
        }
        let (lo, hi) = img
            .iter()
            .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        for v in &mut img {
            *v = (*v - lo) / (hi - lo);
        }
        let label = if double {
            Label::Exotic
        } else {
            Label::Typical
        };
        set.push(record_labelled(i, label), &img)
            .expect("the generator makes whole cutouts");
    }
    set
}

/// Side of the synthetic cutouts the training tests use.
pub const TINY_SIDE: usize = 16;

/// The preset's recipe shrunk to 16x16 cutouts, 16 codes of dimension 8, batch 16.
pub fn tiny_config(preset: Preset, epochs: usize) -> TrainConfig {
    let mut config = TrainConfig::preset(preset);
    config.architecture.side = TINY_SIDE;
    config.architecture.latent_dim = 8;
    config.architecture.num_codes = 16;
    config.batch_size = 16;
    config.epochs = epochs;
    config.validation_fraction = 0.2;
    config.seed = 11;
    if let Some(k) = config.quantiser.kmeans_init.as_mut() {
        k.batches = 2;
    }
    if let Some(steps) = config.quantiser.dead_code_steps.as_mut() {
        *steps = 4;
    }
    config
}

/// Training on the CPU with one libtorch thread: the machine is shared, and the tests
/// already run in parallel with each other.
pub fn cpu(resume: bool) -> TrainOptions {
    TrainOptions {
        device: Device::Cpu,
        resume,
        threads: Some(1),
    }
}

/// Trains quietly.
pub fn train_quietly(set: &CutoutSet, config: &TrainConfig, dir: &Path, resume: bool) -> ModelCard {
    prospector_model::train(set, config, dir, &cpu(resume), &mut |_: &Progress| {})
        .expect("training the synthetic set succeeds")
}

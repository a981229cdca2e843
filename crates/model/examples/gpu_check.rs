//! GPU check (run by `scripts/gpu-check.sh` on a GPU node): picks the device as a
//! service would (CUDA when libtorch's CUDA backend loads and sees a GPU), trains the
//! baseline model for an epoch and scores a large cutout set, printing images per second.
//!
//! ```text
//! gpu_check [--images 100000] [--epochs 1] [--train-images 20080]
//! ```
//!
//! The cutouts are real MiraBest FIRST images (see `support`), repeated to `--images`.
//! It fails (exit status 1) when no CUDA device is found, naming why.

mod support;

use prospector_cutouts::CutoutSet;
use prospector_model::{
    select_device, train, DeviceRequest, Preset, Progress, ScoreOptions, Scorer, TrainConfig,
    TrainOptions,
};
use std::time::Instant;
use support::{mirabest_set, peak_rss_bytes, AnyResult};

fn main() -> AnyResult<()> {
    let mut images = 100_000;
    let mut train_images = 20_080;
    let mut epochs = 1;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let value: usize = it.next().ok_or(format!("{arg} needs a value"))?.parse()?;
        match arg.as_str() {
            "--images" => images = value,
            "--train-images" => train_images = value,
            "--epochs" => epochs = value,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let choice = select_device(DeviceRequest::Auto)?;
    println!("device: {:?} ({})", choice.device, choice.reason);
    if !choice.device.is_cuda() {
        return Err(format!("no CUDA device: {}", choice.reason).into());
    }

    let scratch = tempfile::tempdir()?;
    let (train_dir, score_dir, model_dir) = (
        scratch.path().join("train"),
        scratch.path().join("score"),
        scratch.path().join("model"),
    );
    mirabest_set(train_images)?.write(&train_dir)?;
    mirabest_set(images)?.write(&score_dir)?;

    let start = Instant::now();
    let train_set = CutoutSet::read(&train_dir)?;
    let mut config = TrainConfig::preset(Preset::Baseline);
    config.epochs = epochs;
    let options = TrainOptions {
        device: choice.device,
        resume: false,
        threads: None,
    };
    let mut last = None;
    train(
        &train_set,
        &config,
        &model_dir,
        &options,
        &mut |p: &Progress| {
            if let Progress::Epoch(m) = p {
                last = Some(start.elapsed().as_secs_f64());
                println!(
                    "epoch {}: train loss {:.4}, perplexity {:.2}, usage {:.2}",
                    m.epoch, m.train.loss, m.train.perplexity, m.train.code_usage
                );
            }
        },
    )?;
    let train_s = last.unwrap_or(f64::NAN);
    let trained =
        train_set.len() - (train_set.len() as f64 * config.validation_fraction).round() as usize;
    println!(
        "train: {} cutouts x {epochs} epoch(s) in {train_s:.1} s (read included): {:.0} images/s",
        trained,
        (trained * epochs) as f64 / train_s
    );

    let start = Instant::now();
    let score_set = CutoutSet::read(&score_dir)?;
    let scorer = Scorer::load(&model_dir, choice.device)?;
    let scores = scorer.score_set(&score_set, &ScoreOptions::default())?;
    let score_s = start.elapsed().as_secs_f64();
    println!(
        "score: {} cutouts in {score_s:.1} s (read included, batch {}): {:.0} images/s",
        scores.len(),
        scorer.batch_size(),
        scores.len() as f64 / score_s
    );
    let undefined = scores.iter().filter(|s| !s.ncc_defined).count();
    let mean_ncc = scores.iter().map(|s| s.ncc).sum::<f64>() / scores.len().max(1) as f64;
    println!("mean NCC {mean_ncc:.4}, {undefined} cutouts with undefined NCC");
    println!(
        "peak host RSS: {:.0} MiB",
        peak_rss_bytes() as f64 / 1048576.0
    );
    Ok(())
}

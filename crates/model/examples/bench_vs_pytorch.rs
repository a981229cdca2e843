//! Side-by-side benchmark: Prospector's VQ-VAE (tch) against the same model in Python
//! PyTorch (`crates/model/bench/pytorch_vqvae.py`), on the same libtorch build, the same
//! cutout set read from disk, the same threads, in one run.
//!
//! ```text
//! source scripts/env.sh
//! cargo run --release -p prospector-model --example bench_vs_pytorch -- \
//!     [--images 10040] [--epochs 1] [--rounds 2] [--threads 2] [--repeats 3] [--cutouts DIR]
//! ```
//!
//! Without `--cutouts` it builds a cutout set from the real MiraBest FIRST images in the
//! shared data folder (`$PROSPECTOR_SHARED_DATA`, else `<workspace>/../shared/data`,
//! located by prospector-testdata):
//! the central 128x128 pixels of each 150x150 image, 2x2-binned to 64x64, min-max
//! normalised to [0, 1], in their eight flips and rotations.
//!
//! Each measurement runs in a fresh process (this example with `worker`, and the Python
//! script), so each peak RSS is that implementation's own; rounds alternate which goes
//! first. Both include reading the cutout set in their images per second; scoring is
//! timed best of `--repeats` passes. The Python
//! interpreter is `$PROSPECTOR_BENCH_PYTHON`, else `$PROSPECTOR_CACHE/venv-full/bin/python`
//! (a full `torch==2.13.0` install: the PyPI wheel's Python module needs its CUDA
//! libraries to import, even on a CPU).

mod support;

use prospector_cutouts::CutoutSet;
use prospector_model::{
    set_threads, train, Device, Preset, Progress, ScoreOptions, Scorer, TrainConfig, TrainOptions,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::{mirabest_set, peak_rss_bytes, AnyResult};

#[derive(Debug)]
struct Args {
    worker: bool,
    images: usize,
    epochs: usize,
    rounds: usize,
    threads: usize,
    repeats: usize,
    cutouts: Option<PathBuf>,
}

fn parse_args() -> AnyResult<Args> {
    let mut args = Args {
        worker: false,
        images: 10_040,
        epochs: 1,
        rounds: 2,
        threads: 2,
        repeats: 3,
        cutouts: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "worker" => args.worker = true,
            "--images" => args.images = value()?.parse()?,
            "--epochs" => args.epochs = value()?.parse()?,
            "--rounds" => args.rounds = value()?.parse()?,
            "--threads" => args.threads = value()?.parse()?,
            "--repeats" => args.repeats = value()?.parse()?,
            "--cutouts" => args.cutouts = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    Ok(args)
}

/// The Rust side of one round: read the set, train, score; print one JSON line.
fn worker(args: &Args) -> AnyResult<()> {
    let dir = args.cutouts.as_deref().ok_or("worker needs --cutouts")?;
    set_threads(args.threads);
    let start = Instant::now();
    let set = CutoutSet::read(dir)?;
    let read_s = start.elapsed().as_secs_f64();

    let mut config = TrainConfig::preset(Preset::Baseline);
    config.epochs = args.epochs;
    // The Python loop holds nothing out either.
    config.validation_fraction = 0.0;
    let out = tempfile::tempdir()?;
    let options = TrainOptions {
        device: Device::Cpu,
        resume: false,
        threads: Some(args.threads),
    };
    let start = Instant::now();
    let mut train_s = 0.0;
    train(&set, &config, out.path(), &options, &mut |p: &Progress| {
        if let Progress::Epoch(m) = p {
            train_s = start.elapsed().as_secs_f64();
            eprintln!(
                "  rust epoch {}: loss {:.4}, perplexity {:.2}",
                m.epoch, m.train.loss, m.train.perplexity
            );
        }
    })?;
    // The code histogram and score statistics over the training split: work the Python
    // loop does not do, reported apart.
    let finalise_s = start.elapsed().as_secs_f64() - train_s;

    // Scoring is timed best of `repeats` passes (model loading included): the machine
    // is shared and noisy.
    let mut score_s = f64::INFINITY;
    for _ in 0..args.repeats {
        let start = Instant::now();
        let scorer = Scorer::load(out.path(), Device::Cpu)?;
        let scores = scorer.score_set(&set, &ScoreOptions::default())?;
        score_s = score_s.min(start.elapsed().as_secs_f64());
        assert_eq!(scores.len(), set.len());
    }
    let n = set.len() as f64;
    println!(
        "{}",
        json!({
            "implementation": "prospector-model (Rust, tch 0.26)",
            "images": set.len(),
            "epochs": args.epochs,
            "read_s": read_s,
            "train_s": train_s,
            "finalise_s": finalise_s,
            "score_s": score_s,
            "train_images_per_s": n * args.epochs as f64 / (read_s + train_s),
            "score_images_per_s": n / (read_s + score_s),
            "peak_rss_bytes": peak_rss_bytes(),
        })
    );
    Ok(())
}

fn run_json(command: &mut Command) -> AnyResult<Value> {
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let stdout = String::from_utf8(output.stdout)?;
    let last = stdout.lines().last().ok_or("no output")?;
    Ok(serde_json::from_str(last)?)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn orchestrate(args: &Args) -> AnyResult<()> {
    let scratch = tempfile::tempdir()?;
    let cutouts = match &args.cutouts {
        Some(dir) => dir.clone(),
        None => {
            let dir = scratch.path().join("cutouts");
            mirabest_set(args.images)?.write(&dir)?;
            dir
        }
    };
    let cache = std::env::var("PROSPECTOR_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/prospector",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let python = std::env::var("PROSPECTOR_BENCH_PYTHON")
        .unwrap_or_else(|_| format!("{cache}/venv-full/bin/python"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/pytorch_vqvae.py");
    let me = std::env::current_exe()?;
    let common = |c: &mut Command| {
        c.arg("--cutouts").arg(&cutouts).args([
            "--epochs",
            &args.epochs.to_string(),
            "--threads",
            &args.threads.to_string(),
            "--repeats",
            &args.repeats.to_string(),
        ]);
    };
    println!(
        "cutouts: {} ({} threads, {} epoch(s), batch 256)",
        cutouts.display(),
        args.threads,
        args.epochs
    );
    let mut rows: Vec<(Value, Value)> = Vec::new();
    for round in 0..args.rounds {
        let mut rust = Command::new(&me);
        rust.arg("worker");
        common(&mut rust);
        let mut py = Command::new(&python);
        py.arg(&script);
        common(&mut py);
        let (ours, theirs) = if round % 2 == 0 {
            let ours = run_json(&mut rust)?;
            (ours, run_json(&mut py)?)
        } else {
            let theirs = run_json(&mut py)?;
            (run_json(&mut rust)?, theirs)
        };
        println!("round {}: ours   {ours}", round + 1);
        println!("round {}: python {theirs}", round + 1);
        rows.push((ours, theirs));
    }
    let med = |ours: bool, key: &str| {
        let values = rows.iter().map(|(a, b)| {
            let row = if ours { a } else { b };
            row[key].as_f64().unwrap_or(f64::NAN)
        });
        median(values.collect())
    };
    println!();
    println!(
        "{:<28} {:>14} {:>14} {:>10}",
        "median over rounds", "prospector", "pytorch", "ratio"
    );
    for (key, label, higher_better) in [
        ("train_images_per_s", "train images/s", true),
        ("score_images_per_s", "score images/s", true),
        ("peak_rss_bytes", "peak RSS (MiB)", false),
    ] {
        let scale = if higher_better {
            1.0
        } else {
            1.0 / (1024.0 * 1024.0)
        };
        let (a, b) = (med(true, key) * scale, med(false, key) * scale);
        let note = if higher_better {
            "(ours/theirs, >1 = faster)"
        } else {
            "(ours/theirs, <1 = smaller)"
        };
        println!("{label:<28} {a:>14.1} {b:>14.1} {:>10.3} {note}", a / b);
    }
    Ok(())
}

fn main() -> AnyResult<()> {
    let args = parse_args()?;
    if args.worker {
        worker(&args)
    } else {
        orchestrate(&args)
    }
}

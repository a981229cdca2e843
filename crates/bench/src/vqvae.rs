//! The VQ-VAE against the same model in Python PyTorch (`scripts/pytorch_vqvae.py` beside
//! this crate), on the same libtorch build, the same cutout set read from disk, the same
//! threads. Each round runs both, each in a fresh process (ours: `prospector
//! bench-worker`), alternating which goes first; the ratio is taken round by round, so
//! it holds while the shared machine's speed drifts.
//!
//! The cutouts are the real MiraBest FIRST galaxies, found and cut out by our finder as
//! `prospector mirabest` does, repeated to the number of images asked for.

use crate::child::Measured;
use crate::report::{Cell, Summary, Table};
use crate::{io_error, repeat, BenchError, BenchOptions, Result, Tools, MIB};
use prospector_cutouts::CutoutSet;
use prospector_model::{
    inference_batch_size, set_threads, train, Device, Preset, Progress, ScoreOptions, Scorer,
    TrainConfig, TrainOptions,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What one worker process does.
#[derive(Debug, Clone)]
pub struct WorkerArgs {
    pub cutouts: PathBuf,
    pub epochs: usize,
    pub threads: usize,
    /// Scoring passes; the best is kept (the machine is shared and noisy).
    pub repeats: usize,
}

/// Our side of one round: read the set, train, score; prints one JSON line with the
/// same keys as the Python script's.
pub fn worker(args: &WorkerArgs) -> Result<()> {
    let model_error = |e: prospector_model::ModelError| BenchError::Run(e.to_string());
    set_threads(args.threads);
    let start = Instant::now();
    let set = CutoutSet::read(&args.cutouts).map_err(|e| BenchError::Run(e.to_string()))?;
    let read_s = start.elapsed().as_secs_f64();

    let mut config = TrainConfig::preset(Preset::Baseline);
    config.epochs = args.epochs;
    // The Python loop holds nothing out either.
    config.validation_fraction = 0.0;
    let out = tempfile::tempdir().map_err(io_error("creating a model folder"))?;
    let options = TrainOptions {
        device: Device::Cpu,
        resume: false,
        threads: Some(args.threads),
    };
    let start = Instant::now();
    let mut train_s = 0.0;
    train(&set, &config, out.path(), &options, &mut |p: &Progress| {
        if let Progress::Epoch(_) = p {
            train_s = start.elapsed().as_secs_f64();
        }
    })
    .map_err(model_error)?;
    // The code histogram and score statistics over the training split: work the Python
    // loop does not do, reported apart.
    let finalise_s = start.elapsed().as_secs_f64() - train_s;

    let mut score_s = f64::INFINITY;
    for _ in 0..args.repeats.max(1) {
        let start = Instant::now();
        let scorer = Scorer::load(out.path(), Device::Cpu).map_err(model_error)?;
        let scores = scorer
            .score_set(&set, &ScoreOptions::default())
            .map_err(model_error)?;
        score_s = score_s.min(start.elapsed().as_secs_f64());
        if scores.len() != set.len() {
            return Err(BenchError::Run(format!(
                "scored {} of {} cutouts",
                scores.len(),
                set.len()
            )));
        }
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
        })
    );
    Ok(())
}

/// The table, the cutout set both trained on, and our rates (for the physical limits).
#[derive(Debug)]
pub struct VqResults {
    pub table: Table,
    pub cutouts: PathBuf,
    pub images: usize,
    pub ours_train: Summary,
    pub ours_score: Summary,
}

const EPOCHS: usize = 1;
const SCORE_REPEATS: usize = 2;

/// Writes the cutout set both implementations train on (also the end-to-end runs'
/// training set) under `work`; returns its folder and how many cutouts it holds.
pub fn prepare_cutouts(
    options: &BenchOptions,
    data: &Path,
    work: &Path,
) -> Result<(PathBuf, usize)> {
    let cutouts = work.join("vqvae-cutouts");
    let set = mirabest_cutouts(data, options.vqvae_images)?;
    set.write(&cutouts)
        .map_err(|e| BenchError::Run(format!("writing {}: {e}", cutouts.display())))?;
    Ok((cutouts, set.len()))
}

pub fn run(options: &BenchOptions, tools: &Tools, data: &Path, work: &Path) -> Result<VqResults> {
    let (cutouts, images) = prepare_cutouts(options, data, work)?;
    let shared = |cmd: &mut Command| {
        cmd.arg("--cutouts").arg(&cutouts).args([
            "--epochs",
            &EPOCHS.to_string(),
            "--threads",
            &options.threads.to_string(),
            "--repeats",
            &SCORE_REPEATS.to_string(),
        ]);
    };
    let ours = |_: usize| {
        let mut cmd = tools.prospector();
        cmd.arg("bench-worker");
        shared(&mut cmd);
        cmd
    };
    let theirs = |_: usize| {
        let mut cmd = Command::new(&tools.torch_python);
        cmd.arg(tools.pytorch_script());
        shared(&mut cmd);
        cmd
    };
    // PyTorch scoring only, in our CPU batch size: how much of the scoring ratio is the
    // batch size and how much the kernels.
    let our_batch = inference_batch_size(Device::Cpu);
    let theirs_at_our_batch = |_: usize| {
        let mut cmd = theirs(0);
        cmd.args(["--epochs", "0", "--score-batch", &our_batch.to_string()]);
        cmd
    };
    let mut rounds: Vec<(Round, Round)> = Vec::new();
    let mut theirs_small_batch = Vec::new();
    for round in 0..options.rounds {
        println!("vq-vae: round {} of {}", round + 1, options.rounds);
        let limits = options.our_limits();
        let (a, b) = if round % 2 == 0 {
            let a = repeat(1, &limits, &ours)?;
            (a, repeat(1, &limits, &theirs)?)
        } else {
            let b = repeat(1, &limits, &theirs)?;
            (repeat(1, &limits, &ours)?, b)
        };
        rounds.push((
            Round::parse(&a[0], "prospector")?,
            Round::parse(&b[0], "PyTorch")?,
        ));
        let small = repeat(1, &limits, &theirs_at_our_batch)?;
        theirs_small_batch.push(Round::parse(&small[0], "PyTorch")?.score);
    }
    let of = |f: &dyn Fn(&(Round, Round)) -> f64| {
        Summary::of(&rounds.iter().map(f).collect::<Vec<_>>()).expect("at least one round")
    };
    let mut table = Table::new(
        "VQ-VAE: Prospector (tch) vs Python PyTorch, same libtorch",
        "prospector bench-worker --cutouts SET  vs  python crates/bench/scripts/pytorch_vqvae.py --cutouts SET",
        &["figure", "Prospector", "PyTorch", "Prospector / PyTorch (per round)"],
    );
    let rows: [(&str, &str, usize, RoundFigure); 3] = [
        ("training images/s", "", 1, |r| r.train),
        ("inference (scoring) images/s", "", 1, |r| r.score),
        ("peak RSS", "MiB", 0, |r| r.rss_mib),
    ];
    for (label, unit, decimals, f) in rows {
        table.push(vec![
            Cell::text(label),
            Cell::figure(of(&|r| f(&r.0)), unit, decimals),
            Cell::figure(of(&|r| f(&r.1)), unit, decimals),
            Cell::figure(of(&|r| f(&r.0) / f(&r.1)), "", 2),
        ]);
    }
    let small = Summary::of(&theirs_small_batch).expect("at least one round");
    let ratios: Vec<f64> = rounds
        .iter()
        .zip(&theirs_small_batch)
        .map(|(r, small)| r.0.score / small)
        .collect();
    table.push(vec![
        Cell::text(format!(
            "inference images/s, PyTorch also in batches of {our_batch}"
        )),
        Cell::figure(of(&|r| r.0.score), "", 1),
        Cell::figure(small, "", 1),
        Cell::figure(Summary::of(&ratios).expect("at least one round"), "", 2),
    ]);
    table.note(format!(
        "{} cutouts of 64² (MiraBest FIRST galaxies cut out by our finder, repeated), {EPOCHS} epoch of the baseline recipe at batch 256, {} threads each; {} rounds, A/B order alternating. Scoring batches: ours {our_batch} on CPU (sized to the caches), the PyTorch script 256 as the study's; the last row runs the script's scoring alone in batches of {our_batch}. Ours also runs the decoder's transposed convolutions as ordinary convolutions on CPU (prospector-model's network.rs), which PyTorch code could do too.",
        images,
        options.threads,
        options.rounds
    ));
    table.note(format!("Images/s include reading the cutout set; scoring is the best of {SCORE_REPEATS} passes with model loading, NCC and MSE per cutout. Ours also computes the code histogram and score statistics after training, reported apart and not counted. Ratio > 1: ours faster (for RSS, < 1: ours smaller)."));
    Ok(VqResults {
        table,
        cutouts,
        images,
        ours_train: of(&|r| r.0.train),
        ours_score: of(&|r| r.0.score),
    })
}

/// Picks one figure out of a round.
type RoundFigure = fn(&Round) -> f64;

/// One implementation's figures in one round.
#[derive(Debug, Clone, Copy)]
struct Round {
    train: f64,
    score: f64,
    rss_mib: f64,
}

impl Round {
    fn parse(m: &Measured, who: &str) -> Result<Round> {
        if !m.finished() {
            return Err(BenchError::Run(format!(
                "{who} VQ-VAE run: {:?}",
                m.outcome
            )));
        }
        let line = m.stdout.lines().last().unwrap_or_default();
        let v: Value = serde_json::from_str(line)
            .map_err(|e| BenchError::Run(format!("{who} printed `{line}`: {e}")))?;
        let get = |k: &str| {
            v[k].as_f64()
                .ok_or_else(|| BenchError::Run(format!("{who} printed no `{k}`: {line}")))
        };
        Ok(Round {
            train: get("train_images_per_s")?,
            score: get("score_images_per_s")?,
            rss_mib: m.peak_rss_bytes as f64 / MIB,
        })
    }
}

/// `n` cutouts cycling through the MiraBest galaxies (labelled and unlabelled pooled).
fn mirabest_cutouts(data: &Path, n: usize) -> Result<CutoutSet> {
    println!("vq-vae: cutting out the MiraBest galaxies");
    let sets = prospector_protocol::mirabest_sets(
        &data.join("mirabest"),
        &prospector_sources::FinderConfig::default(),
    )
    .map_err(|e| BenchError::Setup(e.to_string()))?;
    let mut pool = sets.labelled;
    pool.extend(&sets.unlabelled)
        .map_err(|e| BenchError::Run(e.to_string()))?;
    if pool.is_empty() {
        return Err(BenchError::Setup(
            "no MiraBest galaxy could be cut out".into(),
        ));
    }
    let indices: Vec<usize> = (0..n).map(|i| i % pool.len()).collect();
    Ok(pool.select(&indices))
}

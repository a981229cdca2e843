//! `prospector bench --out DIR`: every speed and memory figure, side by side with PyBDSF
//! and Python PyTorch on this machine, as `DIR/bench.md` and `DIR/bench.json`
//! (prospector-bench). `prospector bench-worker` is the model side of one of its rounds.

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use anyhow::Context;
use clap::Args;
use prospector_bench::report::Report;
use prospector_bench::vqvae::WorkerArgs;
use prospector_bench::{BenchError, BenchOptions, Sections, Tools};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Folder for bench.md and bench.json.
    #[arg(long)]
    out: PathBuf,
    /// About 8 minutes instead of about 45: small images and fields, fewer rounds.
    #[arg(long)]
    quick: bool,
    /// Runs of each measurement (default 3, quick 2).
    #[arg(long)]
    runs: Option<usize>,
    /// A/B rounds of the VQ-VAE comparison (default 4, quick 2).
    #[arg(long)]
    rounds: Option<usize>,
    /// Wall-clock cap of one PyBDSF run, in seconds (default 480, quick 120).
    #[arg(long)]
    pybdsf_cap: Option<u64>,
    /// Memory guard of every measured process, in GiB: it is stopped and reported past it.
    #[arg(long, default_value_t = 10)]
    memory_cap_gib: u64,
    /// Scratch folder for simulated fields and outputs (default: a temporary folder;
    /// the 16k field needs about 3 GB).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Run only these sections, comma-separated: `finder` (against PyBDSF, cost against
    /// image side), `model` (the VQ-VAE against PyTorch), `end-to-end` (embedded,
    /// distributed and sustained-load runs). The physical-limit table needs both `finder`
    /// and `model`.
    #[arg(long, value_parser = Sections::parse)]
    only: Option<Sections>,
    /// The shared real data (fullfield/ and mirabest/).
    #[arg(long, env = "PROSPECTOR_SHARED_DATA")]
    data: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchWorkerArgs {
    #[arg(long)]
    cutouts: PathBuf,
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    #[arg(long, default_value_t = 2)]
    threads: usize,
    #[arg(long, default_value_t = 2)]
    repeats: usize,
}

pub fn run(args: BenchArgs) -> Result<(), CliError> {
    let mut options = if args.quick {
        BenchOptions::quick(&args.data)
    } else {
        BenchOptions::full(&args.data)
    };
    options.runs = args.runs.unwrap_or(options.runs).max(1);
    options.rounds = args.rounds.unwrap_or(options.rounds).max(1);
    if let Some(cap) = args.pybdsf_cap {
        options.pybdsf_cap = Duration::from_secs(cap);
    }
    options.memory_cap_bytes = args.memory_cap_gib << 30;
    options.sections = args.only.unwrap_or(Sections::ALL);
    let me = std::env::current_exe().or_exit(Exit::Internal)?;
    let tools = Tools::locate(me).or_exit(Exit::BadInput)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))
        .or_exit(Exit::Output)?;
    let scratch = tempfile::tempdir().or_exit(Exit::Output)?;
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| scratch.path().to_path_buf());
    std::fs::create_dir_all(&work)
        .with_context(|| format!("creating {}", work.display()))
        .or_exit(Exit::Output)?;
    let md = args.out.join("bench.md");
    let json = args.out.join("bench.json");
    // Written after each section: a long run stopped early still leaves its figures.
    let mut save = |report: &Report| -> prospector_bench::Result<()> {
        let text = serde_json::to_string_pretty(&report.json())
            .map_err(|e| BenchError::Run(format!("encoding the report: {e}")))?;
        for (path, contents) in [(&md, report.markdown()), (&json, text)] {
            std::fs::write(path, contents).map_err(|source| BenchError::Io {
                what: format!("writing {}", path.display()),
                source,
            })?;
        }
        Ok(())
    };
    let report = prospector_bench::run(&options, &tools, &args.data, &work, &mut save)
        .or_exit(Exit::Internal)?;
    println!("{}", report.markdown());
    println!("wrote {} and {}", md.display(), json.display());
    Ok(())
}

pub fn worker(args: BenchWorkerArgs) -> Result<(), CliError> {
    prospector_bench::vqvae::worker(&WorkerArgs {
        cutouts: args.cutouts,
        epochs: args.epochs,
        threads: args.threads,
        repeats: args.repeats,
    })
    .or_exit(Exit::Internal)
}

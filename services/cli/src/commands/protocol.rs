//! `prospector protocol`: the study's evaluation (configurations A/B/C, 35 runs each,
//! ROC/AUC, F1/F2 on held-out halves, Mann-Whitney U, t-SNE/UMAP, galleries), with a
//! fresh VQ-VAE trained per run, and `prospector mirabest`, which makes the labelled
//! FIRST data set it runs on.

use crate::commands::find::FinderArgs;
use crate::commands::train::PresetArg;
use crate::exit::{Exit, ExitContext};
use crate::CliError;
use anyhow::Context;
use clap::Args;
use prospector_cutouts::CutoutSet;
use prospector_eval::protocol::{
    run_protocol, summarize, write_summary, Configuration, ProtocolSettings, RunContext, NCC,
};
use prospector_eval::report::{build_report, write_report, ReportSettings};
use prospector_model::{select_device, DeviceRequest, TrainConfig};
use prospector_protocol::{
    dataset_from_sets, mirabest_sets, CutoutPool, VqVaeFactory, CODE_RARITY,
};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ProtocolArgs {
    /// A, B, C or all.
    #[arg(long, default_value = "all")]
    config: String,
    /// Runs per configuration (the study: 35).
    #[arg(long, default_value_t = 35)]
    runs: usize,
    /// Labelled cutout set (labels typical / exotic).
    #[arg(long)]
    labelled: PathBuf,
    /// Unlabelled cutout set (the training pool of B and C).
    #[arg(long)]
    unlabelled: PathBuf,
    /// Report folder: runs/*.json (resumable), summary, report.html, models/.
    #[arg(long)]
    out: PathBuf,
    /// Epochs per training (the study: 50).
    #[arg(long)]
    epochs: Option<usize>,
    /// Model recipe.
    #[arg(long, value_enum, default_value_t = PresetArg::Baseline)]
    preset: PresetArg,
    /// Runs trained at once (each its own model; memory grows with it).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Seed of the splits and of every run's model.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// auto (CUDA when available), cpu, or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
}

pub fn run(args: ProtocolArgs) -> Result<(), CliError> {
    let configurations = if args.config.eq_ignore_ascii_case("all") {
        Configuration::ALL.to_vec()
    } else {
        vec![Configuration::parse(&args.config).or_exit(Exit::BadInput)?]
    };
    let labelled = CutoutSet::read(&args.labelled).or_exit(Exit::BadInput)?;
    let unlabelled = CutoutSet::read(&args.unlabelled).or_exit(Exit::BadInput)?;
    let dataset = dataset_from_sets(&labelled, &unlabelled).or_exit(Exit::BadInput)?;
    let pool = CutoutPool::new(&[&labelled, &unlabelled]).or_exit(Exit::BadInput)?;
    let mut config = TrainConfig::preset(args.preset.into());
    config.architecture.side = labelled.side();
    if let Some(epochs) = args.epochs {
        config.epochs = epochs;
    }
    let request: DeviceRequest = args.device.parse().or_exit(Exit::BadInput)?;
    let device = select_device(request).or_exit(Exit::BadInput)?;
    eprintln!("{}", device.reason);
    let factory = VqVaeFactory {
        pool: Arc::new(pool),
        config,
        device: device.device,
        models_dir: args.out.join("models"),
    };
    let settings = ProtocolSettings {
        configurations,
        runs: args.runs,
        seed: args.seed,
        jobs: args.jobs,
        combine: vec![NCC.to_string(), CODE_RARITY.to_string()],
        ..ProtocolSettings::default()
    };
    let make = |run: &RunContext| factory.create_scorer(run);
    let results = run_protocol(&dataset, &settings, &make, &args.out).or_exit(Exit::Internal)?;
    let summary = summarize(&results, NCC).or_exit(Exit::Internal)?;
    write_summary(&summary, &args.out).or_exit(Exit::Output)?;
    let report =
        build_report(&results, &summary, &ReportSettings::default()).or_exit(Exit::Internal)?;
    let page = args.out.join("report.html");
    write_report(&report, &page).or_exit(Exit::Output)?;
    for c in &summary.configs {
        for (name, s) in &c.scores {
            println!(
                "{} {:<22} AUC {:.3} ± {:.3}  F1 {:.3}  F2 {:.3}  typical removed at {:.0}% exotic kept {:.3}",
                c.config,
                name,
                s.auc.mean,
                s.auc.std,
                s.f1.mean,
                s.f2.mean,
                100.0 * s.keep_exotic,
                s.typical_removed.mean
            );
        }
    }
    println!("report: {}", page.display());
    Ok(())
}

#[derive(Debug, Args)]
pub struct MiraBestArgs {
    /// The MiraBest folder (manifest_all_1256.csv and fits150/).
    #[arg(long, env = "PROSPECTOR_SHARED_DATA", value_parser = mirabest_dir)]
    data: PathBuf,
    /// Output folder: labelled/ (confident classifications) and unlabelled/ (uncertain ones).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    finder: FinderArgs,
}

fn mirabest_dir(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    Ok(if path.join("mirabest").is_dir() {
        path.join("mirabest")
    } else {
        path
    })
}

pub fn mirabest(args: MiraBestArgs) -> Result<(), CliError> {
    let sets = mirabest_sets(&args.data, &args.finder.finder_config()).or_exit(Exit::BadInput)?;
    for (name, set) in [
        ("labelled", &sets.labelled),
        ("unlabelled", &sets.unlabelled),
    ] {
        let dir = args.out.join(name);
        set.write(&dir)
            .with_context(|| format!("writing {}", dir.display()))
            .or_exit(Exit::Output)?;
    }
    let exotic = sets
        .labelled
        .records()
        .iter()
        .filter(|r| r.label == prospector_cutouts::Label::Exotic)
        .count();
    println!(
        "{} labelled ({} exotic) and {} unlabelled galaxies written to {}; {} skipped",
        sets.labelled.len(),
        exotic,
        sets.unlabelled.len(),
        args.out.display(),
        sets.skipped.len()
    );
    for (file, why) in &sets.skipped {
        println!("  skipped {file}: {why}");
    }
    Ok(())
}

//! `prospector protocol`: the study's evaluation (configurations A/B/C, 35 runs each,
//! ROC/AUC, F1/F2 on held-out halves, Mann-Whitney U, t-SNE/UMAP, galleries), with a
//! fresh VQ-VAE trained per run, and the two data sets it runs on: `prospector mirabest`
//! (the labelled FIRST galaxies) and `prospector survey-dataset` (a simulated survey).

use crate::commands::find::FinderArgs;
use crate::commands::train::PresetArg;
use crate::exit::{Exit, ExitContext};
use crate::CliError;
use anyhow::Context;
use clap::Args;
use prospector_cutouts::CutoutSet;
use prospector_eval::protocol::{
    compare_summaries, read_summary, run_protocol, summarize, write_summary, Configuration,
    ProtocolSettings, RunContext, NCC,
};
use prospector_eval::report::{build_report, write_report, ReportSettings};
use prospector_model::{select_device, DeviceRequest, TrainConfig};
use prospector_protocol::{
    dataset_from_sets, mirabest_sets, simulated_survey_sets, write_matches_csv, CutoutPool,
    SetName, SurveyDatasetConfig, VqVaeFactory, MIN_FLUX_SHARE,
};
use prospector_skysim::FieldConfig;
use std::path::{Path, PathBuf};
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
    /// Scores fused into the `combined` score by mean normalised rank, comma-separated:
    /// the model's (ncc, mse, code_rarity) or the trivial baselines'
    /// (baseline_island_size, baseline_peak_flux, baseline_integrated_flux; larger counts
    /// as more anomalous). Changing it on a finished report folder re-derives the saved
    /// runs without retraining. The default fuses what the model sees (morphology: each
    /// cutout is resized from its island) with what it cannot (the island's extent); it
    /// beat NCC alone on both data sets (README), while code rarity ranked backwards.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "ncc,baseline_island_size"
    )]
    combine: Vec<String>,
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
        combine: args.combine,
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
pub struct CompareArgs {
    /// Report folder of the first protocol run (its summary.json is read).
    first: PathBuf,
    /// Report folder of the second, run with the same seed, so on the same splits.
    second: PathBuf,
    /// Score to compare.
    #[arg(long, default_value = NCC)]
    score: String,
}

pub fn compare(args: CompareArgs) -> Result<(), CliError> {
    let first = read_summary(&args.first).or_exit(Exit::BadInput)?;
    let second = read_summary(&args.second).or_exit(Exit::BadInput)?;
    let comparisons = compare_summaries(&first, &second, &args.score).or_exit(Exit::BadInput)?;
    println!(
        "first: {}; second: {}; Mann-Whitney U (two-sided) over runs",
        args.first.display(),
        args.second.display()
    );
    for c in comparisons {
        println!(
            "{} {} {:<16} first {:.3} ± {:.3} ({} runs)  second {:.3} ± {:.3} ({} runs)  U = {:.1}  p = {:.3}",
            c.config,
            c.score,
            c.measure,
            c.first.mean,
            c.first.std,
            c.first.values.len(),
            c.second.mean,
            c.second.std,
            c.second.values.len(),
            c.test.statistic,
            c.test.pvalue
        );
    }
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
    write_sets(&sets.labelled, &sets.unlabelled, &args.out)?;
    println!(
        "{} labelled ({} exotic) and {} unlabelled galaxies written to {}; {} skipped",
        sets.labelled.len(),
        exotic_count(&sets.labelled),
        sets.unlabelled.len(),
        args.out.display(),
        sets.skipped.len()
    );
    for (file, why) in &sets.skipped {
        println!("  skipped {file}: {why}");
    }
    Ok(())
}

/// Writes `labelled/` and `unlabelled/` under `out`, the folders `protocol` reads.
fn write_sets(labelled: &CutoutSet, unlabelled: &CutoutSet, out: &Path) -> Result<(), CliError> {
    for (name, set) in [("labelled", labelled), ("unlabelled", unlabelled)] {
        let dir = out.join(name);
        set.write(&dir)
            .with_context(|| format!("writing {}", dir.display()))
            .or_exit(Exit::Output)?;
    }
    Ok(())
}

fn exotic_count(set: &CutoutSet) -> usize {
    set.records()
        .iter()
        .filter(|r| r.label == prospector_cutouts::Label::Exotic)
        .count()
}

#[derive(Debug, Args)]
pub struct SurveyDatasetArgs {
    /// Output folder: labelled/, unlabelled/ and matches.csv (every island's truth match).
    #[arg(long)]
    out: PathBuf,
    /// Sources in the labelled set (the study: about 2,100).
    #[arg(long, default_value_t = 2100)]
    labelled: usize,
    /// Sources in the unlabelled pool (the study: about 14,000).
    #[arg(long, default_value_t = 14_000)]
    unlabelled: usize,
    /// Exotic share of the labelled set, and the most the pool may hold (the study: 0.028).
    #[arg(long, default_value_t = 0.028)]
    exotic_fraction: f64,
    /// Side of each simulated field in pixels.
    #[arg(long, default_value_t = 2048)]
    size: usize,
    /// Flux floor (Jy) of extended and exotic sources, so that they stay visible.
    #[arg(long, default_value_t = 1e-3)]
    complex_min_flux: f64,
    /// Give up after this many fields.
    #[arg(long, default_value_t = 64)]
    max_fields: usize,
    /// Seed of the fields and of the selection: the same seed gives the same sets.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    finder: FinderArgs,
}

pub fn survey_dataset(args: SurveyDatasetArgs) -> Result<(), CliError> {
    let config = SurveyDatasetConfig {
        field: FieldConfig {
            width: args.size,
            height: args.size,
            complex_min_flux_jy: Some(args.complex_min_flux),
            ..FieldConfig::default()
        },
        seed: args.seed,
        labelled: args.labelled,
        exotic_fraction: args.exotic_fraction,
        unlabelled: args.unlabelled,
        max_fields: args.max_fields,
    };
    let data =
        simulated_survey_sets(&config, &args.finder.finder_config()).or_exit(Exit::BadInput)?;
    write_sets(&data.labelled, &data.unlabelled, &args.out)?;
    let matches = args.out.join("matches.csv");
    write_matches_csv(&data.islands, &matches).or_exit(Exit::Output)?;
    let matched = data.islands.iter().filter(|i| i.truth.is_some()).count();
    let pool_exotic = data
        .islands
        .iter()
        .filter(|i| i.set == Some(SetName::Unlabelled) && i.truth.is_some_and(|t| t.exotic))
        .count();
    println!(
        "{} fields, {} islands ({} matched to a truth source holding >= {:.0}% of the island's flux)",
        data.fields,
        data.islands.len(),
        matched,
        100.0 * MIN_FLUX_SHARE
    );
    println!(
        "{} labelled ({} exotic) and {} unlabelled ({} exotic, {} more exotic withheld) written to {}; matches in {}; {} islands not cut out",
        data.labelled.len(),
        exotic_count(&data.labelled),
        data.unlabelled.len(),
        pool_exotic,
        data.withheld_exotic,
        args.out.display(),
        matches.display(),
        data.skipped.len()
    );
    Ok(())
}

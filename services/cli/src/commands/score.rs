//! `prospector score`: score a cutout set with a trained model.

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use anyhow::Context;
use clap::{Args, ValueEnum};
use prospector_cutouts::CutoutSet;
use prospector_model::{select_device, AnomalyMeasure, DeviceRequest, ScoreOptions, Scorer};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The model folder written by `prospector train`.
    #[arg(long)]
    model: PathBuf,
    /// A cutout set folder.
    #[arg(long)]
    cutouts: PathBuf,
    /// The scores CSV to write, one row per cutout, most anomalous first.
    #[arg(long)]
    out: PathBuf,
    /// Which score ranks the sources (every score is written either way).
    #[arg(long, value_enum, default_value_t = RankBy::Ncc)]
    rank_by: RankBy,
    /// auto (CUDA when available), cpu, or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RankBy {
    /// 1 - NCC, the study's score.
    Ncc,
    Mse,
    /// Mean negative log frequency of the codes used, under the training data's usage.
    Rarity,
    /// z-scored (1 - NCC) plus z-scored rarity.
    Combined,
}

pub fn run(args: ScoreArgs) -> Result<(), CliError> {
    let request: DeviceRequest = args.device.parse().or_exit(Exit::BadInput)?;
    let device = select_device(request).or_exit(Exit::BadInput)?;
    eprintln!("{}", device.reason);
    let scorer = Scorer::load(&args.model, device.device).or_exit(Exit::BadInput)?;
    let set = CutoutSet::read(&args.cutouts).or_exit(Exit::BadInput)?;
    let options = ScoreOptions {
        reconstructions: false,
        anomaly: match args.rank_by {
            RankBy::Ncc => AnomalyMeasure::OneMinusNcc,
            RankBy::Mse => AnomalyMeasure::Mse,
            RankBy::Rarity => AnomalyMeasure::Rarity,
            RankBy::Combined => AnomalyMeasure::Combined,
        },
    };
    let scores = scorer.score_set(&set, &options).or_exit(Exit::BadInput)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].anomaly.total_cmp(&scores[a].anomaly));
    write_scores(&args, &set, &scores, &order, scorer.version_id())
        .with_context(|| format!("writing {}", args.out.display()))
        .or_exit(Exit::Output)?;
    println!(
        "{} cutouts scored by model {}, written to {}",
        scores.len(),
        scorer.version_id(),
        args.out.display()
    );
    Ok(())
}

fn write_scores(
    args: &ScoreArgs,
    set: &CutoutSet,
    scores: &[prospector_model::SourceScore],
    order: &[usize],
    version: &str,
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_path(&args.out)?;
    out.write_record([
        "Rank",
        "Source_id",
        "Name",
        "RA",
        "DEC",
        "Peak_flux",
        "Total_flux",
        "Isl_npix",
        "NCC",
        "MSE",
        "Code_rarity",
        "Combined",
        "Anomaly",
        "Label",
        "Model_version",
        "Code_form",
    ])?;
    for (rank, &i) in order.iter().enumerate() {
        let (record, score) = (&set.records()[i], &scores[i]);
        let codes: Vec<String> = score.codes.iter().map(u16::to_string).collect();
        out.write_record([
            (rank + 1).to_string(),
            record.source_id.clone(),
            record.name.clone(),
            format!("{:.7}", record.ra_deg),
            format!("{:.7}", record.dec_deg),
            format!("{:.6e}", record.peak_flux),
            format!("{:.6e}", record.total_flux),
            record.island_pixels.to_string(),
            format!("{:.6}", score.ncc),
            format!("{:.6e}", score.mse),
            format!("{:.6}", score.rarity),
            format!("{:.6}", score.combined),
            format!("{:.6}", score.anomaly),
            format!("{:?}", record.label).to_lowercase(),
            version.to_string(),
            codes.join(" "),
        ])?;
    }
    out.flush()?;
    Ok(())
}

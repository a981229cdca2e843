//! `prospector simulate`: MeerKAT-like survey fields with truth catalogues.

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use anyhow::Context;
use clap::Args;
use prospector_skysim::{simulate_to_fits, survey_fields, FieldConfig, DEFAULT_BLOCK_ROWS};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Folder for the images (`field-NNN.fits`) and truth catalogues (`field-NNN.truth.csv`).
    #[arg(long)]
    out: PathBuf,
    /// Number of fields (distinct seeds, adjacent on the sky).
    #[arg(long, default_value_t = 1)]
    fields: usize,
    /// Image side in pixels (square); overrides the config file's width and height.
    #[arg(long)]
    size: Option<usize>,
    /// Seed of the survey: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction of exotic sources (default 0.028, the MGCLS study's).
    #[arg(long)]
    exotic_fraction: Option<f64>,
    /// Flux floor (Jy) for extended and exotic sources, so that they stay visible above the noise.
    #[arg(long)]
    complex_min_flux: Option<f64>,
    /// A JSON file holding a field configuration (every field optional; defaults documented in prospector-skysim).
    #[arg(long)]
    config: Option<PathBuf>,
}

pub fn run(args: SimulateArgs) -> Result<(), CliError> {
    let mut base = match &args.config {
        Some(path) => read_config(path).or_exit(Exit::BadInput)?,
        None => FieldConfig::default(),
    };
    if let Some(size) = args.size {
        base.width = size;
        base.height = size;
    }
    if let Some(fraction) = args.exotic_fraction {
        base.exotic_fraction = fraction;
    }
    if args.complex_min_flux.is_some() {
        base.complex_min_flux_jy = args.complex_min_flux;
    }
    base.validate().or_exit(Exit::BadInput)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))
        .or_exit(Exit::Output)?;
    for (index, config) in survey_fields(&base, args.fields, args.seed)
        .into_iter()
        .enumerate()
    {
        let image = args.out.join(format!("field-{index:03}.fits"));
        let truth = args.out.join(format!("field-{index:03}.truth.csv"));
        let field =
            simulate_to_fits(config, &image, &truth, DEFAULT_BLOCK_ROWS).or_exit(Exit::Output)?;
        let exotic = field.truth().iter().filter(|s| s.exotic).count();
        println!(
            "{}: {} sources ({} exotic), truth in {}",
            image.display(),
            field.truth().len(),
            exotic,
            truth.display()
        );
    }
    Ok(())
}

fn read_config(path: &Path) -> anyhow::Result<FieldConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a field configuration", path.display()))
}

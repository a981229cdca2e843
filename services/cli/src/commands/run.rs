//! `prospector run`: the embedded pipeline (the services' stages over an in-process
//! bus) on a folder of images, writing ranked catalogues. With no images it simulates a
//! small survey; with no model it trains a quick demo model on the images' sources.

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use anyhow::{anyhow, Context};
use clap::Args;
use prospector_cutouts::CutoutSet;
use prospector_model::{train, Device, ScoreOptions, Scorer, TrainConfig, TrainOptions};
use prospector_ranking::{AnomalyQuery, Catalogue, ImageState};
use prospector_skysim::{simulate_to_fits, survey_fields, FieldConfig, DEFAULT_BLOCK_ROWS};
use prospector_sources::{find_sources, CutoutOutput, FindOptions, FinderConfig};
use prospector_stages::{run_embedded, Submitted, VqVaeModel};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// FITS images to process (none: simulate a small survey into OUT/images).
    images: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// A trained model folder (none: train a quick demo model into OUT/model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Epochs of the demo model's training.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Cutouts per model forward pass.
    #[arg(long, default_value_t = 64)]
    batch: usize,
}

/// Simulated survey: three 1536-pixel fields, exotic sources bright enough to see.
const SIMULATED_FIELDS: usize = 3;
const SIMULATED_SIDE: usize = 1536;

pub fn run(args: RunArgs) -> Result<(), CliError> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))
        .or_exit(Exit::Output)?;
    let images = if args.images.is_empty() {
        simulate(&args.out.join("images"))?
    } else {
        args.images.clone()
    };
    let model_dir = match &args.model {
        Some(dir) => dir.clone(),
        None => train_demo_model(&images, &args.out, args.epochs)?,
    };
    let scorer = Scorer::load(&model_dir, Device::Cpu)
        .with_context(|| format!("loading the model in {}", model_dir.display()))
        .or_exit(Exit::BadInput)?;
    let model = VqVaeModel::new(scorer, ScoreOptions::default());
    let runtime = tokio::runtime::Runtime::new().or_exit(Exit::Internal)?;
    let (catalogue, submitted) = runtime
        .block_on(run_embedded(
            &images,
            FinderConfig::default(),
            model,
            args.batch,
        ))
        .or_exit(Exit::BadInput)?;
    write_outputs(&catalogue, &submitted, &args.out)?;
    report(&catalogue, &submitted, &args.out);
    if submitted.iter().any(|s| {
        catalogue
            .image(&s.image_id)
            .is_none_or(|p| p.state() != ImageState::Complete)
    }) {
        return Err(CliError::new(
            Exit::BadInput,
            anyhow!("some images failed (see above)"),
        ));
    }
    Ok(())
}

fn simulate(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating {}", dir.display()))
        .or_exit(Exit::Output)?;
    let base = FieldConfig {
        width: SIMULATED_SIDE,
        height: SIMULATED_SIDE,
        complex_min_flux_jy: Some(1e-3),
        ..FieldConfig::default()
    };
    let mut images = Vec::new();
    for (i, field) in survey_fields(&base, SIMULATED_FIELDS, 1)
        .into_iter()
        .enumerate()
    {
        let image = dir.join(format!("field-{i}.fits"));
        let truth = dir.join(format!("field-{i}.truth.csv"));
        simulate_to_fits(field, &image, &truth, DEFAULT_BLOCK_ROWS)
            .with_context(|| format!("simulating {}", image.display()))
            .or_exit(Exit::Output)?;
        println!("simulated {} (truth: {})", image.display(), truth.display());
        images.push(image);
    }
    Ok(images)
}

/// Finds the sources of every image, pools their cutouts and trains briefly.
fn train_demo_model(images: &[PathBuf], out: &Path, epochs: usize) -> Result<PathBuf, CliError> {
    println!(
        "no --model: training a quick demo model ({epochs} epochs); train a real one for science"
    );
    let options = FindOptions {
        cutouts: CutoutOutput::SetOnly,
        ..FindOptions::default()
    };
    let mut pooled: Option<CutoutSet> = None;
    for (i, image) in images.iter().enumerate() {
        let dir = out.join("training").join(format!("image-{i}"));
        let summary = find_sources(image, &options, &dir)
            .with_context(|| format!("finding sources in {}", image.display()))
            .or_exit(Exit::BadInput)?;
        let set = CutoutSet::read(
            &summary
                .out_dir
                .join(prospector_sources::pipeline::CUTOUTS_DIR),
        )
        .or_exit(Exit::Internal)?;
        match pooled.as_mut() {
            Some(all) => all.extend(&set).or_exit(Exit::Internal)?,
            None => pooled = Some(set),
        }
    }
    let set =
        pooled.ok_or_else(|| CliError::new(Exit::BadInput, anyhow!("no images to train on")))?;
    let config = TrainConfig {
        epochs,
        ..TrainConfig::default()
    };
    let dir = out.join("model");
    let options = TrainOptions {
        device: Device::Cpu,
        resume: false,
        threads: None,
    };
    let card = train(&set, &config, &dir, &options, &mut |_| {})
        .with_context(|| format!("training on {} cutouts", set.len()))
        .or_exit(Exit::Internal)?;
    println!(
        "trained model {} on {} cutouts into {}",
        card.version_id,
        set.len(),
        dir.display()
    );
    Ok(dir)
}

fn write_outputs(
    catalogue: &Catalogue,
    submitted: &[Submitted],
    out: &Path,
) -> Result<(), CliError> {
    let dir = out.join("catalogues");
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating {}", dir.display()))
        .or_exit(Exit::Output)?;
    for image in submitted {
        let stem = image.path.file_stem().unwrap_or_default().to_string_lossy();
        let path = dir.join(format!("{stem}.csv"));
        let file = std::fs::File::create(&path)
            .with_context(|| format!("writing {}", path.display()))
            .or_exit(Exit::Output)?;
        catalogue
            .write_image_csv(&image.image_id, file)
            .with_context(|| format!("writing {}", path.display()))
            .or_exit(Exit::Output)?;
    }
    let path = out.join("anomalies.csv");
    let write = || -> anyhow::Result<()> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        writeln!(file, "rank,source_id,name,ra_deg,dec_deg,anomaly,image")?;
        let query = AnomalyQuery {
            limit: usize::MAX,
            ..AnomalyQuery::default()
        };
        for entry in catalogue.query(&query).0 {
            let s = entry.score;
            let sky = s.sky.unwrap_or_default();
            let image = submitted
                .iter()
                .find(|i| i.image_id == s.image_id)
                .map(|i| i.path.display().to_string())
                .unwrap_or_default();
            let anomaly = s.scores.map(|x| x.anomaly).unwrap_or(f64::NAN);
            writeln!(
                file,
                "{},{},{},{:.7},{:.7},{:.6},{}",
                entry.rank, s.source_id, s.name, sky.ra_deg, sky.dec_deg, anomaly, image
            )?;
        }
        file.flush()?;
        Ok(())
    };
    write()
        .with_context(|| format!("writing {}", path.display()))
        .or_exit(Exit::Output)
}

fn report(catalogue: &Catalogue, submitted: &[Submitted], out: &Path) {
    for image in submitted {
        match catalogue.image(&image.image_id) {
            Some(p) if p.state() == ImageState::Failed => println!(
                "FAILED {}: {}",
                image.path.display(),
                p.failure().unwrap_or("unknown reason")
            ),
            Some(p) => println!(
                "{}: {} sources scored",
                image.path.display(),
                p.sources_scored()
            ),
            None => println!("{}: never started", image.path.display()),
        }
    }
    let query = AnomalyQuery {
        limit: 10,
        ..AnomalyQuery::default()
    };
    println!("top anomalies:");
    for entry in catalogue.query(&query).0 {
        let s = entry.score;
        let anomaly = s.scores.map(|x| x.anomaly).unwrap_or(f64::NAN);
        println!(
            "  {:>3}  {:<14} {:.4}  {}",
            entry.rank, s.name, anomaly, s.source_id
        );
    }
    println!(
        "wrote {} (per-image catalogues in {})",
        out.join("anomalies.csv").display(),
        out.join("catalogues").display()
    );
}

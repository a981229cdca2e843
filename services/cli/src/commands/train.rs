//! `prospector train`: fit the VQ-VAE to a cutout set.

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use prospector_cutouts::CutoutSet;
use prospector_model::{
    select_device, train, DeviceRequest, Preset, Progress, TrainConfig, TrainOptions,
};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// A cutout set folder (as `prospector find` writes under `cutouts/`).
    #[arg(long)]
    cutouts: PathBuf,
    /// Folder for the model: weights (safetensors), model card (JSON), checkpoints.
    #[arg(long)]
    out: PathBuf,
    /// The study's recipe (`baseline`) or EMA codebook + dead-code restarts + k-means init (`improved`).
    #[arg(long, value_enum, default_value_t = PresetArg::Baseline)]
    preset: PresetArg,
    /// Epochs (the study: 50).
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size (the study: 256).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Seeds weights, validation split and data order: on CPU the same seed gives the same weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continue from the checkpoint in --out.
    #[arg(long)]
    resume: bool,
    /// auto (CUDA when available), cpu, or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
}

/// The model recipe, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PresetArg {
    Baseline,
    Improved,
}

impl From<PresetArg> for Preset {
    fn from(preset: PresetArg) -> Preset {
        match preset {
            PresetArg::Baseline => Preset::Baseline,
            PresetArg::Improved => Preset::Improved,
        }
    }
}

pub fn run(args: TrainArgs) -> Result<(), CliError> {
    let set = CutoutSet::read(&args.cutouts).or_exit(Exit::BadInput)?;
    let mut config = TrainConfig::preset(args.preset.into());
    config.seed = args.seed;
    if let Some(epochs) = args.epochs {
        config.epochs = epochs;
    }
    if let Some(batch) = args.batch_size {
        config.batch_size = batch;
    }
    let request: DeviceRequest = args.device.parse().or_exit(Exit::BadInput)?;
    let device = select_device(request).or_exit(Exit::BadInput)?;
    eprintln!("{}", device.reason);
    let options = TrainOptions {
        device: device.device,
        resume: args.resume,
        threads: None,
    };
    let bar = ProgressBar::hidden();
    let card = train(&set, &config, &args.out, &options, &mut |event| {
        report(&bar, event)
    })
    .or_exit(Exit::BadInput)?;
    bar.finish_and_clear();
    let last = &card.final_metrics;
    println!(
        "model {} written to {} ({} epochs; train loss {:.4}, perplexity {:.1}, codes used {:.0}%)",
        &card.version_id[..16.min(card.version_id.len())],
        args.out.display(),
        card.epochs.len(),
        last.train.loss,
        last.train.perplexity,
        100.0 * last.train.code_usage,
    );
    Ok(())
}

/// Draws training progress: one bar per run, loss and perplexity in its message.
fn report(bar: &ProgressBar, event: &Progress) {
    match event {
        Progress::Started {
            epochs,
            steps_per_epoch,
            resumed_epochs,
            train_cutouts,
            validation_cutouts,
        } => {
            eprintln!(
                "training on {train_cutouts} cutouts ({validation_cutouts} held out), {epochs} epochs of {steps_per_epoch} steps{}",
                if *resumed_epochs > 0 { format!(", resuming after epoch {resumed_epochs}") } else { String::new() }
            );
            bar.set_length((epochs - resumed_epochs) as u64 * *steps_per_epoch as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} steps {elapsed_precise} eta {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        Progress::Step {
            epoch,
            loss,
            perplexity,
            ..
        } => {
            bar.inc(1);
            bar.set_message(format!(
                "epoch {epoch} loss {loss:.4} perplexity {perplexity:.1}"
            ));
        }
        Progress::Epoch(metrics) => {
            let validation = metrics
                .validation
                .as_ref()
                .map(|v| format!(", validation loss {:.4}", v.loss))
                .unwrap_or_default();
            bar.println(format!(
                "epoch {}: loss {:.4}{validation}, perplexity {:.1}, codes used {:.0}%",
                metrics.epoch,
                metrics.train.loss,
                metrics.train.perplexity,
                100.0 * metrics.train.code_usage
            ));
        }
        Progress::Finalising => {
            bar.set_message("scoring the training split for the code histogram")
        }
    }
}

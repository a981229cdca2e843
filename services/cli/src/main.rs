//! `prospector`: the command-line program of Prospector.
//!
//! Every subcommand is a thin shell over a library crate; this file only parses the
//! command line, sets up logging and turns errors into the documented exit codes
//! (see `exit.rs`).

mod commands;
mod exit;

use clap::{Parser, Subcommand};
use exit::CliError;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "prospector",
    version,
    about = "Find enigmatic radio sources in continuum survey images"
)]
struct Cli {
    /// Log as JSON lines (for pipelines and log collectors) instead of human text.
    #[arg(long, global = true, env = "PROSPECTOR_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe a FITS image: shape, axes, beam, WCS, pixel scale, noise, blank fraction.
    Info(commands::info::InfoArgs),
    /// Simulate MeerKAT-like survey fields (FITS images with WCS and beam) and their truth catalogues.
    Simulate(commands::simulate::SimulateArgs),
    /// Find sources like PyBDSF: background and rms maps, islands, catalogue, regions, cutouts.
    Find(commands::find::FindArgs),
    /// Train the VQ-VAE on a cutout set (the study's recipe, or the improved one).
    Train(commands::train::TrainArgs),
    /// Score a cutout set with a trained model: NCC, MSE, code rarity, combined, code form.
    Score(commands::score::ScoreArgs),
    /// Make the labelled FIRST galaxy cutout sets (MiraBest) the protocol runs on.
    Mirabest(commands::protocol::MiraBestArgs),
    /// Simulate a survey and make the study's labelled and unlabelled cutout sets from it (labels from the truth catalogue).
    SurveyDataset(commands::protocol::SurveyDatasetArgs),
    /// Run the study's evaluation protocol (configurations A/B/C) and write its report.
    Protocol(commands::protocol::ProtocolArgs),
    /// Compare two protocol reports (e.g. the baseline and improved recipes) by Mann-Whitney U over runs.
    ProtocolCompare(commands::protocol::CompareArgs),
    /// Run the whole pipeline in this process (simulating a survey and training a demo model when none are given) and rank the anomalies.
    Run(commands::run::RunArgs),
    /// Create or update the streams, consumers and buckets on a NATS server (operator set-up).
    Topology(commands::topology::TopologyArgs),
    /// Measure every speed and memory figure against PyBDSF and Python PyTorch on this machine (Markdown and JSON).
    Bench(commands::bench::BenchArgs),
    /// One model-side round of `prospector bench` (run by it).
    #[command(hide = true)]
    BenchWorker(commands::bench::BenchWorkerArgs),
    /// Submit an image to the running pipeline (the imaging-pipeline hook); --wait follows it to the end.
    Submit(commands::submit::SubmitArgs),
    /// Manage the models the scorers use (publish a new version).
    Model(commands::model::ModelArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit as u8)
        }
    }
}

fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Info(args) => commands::info::run(args),
        Command::Simulate(args) => commands::simulate::run(args),
        Command::Find(args) => commands::find::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Score(args) => commands::score::run(args),
        Command::Mirabest(args) => commands::protocol::mirabest(args),
        Command::SurveyDataset(args) => commands::protocol::survey_dataset(args),
        Command::Protocol(args) => commands::protocol::run(args),
        Command::ProtocolCompare(args) => commands::protocol::compare(args),
        Command::Run(args) => commands::run::run(args),
        Command::Topology(args) => commands::topology::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::BenchWorker(args) => commands::bench::worker(args),
        Command::Submit(args) => commands::submit::run(args),
        Command::Model(args) => commands::model::run(args),
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

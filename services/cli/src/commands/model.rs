//! `prospector model publish`: makes a trained model the one every scorer uses. The
//! folder is checked (it must load), uploaded to the bus's model store and set as the
//! active version; running scorers swap to it between batches.

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use anyhow::anyhow;
use clap::{Args, Subcommand};
use prospector_bus::{NatsBus, Topology};
use prospector_config::ServiceConfig;
use prospector_model_store::{self as model_store, StoreError};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Upload a trained model folder and make it the active version.
    Publish(PublishArgs),
}

#[derive(Debug, Args)]
struct PublishArgs {
    /// The model folder (`prospector train --out`).
    dir: PathBuf,
    /// The services' configuration file, for its `[nats]` section; else
    /// $PROSPECTOR_CONFIG, else defaults, with `PROSPECTOR_NATS_*` overriding.
    #[arg(long)]
    config: Option<PathBuf>,
}

pub fn run(args: ModelArgs) -> Result<(), CliError> {
    match args.command {
        ModelCommand::Publish(args) => publish(args),
    }
}

fn publish(args: PublishArgs) -> Result<(), CliError> {
    let config = ServiceConfig::load(args.config.as_deref()).or_exit(Exit::BadInput)?;
    let runtime = tokio::runtime::Runtime::new().or_exit(Exit::Internal)?;
    let version = runtime.block_on(async {
        let bus = NatsBus::connect(&config.nats, "prospector-cli")
            .await
            .map_err(|e| anyhow!("{e}"))
            .or_exit(Exit::Unavailable)?;
        bus.prepare(&Topology::new(config.bus.clone()), &[])
            .await
            .map_err(|e| anyhow!("{e}"))
            .or_exit(Exit::Unavailable)?;
        model_store::publish(&bus, &args.dir).await.map_err(|e| {
            let exit = match e {
                StoreError::Invalid { .. } | StoreError::Io { .. } => Exit::BadInput,
                _ => Exit::Unavailable,
            };
            CliError::new(exit, e)
        })
    })?;
    println!(
        "published model {version} from {}: now the active version",
        args.dir.display()
    );
    Ok(())
}

//! `prospector topology apply`: creates or updates Prospector's streams, consumers, KV
//! buckets and object store on a NATS server, with the operator's (admin) credentials.
//!
//! Services that run with least-privilege credentials (`[bus] create = false`, as the
//! Helm chart deploys them) only create their own consumers: this is the step that
//! creates everything else, once per install or upgrade (the chart runs it as a hook).

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use clap::{Args, Subcommand};
use prospector_bus::{Change, NatsBus, Topology};
use prospector_config::ServiceConfig;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TopologyArgs {
    #[command(subcommand)]
    action: TopologyAction,
}

#[derive(Debug, Subcommand)]
enum TopologyAction {
    /// Create what is missing and update what differs; print one line per item.
    Apply {
        /// The services' configuration file (`[nats]` and `[bus]` are read); without it,
        /// `$PROSPECTOR_CONFIG` or the defaults, then the `PROSPECTOR_*` environment.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

pub fn run(args: TopologyArgs) -> Result<(), CliError> {
    let TopologyAction::Apply { config } = args.action;
    let config = ServiceConfig::load(config.as_deref()).or_exit(Exit::BadInput)?;
    let topology = Topology::new(config.bus.clone());
    let runtime = tokio::runtime::Runtime::new().or_exit(Exit::Internal)?;
    let applied = runtime
        .block_on(async {
            let bus = NatsBus::connect(&config.nats, "prospector-topology").await?;
            bus.ensure_topology(&topology).await
        })
        // Unreachable, credentials refused, or a limit the server will not grant (say,
        // a stream larger than its store): all the server's answer, code 5.
        .or_exit(Exit::Unavailable)?;
    for item in applied {
        let change = match item.change {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
            Change::Removed => "removed (retired)",
        };
        println!("{:<12} {:<28} {change}", item.kind, item.name);
    }
    Ok(())
}

//! The Prospector extractor service: workers on the `extractor` durable consumer of
//! `prospector.tiles`, a work queue shared by every replica, so each tile is processed
//! once however many run. Each tile's owned sources go out as cutouts, then one progress
//! event says how many there were (how the evaluator knows when an image is complete).

use prospector_bus::topology::consumers;
use prospector_config::ServiceConfig;
use prospector_service::{Service, ServiceError};
use prospector_stages::{ExtractorStage, ReportFailures};
use std::future::Future;
use std::sync::Arc;

/// Runs the extractor until `shutdown` resolves (SIGTERM in the binary).
pub async fn run(
    config: ServiceConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let mut service =
        Service::start("extractor", config, &[consumers::EXTRACTOR], &[], shutdown).await?;
    let extractor = &service.config.extractor;
    // Finding sources is CPU-bound work on the blocking pool: one worker per core keeps
    // every core busy with a tile.
    let workers = match extractor.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let stage = ReportFailures::new(ExtractorStage::new(extractor.finder.clone()));
    let runner = extractor.runner.clone();
    service.spawn_runners(consumers::EXTRACTOR, Arc::new(stage), runner, workers)?;
    service.run_until_stopped().await
}

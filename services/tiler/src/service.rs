//! Wiring: configuration in, `PipelineService` and the tiler stage running until shutdown.

use crate::inputs::InputRoots;
use crate::pipeline::Pipeline;
use prospector_bus::topology::{buckets, consumers};
use prospector_config::ServiceConfig;
use prospector_proto::v1::pipeline_service_server::PipelineServiceServer;
use prospector_service::{grpc, ApiToken, Service, ServiceError};
use prospector_stages::{ReportFailures, TilerStage};
use std::future::Future;
use std::sync::Arc;

/// Runs the tiler until `shutdown` resolves (SIGTERM in the binary).
///
/// Tiles are cut for the extractor's source finder (`extractor.finder`: the margin
/// must hold the islands it will look for), with `tiler.tile_core` as the preferred
/// core side when set.
pub async fn run(
    config: ServiceConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let inputs = InputRoots::new(&config.tiler.input_roots, config.tiler.max_image_bytes)
        .map_err(|e| ServiceError::Failed(format!("tiler.input_roots: {e}")))?;
    let token = ApiToken::from_config(&config.grpc)?;
    if token.is_none() {
        tracing::warn!("no grpc.api_token_file: SubmitImage accepts anyone who can connect");
    }
    let mut grpc_server = grpc::server(&config.grpc)?;
    let listener = grpc::bind("gRPC", config.grpc.listen).await?;

    let mut service = Service::start("tiler", config, &[consumers::TILER], &[], shutdown).await?;
    let mut finder = service.config.extractor.finder.clone();
    if let Some(core) = service.config.tiler.tile_core {
        finder.tile_core = core;
    }
    let stage = ReportFailures::new(TilerStage::new(finder));
    service.spawn_runners(
        consumers::TILER,
        Arc::new(stage),
        service.config.tiler.runner.clone(),
        // An image at a time: the stage reads it whole to measure its background.
        1,
    )?;

    let pipeline = Pipeline::new(
        inputs,
        token,
        service.bus.clone(),
        service.bus.key_value(buckets::IMAGE_STATUS).await?,
        service.stop_token(),
    );
    tracing::info!(grpc = %service.config.grpc.listen, "serving PipelineService");
    service.spawn_grpc(
        grpc_server.add_service(PipelineServiceServer::new(pipeline)),
        listener,
    );
    service.run_until_stopped().await
}

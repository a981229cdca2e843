//! The Prospector scorer service: one shard of the scorers sharing the `scorer` durable
//! consumer on `prospector.cutouts`.
//!
//! Batches are formed dynamically (`scorer.max_batch` cutouts, or what arrived within
//! `scorer.max_wait` of the first) and scored in one forward pass; the runner publishes
//! the scores, waits for JetStream to confirm them, and only then acknowledges the
//! cutouts (marking them in progress meanwhile).
//!
//! The model is the active version of the bus's model store (`prospector model publish`),
//! else `scorer.model_dir`. The scorer follows the active-version key: a new version is
//! fetched and loaded beside the running one, then swapped in under the lock each batch
//! holds while it scores, so a batch is scored wholly by one version and no cutout is
//! dropped or scored twice by the swap. Each score records its version and carries the
//! reconstruction, for the console's gallery.
//!
//! Once a model is loaded the scorer also serves `ScorerService.ScoreCutouts` on
//! `grpc.listen` ([`direct`]), with the same model and the API token.

pub mod direct;

use futures::StreamExt;
use prospector_bus::topology::consumers;
use prospector_bus::RunnerConfig;
use prospector_config::{DevicePreference, ServiceConfig};
use prospector_model::{select_device, Device, DeviceRequest, ScoreOptions, Scorer};
use prospector_model_store as model_store;
use prospector_proto::v1::scorer_service_server::ScorerServiceServer;
use prospector_service::{grpc, ApiToken, Service, ServiceError};
use prospector_stages::{ReportFailures, ScorerStage, VqVaeModel};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

/// Readiness condition: a model is loaded.
pub const MODEL_CONDITION: &str = "model";

/// Largest `ScoreCutouts` request or response: `scorer.max_batch` (default 256) cutouts of
/// 64x64 f32 pixels, plus as many reconstructions, with room to spare.
const DIRECT_MESSAGE_LIMIT: usize = 64 << 20;

/// Runner workers per scorer: while one batch is scored (the model serves one at a
/// time) the other worker publishes the previous batch's scores and pulls the next.
const WORKERS: usize = 2;

/// Runs the scorer until `shutdown` resolves (SIGTERM in the binary).
pub async fn run(
    config: ServiceConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let mut service = Service::start(
        "scorer",
        config,
        &[consumers::SCORER],
        &[MODEL_CONDITION],
        shutdown,
    )
    .await?;
    let token = ApiToken::from_config(&service.config.grpc)?;
    let failed = |e: &dyn std::fmt::Display| ServiceError::Failed(e.to_string());
    let device = select_device(match service.config.scorer.device {
        DevicePreference::Auto => DeviceRequest::Auto,
        DevicePreference::Cpu => DeviceRequest::Cpu,
        DevicePreference::Cuda => DeviceRequest::Cuda(0),
    })
    .map_err(|e| failed(&e))?;
    tracing::info!(
        device = device_name(device.device),
        reason = device.reason,
        "device chosen"
    );
    let device = device.device;
    let cache = service.config.scorer.model_cache.clone();
    let models = model_store::models_kv(&service.bus)
        .await
        .map_err(|e| failed(&e))?;
    // Watching before reading the key: a version made active in between is not missed.
    let mut updates = Box::pin(
        model_store::watch_active(&models)
            .await
            .map_err(|e| failed(&e))?,
    );
    let initial = match model_store::active_version(&models)
        .await
        .map_err(|e| failed(&e))?
    {
        Some(version) => fetch_and_load(&service, &version, &cache, device).await?,
        None => match service.config.scorer.model_dir.clone() {
            Some(dir) => model_store::load(&dir, device)
                .await
                .map_err(|e| failed(&e))?,
            None => {
                tracing::warn!("no active model version on the bus and no scorer.model_dir: waiting for `prospector model publish`");
                let stop = service.stop_token();
                let version = tokio::select! {
                    _ = stop.cancelled() => return service.run_until_stopped().await,
                    next = updates.next() => match next {
                        Some(version) => version.map_err(|e| failed(&e))?,
                        None => return Err(failed(&"the active model version cannot be watched")),
                    },
                };
                fetch_and_load(&service, &version, &cache, device).await?
            }
        },
    };
    let mut current = initial.version_id().to_owned();
    set_model_metrics(&service, &initial, device)?;
    let stage = ScorerStage::new(VqVaeModel::new(initial, score_options()))
        .with_codebook_metrics(service.metrics.scorer()?.clone());
    service.readiness.set(MODEL_CONDITION, true);

    let scorer = &service.config.scorer;
    let runner = RunnerConfig {
        max_batch: scorer.max_batch,
        max_wait: scorer.max_wait,
        ..scorer.runner.clone()
    };
    let reporting = ReportFailures::new(stage.clone());
    service.spawn_runners(consumers::SCORER, Arc::new(reporting), runner, WORKERS)?;

    let mut grpc_server = grpc::server(&service.config.grpc)?;
    let listener = grpc::bind("gRPC", service.config.grpc.listen).await?;
    let max_cutouts = service.config.scorer.max_batch;
    let direct = direct::DirectScoring::new(stage.clone(), token, max_cutouts);
    tracing::info!(grpc = %service.config.grpc.listen, "serving ScorerService");
    service.spawn_grpc(
        grpc_server.add_service(
            // A full batch of cutouts (or of scores with reconstructions) is several MiB:
            // past tonic's 4 MiB default.
            ScorerServiceServer::new(direct)
                .max_decoding_message_size(DIRECT_MESSAGE_LIMIT)
                .max_encoding_message_size(DIRECT_MESSAGE_LIMIT),
        ),
        listener,
    );

    let swapper = {
        let (bus, metrics, stop) = (
            service.bus.clone(),
            service.metrics.clone(),
            service.stop_token(),
        );
        async move {
            loop {
                let version = tokio::select! {
                    _ = stop.cancelled() => return Ok(()),
                    next = updates.next() => match next {
                        Some(Ok(version)) => version,
                        Some(Err(e)) => {
                            tracing::error!(error = %e, "ignoring an active-version update");
                            continue;
                        }
                        None => return Err(failed(&"the active model version is no longer watched")),
                    },
                };
                if version == current {
                    continue;
                }
                // A version that cannot be fetched or loaded is refused; the running
                // one keeps scoring.
                let loaded = match model_store::fetch(&bus, &version, &cache).await {
                    Ok(dir) => model_store::load(&dir, device).await,
                    Err(e) => Err(e),
                };
                match loaded {
                    Ok(scorer) => {
                        let (preset, name) = (preset_name(&scorer), device_name(device));
                        // Waits for the batch being scored to finish: off the async threads.
                        let swap = stage.clone();
                        tokio::task::spawn_blocking(move || {
                            swap.swap_model(VqVaeModel::new(scorer, score_options()))
                        })
                        .await
                        .map_err(|e| failed(&e))?;
                        metrics
                            .scorer()
                            .map_err(|e| failed(&e))?
                            .set_model(&version, &name, &preset);
                        tracing::info!(from = current, to = version, "model swapped");
                        current = version;
                    }
                    Err(e) => {
                        tracing::error!(version, error = %e, "new model version refused; keeping the running one")
                    }
                }
            }
        }
    };
    service.spawn(swapper);
    service.run_until_stopped().await
}

/// Scores carry reconstructions: the console shows them beside the input and residual.
fn score_options() -> ScoreOptions {
    ScoreOptions {
        reconstructions: true,
        ..ScoreOptions::default()
    }
}

async fn fetch_and_load(
    service: &Service,
    version: &str,
    cache: &std::path::Path,
    device: Device,
) -> Result<Scorer, ServiceError> {
    let failed = |e: model_store::StoreError| ServiceError::Failed(e.to_string());
    let dir: PathBuf = model_store::fetch(&service.bus, version, cache)
        .await
        .map_err(failed)?;
    model_store::load(&dir, device).await.map_err(failed)
}

fn set_model_metrics(
    service: &Service,
    scorer: &Scorer,
    device: Device,
) -> Result<(), ServiceError> {
    service.metrics.scorer()?.set_model(
        scorer.version_id(),
        &device_name(device),
        &preset_name(scorer),
    );
    Ok(())
}

fn preset_name(scorer: &Scorer) -> String {
    format!("{:?}", scorer.card().config.preset).to_lowercase()
}

fn device_name(device: Device) -> String {
    match device {
        Device::Cuda(n) => format!("cuda:{n}"),
        _ => "cpu".to_owned(),
    }
}

//! Wiring: configuration in, the evaluator's servers and feed running until shutdown.

use crate::feed::spawn_feeds;
use crate::grpc::EvaluatorGrpc;
use crate::labels::LabelDesk;
use crate::outputs::Outputs;
use crate::pictures::ScoreArchive;
use crate::state::{apply_events, Evaluator, REPLAY_CONDITION};
use prospector_bus::topology::buckets;
use prospector_config::ServiceConfig;
use prospector_proto::v1::evaluator_service_server::EvaluatorServiceServer;
use prospector_service::{grpc, ApiToken, Service, ServiceError};
use std::future::Future;
use std::sync::Arc;

/// Events buffered between the stream readers and the catalogue.
const FEED_BUFFER: usize = 4096;

/// Runs the evaluator until `shutdown` resolves (SIGTERM in the binary), then stops
/// accepting requests, lets in-flight ones finish and returns.
pub async fn run(
    config: ServiceConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let token = ApiToken::from_config(&config.grpc)?;
    let mut grpc_server = grpc::server(&config.grpc)?;
    let grpc_listener = grpc::bind("gRPC", config.grpc.listen).await?;
    let http_listener = grpc::bind("the console", config.evaluator.http_listen).await?;

    let mut service =
        Service::start("evaluator", config, &[], &[REPLAY_CONDITION], shutdown).await?;
    let evaluator = Arc::new(Evaluator::new(service.metrics.evaluator()?.clone()));
    let bus = service.bus.clone();
    let outputs = Outputs::new(
        bus.key_value(buckets::IMAGE_STATUS).await?,
        &service.config.evaluator.data_dir,
    );
    let labels = LabelDesk::new(
        evaluator.clone(),
        token,
        bus.key_value(buckets::LABELS).await?,
        bus.clone(),
    );

    let archive = ScoreArchive::open(bus.jetstream())
        .await
        .map_err(|e| ServiceError::Failed(e.to_string()))?;
    let (events_tx, events_rx) = tokio::sync::mpsc::channel(FEED_BUFFER);
    let feeds = spawn_feeds(bus.jetstream(), events_tx)
        .await
        .map_err(|e| ServiceError::Failed(e.to_string()))?;
    let stop = service.stop_token();
    service.spawn({
        let (evaluator, readiness, stop) =
            (evaluator.clone(), service.readiness.clone(), stop.clone());
        async move {
            apply_events(&evaluator, events_rx, &outputs, &readiness, stop).await;
            for feed in feeds {
                feed.abort();
            }
            Ok(())
        }
    });

    tracing::info!(
        grpc = %service.config.grpc.listen,
        console = %service.config.evaluator.http_listen,
        "serving EvaluatorService and the console"
    );
    service.spawn_grpc(
        grpc_server.add_service(EvaluatorServiceServer::new(EvaluatorGrpc::new(
            evaluator.clone(),
            labels.clone(),
        ))),
        grpc_listener,
    );
    service.spawn({
        let http = axum::serve(
            http_listener,
            crate::http::router(evaluator, labels, archive),
        )
        .with_graceful_shutdown(stop.cancelled_owned());
        async move {
            http.await.map_err(|e| {
                ServiceError::Failed(format!("the console's HTTP server stopped: {e}"))
            })
        }
    });
    service.run_until_stopped().await
}

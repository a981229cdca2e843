//! Wiring: configuration in, the evaluator's servers and feed running until shutdown.

use crate::feed::{spawn_feeds, FeedError};
use crate::grpc::EvaluatorGrpc;
use crate::labels::{ApiToken, LabelDesk, TokenError};
use crate::outputs::Outputs;
use crate::state::{apply_events, Evaluator, REPLAY_CONDITION};
use prospector_bus::topology::buckets;
use prospector_bus::{BusError, CancellationToken, NatsBus, Topology};
use prospector_config::{GrpcConfig, ServiceConfig};
use prospector_proto::v1::evaluator_service_server::EvaluatorServiceServer;
use prospector_telemetry::{HttpServer, Metrics, Readiness, TelemetryError};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tonic::transport::{Identity, Server, ServerTlsConfig};

/// Readiness condition: connected to NATS with the topology in place.
const BUS_CONDITION: &str = "bus";
/// Events buffered between the stream readers and the catalogue.
const FEED_BUFFER: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("gRPC TLS: {0}")]
    Tls(String),
    #[error("the gRPC server stopped: {0}")]
    Grpc(#[from] tonic::transport::Error),
    #[error("the console's HTTP server stopped: {0}")]
    Http(std::io::Error),
}

/// Runs the evaluator until `shutdown` resolves (SIGTERM in the binary), then stops
/// accepting requests, lets in-flight ones finish and returns.
pub async fn run(
    config: ServiceConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let metrics = Metrics::new("evaluator", env!("CARGO_PKG_VERSION"))?;
    let evaluator = Arc::new(Evaluator::new(metrics.evaluator()?.clone()));
    let readiness = Readiness::new([BUS_CONDITION, REPLAY_CONDITION]);
    let stop = CancellationToken::new();

    let telemetry =
        HttpServer::bind(config.telemetry.metrics_listen, metrics, readiness.clone()).await?;
    tracing::info!(addr = %telemetry.local_addr(), "serving /metrics, /healthz, /readyz");
    let telemetry = tokio::spawn(telemetry.serve(stop.clone().cancelled_owned()));

    let token = config
        .grpc
        .api_token_file
        .as_deref()
        .map(ApiToken::read)
        .transpose()?;
    let tls = tls_config(&config.grpc)?;
    let bus = NatsBus::connect(&config.nats, "evaluator").await?;
    // The catalogue is read with ordered consumers (see feed.rs): no durable of its own.
    bus.prepare(&Topology::new(config.bus.clone()), &[]).await?;
    let outputs = Outputs::new(
        bus.key_value(buckets::IMAGE_STATUS).await?,
        &config.evaluator.data_dir,
    );
    let labels = LabelDesk::new(
        evaluator.clone(),
        token,
        bus.key_value(buckets::LABELS).await?,
        bus.clone(),
    );
    readiness.set(BUS_CONDITION, true);

    let (events_tx, events_rx) = tokio::sync::mpsc::channel(FEED_BUFFER);
    let feeds = spawn_feeds(bus.jetstream(), events_tx).await?;
    let applier = tokio::spawn({
        let (evaluator, readiness, stop) = (evaluator.clone(), readiness.clone(), stop.clone());
        async move { apply_events(&evaluator, events_rx, &outputs, &readiness, stop).await }
    });

    let grpc_listener = bind("gRPC", config.grpc.listen).await?;
    let http_listener = bind("the console", config.evaluator.http_listen).await?;
    tracing::info!(
        grpc = %config.grpc.listen,
        console = %config.evaluator.http_listen,
        tls = tls.is_some(),
        "serving EvaluatorService and the console"
    );
    let mut grpc = Server::builder();
    if let Some(tls) = tls {
        grpc = grpc
            .tls_config(tls)
            .map_err(|e| ServiceError::Tls(e.to_string()))?;
    }
    let grpc = grpc
        .add_service(EvaluatorServiceServer::new(EvaluatorGrpc::new(
            evaluator.clone(),
            labels.clone(),
        )))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(grpc_listener),
            stop.clone().cancelled_owned(),
        );
    let http = axum::serve(http_listener, crate::http::router(evaluator, labels))
        .with_graceful_shutdown(stop.clone().cancelled_owned());
    tokio::spawn({
        let stop = stop.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down");
            stop.cancel();
        }
    });
    let (grpc, http) = tokio::join!(grpc, async { http.await.map_err(ServiceError::Http) });
    stop.cancel();
    for feed in feeds {
        feed.abort();
    }
    let _ = applier.await;
    let _ = telemetry.await;
    grpc?;
    http
}

async fn bind(
    what: &'static str,
    addr: SocketAddr,
) -> Result<tokio::net::TcpListener, ServiceError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServiceError::Bind { what, addr, source })
}

/// TLS settings when both a certificate and a key are configured.
fn tls_config(grpc: &GrpcConfig) -> Result<Option<ServerTlsConfig>, ServiceError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| ServiceError::Tls(format!("{}: {e}", path.display())))
    };
    match (&grpc.tls_cert, &grpc.tls_key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(
            ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?)),
        )),
        _ => Err(ServiceError::Tls(
            "grpc.tls_cert and grpc.tls_key must be set together".into(),
        )),
    }
}

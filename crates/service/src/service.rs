//! A running service: telemetry served, NATS connected with the topology in place, and
//! the tasks that do its work, all stopped together.

use crate::TokenError;
use prospector_bus::{
    BusError, CancellationToken, NatsBus, RunnerConfig, Stage, StageRunner, Topology,
};
use prospector_config::ServiceConfig;
use prospector_telemetry::{HttpServer, Metrics, Readiness, TelemetryError};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Readiness condition: connected to NATS with the topology in place.
pub const BUS_CONDITION: &str = "bus";

/// How often a service reads its consumers' lag from the server for its metrics.
const CONSUMER_METRICS_EVERY: Duration = Duration::from_secs(10);

/// Why a service could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
    #[error(transparent)]
    Bus(#[from] BusError),
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
    /// A service-specific failure, already worded for the operator.
    #[error("{0}")]
    Failed(String),
}

/// The parts every service has; see [`Service::start`].
#[derive(Debug)]
pub struct Service {
    pub config: ServiceConfig,
    pub metrics: Metrics,
    pub readiness: Readiness,
    pub bus: NatsBus,
    pub topology: Topology,
    stop: CancellationToken,
    tasks: JoinSet<Result<(), ServiceError>>,
}

impl Service {
    /// Serves `/metrics`, `/healthz` and `/readyz`, connects to NATS and prepares the
    /// topology (all of it, or only the service's `durables`: see
    /// [`prospector_bus::NatsBus::prepare`]), then marks the bus ready. `conditions` are the service's
    /// own readiness conditions, unmet until it sets them. When `shutdown` resolves every
    /// task is told to stop.
    pub async fn start(
        name: &'static str,
        config: ServiceConfig,
        durables: &[&str],
        conditions: &[&'static str],
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Self, ServiceError> {
        let metrics = Metrics::new(name, env!("CARGO_PKG_VERSION"))?;
        let readiness =
            Readiness::new(std::iter::once(BUS_CONDITION).chain(conditions.iter().copied()));
        let stop = CancellationToken::new();
        let mut tasks = JoinSet::new();

        let telemetry = HttpServer::bind(
            config.telemetry.metrics_listen,
            metrics.clone(),
            readiness.clone(),
        )
        .await?;
        tracing::info!(addr = %telemetry.local_addr(), "serving /metrics, /healthz, /readyz");
        tasks.spawn({
            let stop = stop.clone();
            async move { Ok(telemetry.serve(stop.cancelled_owned()).await?) }
        });
        tokio::spawn({
            let stop = stop.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down");
                stop.cancel();
            }
        });

        let bus = NatsBus::connect(&config.nats, name).await?;
        let topology = Topology::new(config.bus.clone());
        // The whole topology, or only `durables` where an operator created the rest
        // (`[bus] create = false`: least-privilege credentials).
        bus.prepare(&topology, durables).await?;
        readiness.set(BUS_CONDITION, true);
        Ok(Self {
            config,
            metrics,
            readiness,
            bus,
            topology,
            stop,
            tasks,
        })
    }

    /// Cancelled when the service is stopping.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Serves `router` (a gRPC server with its services added) on `listener` until the
    /// service stops; the server failing stops the whole service.
    pub fn spawn_grpc(
        &mut self,
        router: tonic::transport::server::Router,
        listener: tokio::net::TcpListener,
    ) {
        let stop = self.stop_token();
        self.spawn(async move {
            router
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(listener),
                    stop.cancelled_owned(),
                )
                .await?;
            Ok(())
        });
    }

    /// Runs `task` until the service stops; an error from it stops the whole service.
    pub fn spawn(&mut self, task: impl Future<Output = Result<(), ServiceError>> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Runs `workers` stage runners of `stage` on the durable consumer `consumer`, and
    /// keeps that consumer's lag in the metrics.
    pub fn spawn_runners<S: Stage>(
        &mut self,
        consumer: &str,
        stage: Arc<S>,
        runner: RunnerConfig,
        workers: usize,
    ) -> Result<(), ServiceError> {
        let spec = self.topology.consumer(consumer)?.clone();
        let runner = StageRunner::new(self.bus.clone(), spec.clone(), stage, &self.metrics)
            .with_config(runner);
        for _ in 0..workers.max(1) {
            let (runner, stop) = (runner.clone(), self.stop.clone());
            self.tasks.spawn(async move { Ok(runner.run(stop).await?) });
        }
        let lag = self.bus.spawn_consumer_metrics(
            &self.metrics,
            std::slice::from_ref(&spec),
            CONSUMER_METRICS_EVERY,
            self.stop.clone(),
        );
        self.tasks.spawn(async move {
            lag.await
                .map_err(|e| ServiceError::Failed(format!("consumer metrics task: {e}")))
        });
        tracing::info!(consumer, workers = workers.max(1), "stage runners started");
        Ok(())
    }

    /// Waits until the service is told to stop or a task fails, then stops every task
    /// (runners finish their in-flight batch) and returns the first error.
    pub async fn run_until_stopped(mut self) -> Result<(), ServiceError> {
        let mut first_error = None;
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => break,
                joined = self.tasks.join_next() => match joined {
                    None => break,
                    Some(Ok(Ok(()))) => {}
                    Some(Ok(Err(e))) => {
                        first_error = Some(e);
                        break;
                    }
                    Some(Err(e)) => {
                        first_error = Some(ServiceError::Failed(format!("a task stopped: {e}")));
                        break;
                    }
                },
            }
        }
        self.stop.cancel();
        while let Some(joined) = self.tasks.join_next().await {
            if let (Ok(Err(e)), None) = (joined, &first_error) {
                first_error = Some(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

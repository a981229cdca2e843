//! `/metrics`, `/healthz` and `/readyz` on one small HTTP listener per service.

use crate::{Metrics, TelemetryError};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Named readiness conditions a service sets ("bus" connected, "model" loaded...).
/// `/readyz` answers 200 only when every registered condition is true, so Kubernetes
/// sends no work to a scorer whose model is still loading.
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    conditions: Arc<Mutex<BTreeMap<String, bool>>>,
}

impl Readiness {
    /// A readiness with the given conditions, all not yet met.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(conditions: I) -> Self {
        let readiness = Self::default();
        for name in conditions {
            readiness.set(name, false);
        }
        readiness
    }

    /// Sets (or adds) a condition.
    pub fn set(&self, condition: impl Into<String>, met: bool) {
        self.lock().insert(condition.into(), met);
    }

    /// True when every condition is met.
    pub fn is_ready(&self) -> bool {
        self.lock().values().all(|met| *met)
    }

    /// The conditions not yet met, by name.
    pub fn unmet(&self) -> Vec<String> {
        self.lock()
            .iter()
            .filter(|(_, met)| !**met)
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, bool>> {
        // A panic while holding this lock cannot leave the map half-updated.
        self.conditions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Clone)]
struct AppState {
    metrics: Metrics,
    readiness: Readiness,
}

/// The bound listener and its routes; [`HttpServer::serve`] runs it.
#[derive(Debug)]
pub struct HttpServer {
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    router: Router,
}

impl HttpServer {
    /// Binds `addr` (port 0 picks a free port; see [`HttpServer::local_addr`]).
    pub async fn bind(
        addr: SocketAddr,
        metrics: Metrics,
        readiness: Readiness,
    ) -> Result<Self, TelemetryError> {
        let bind_error = |source| TelemetryError::Bind { addr, source };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let router = Router::new()
            .route("/metrics", get(metrics_handler))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz_handler))
            .with_state(AppState { metrics, readiness });
        Ok(Self {
            listener,
            local_addr,
            router,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), TelemetryError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(TelemetryError::Serve)
    }
}

async fn metrics_handler(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        state.metrics.encode(),
    )
}

async fn readyz_handler(State(state): State<AppState>) -> impl IntoResponse {
    let unmet = state.readiness.unmet();
    if unmet.is_empty() {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", unmet.join(", ")),
        )
    }
}

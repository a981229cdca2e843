//! A service's gRPC listener: the address bound, TLS when configured, and the caller's
//! `authorization` header.

use crate::ServiceError;
use prospector_config::GrpcConfig;
use std::net::SocketAddr;
use tonic::transport::{Identity, ServerTlsConfig};

/// Binds `addr` for `what` ("gRPC", "the console"), naming both when it cannot.
pub async fn bind(
    what: &'static str,
    addr: SocketAddr,
) -> Result<tokio::net::TcpListener, ServiceError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServiceError::Bind { what, addr, source })
}

/// A gRPC server builder, speaking TLS only when `grpc.tls_cert` and `grpc.tls_key`
/// are both set (one without the other is refused).
pub fn server(grpc: &GrpcConfig) -> Result<tonic::transport::Server, ServiceError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| ServiceError::Tls(format!("{}: {e}", path.display())))
    };
    let builder = tonic::transport::Server::builder();
    match (&grpc.tls_cert, &grpc.tls_key) {
        (None, None) => Ok(builder),
        (Some(cert), Some(key)) => {
            let tls = ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?));
            builder
                .tls_config(tls)
                .map_err(|e| ServiceError::Tls(e.to_string()))
        }
        _ => Err(ServiceError::Tls(
            "grpc.tls_cert and grpc.tls_key must be set together".into(),
        )),
    }
}

/// The request's `authorization` header, if it has a readable one.
pub fn authorization<T>(request: &tonic::Request<T>) -> Option<String> {
    request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

//! What the four Prospector services share, so each service is only its own logic:
//!
//! - [`service_main`]: the command line (`--config`), configuration loading, logging,
//!   SIGTERM and the exit code, for every binary's `main`;
//! - [`Service`]: the metrics/health HTTP server, the NATS connection with the topology
//!   in place, readiness, and the tasks (stage runner workers, servers) a service runs
//!   until it is told to stop;
//! - [`grpc`]: binding a gRPC listener, its TLS settings, and the bearer token that
//!   guards submissions ([`ApiToken`]).

mod entry;
pub mod grpc;
mod service;
mod token;

pub use entry::service_main;
pub use service::{Service, ServiceError, BUS_CONDITION};
pub use token::{ApiToken, TokenError};

//! How every service connects to NATS, read from its configuration file (serde), so the
//! four services and the CLI are configured alike.

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// NATS connection settings. Set at most one authentication method (user/password,
/// token, nkey seed or creds file); TLS combines with any of them.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct NatsConfig {
    /// Server URLs, e.g. `nats://nats.prospector.svc:4222` (several for a cluster).
    pub servers: Vec<String>,
    /// Connection name shown in the server's monitoring (default: the service name).
    pub name: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
    /// An nkey seed (`SU...`).
    pub nkey_seed: Option<String>,
    /// A `.creds` file (JWT and nkey seed), as issued by an operator.
    pub creds_file: Option<PathBuf>,
    pub tls: TlsConfig,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Keep retrying the first connection (e.g. while the NATS pod starts) instead of
    /// failing at once.
    pub retry_initial_connect: bool,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            servers: vec!["nats://127.0.0.1:4222".to_owned()],
            name: None,
            user: None,
            password: None,
            token: None,
            nkey_seed: None,
            creds_file: None,
            tls: TlsConfig::default(),
            connect_timeout: Duration::from_secs(5),
            retry_initial_connect: false,
        }
    }
}

/// TLS to the NATS server.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Refuse a server that does not offer TLS.
    pub required: bool,
    /// PEM file of CA certificates to trust (in addition to none: set it for a private CA).
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS; both or neither.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

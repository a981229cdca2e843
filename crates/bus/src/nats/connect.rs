//! Turning a [`NatsConfig`] into a connection.

use super::NatsBus;
use crate::{BusError, NatsConfig};
use async_nats::{ConnectErrorKind, ConnectOptions, Event, ServerAddr};

impl NatsBus {
    /// Connects with `config`; `service` names the connection when the config does not.
    /// Fails with the server list and the cause (unreachable, authorization violation,
    /// TLS) rather than retrying silently, unless `retry_initial_connect` is set.
    pub async fn connect(config: &NatsConfig, service: &str) -> Result<Self, BusError> {
        let servers = config
            .servers
            .iter()
            .map(|url| {
                url.parse::<ServerAddr>()
                    .map_err(|e| BusError::Config(format!("server URL `{url}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if servers.is_empty() {
            return Err(BusError::Config("no NATS server URL configured".into()));
        }
        let options = options(config, service).await?;
        let client = options
            .connect(servers)
            .await
            .map_err(|source| BusError::Connect {
                servers: config.servers.join(", "),
                hint: hint(config, source.kind()),
                source,
            })?;
        tracing::info!(servers = %config.servers.join(", "), "connected to NATS");
        Ok(Self {
            jetstream: async_nats::jetstream::new(client.clone()),
            client,
        })
    }
}

async fn options(config: &NatsConfig, service: &str) -> Result<ConnectOptions, BusError> {
    let methods = [
        config.user.is_some() || config.password.is_some(),
        config.token.is_some(),
        config.nkey_seed.is_some(),
        config.creds_file.is_some(),
    ];
    if methods.iter().filter(|set| **set).count() > 1 {
        return Err(BusError::Config(
            "set at most one of user/password, token, nkey_seed, creds_file".into(),
        ));
    }
    let mut options = ConnectOptions::new()
        .name(config.name.as_deref().unwrap_or(service))
        .connection_timeout(config.connect_timeout)
        .event_callback(|event| async move {
            match event {
                Event::Connected => tracing::info!("NATS connection (re)established"),
                Event::Disconnected => tracing::warn!("NATS connection lost; reconnecting"),
                other => tracing::warn!(event = %other, "NATS connection event"),
            }
        });
    match (&config.user, &config.password) {
        (Some(user), Some(password)) => {
            options = options.user_and_password(user.clone(), password.clone())
        }
        (None, None) => {}
        _ => {
            return Err(BusError::Config(
                "user and password must be set together".into(),
            ))
        }
    }
    if let Some(token) = &config.token {
        options = options.token(token.clone());
    }
    if let Some(seed) = &config.nkey_seed {
        options = options.nkey(seed.clone());
    }
    if let Some(path) = &config.creds_file {
        options = options
            .credentials_file(path)
            .await
            .map_err(|source| BusError::Credentials {
                path: path.clone(),
                source,
            })?;
    }
    let tls = &config.tls;
    options = options.require_tls(tls.required);
    if let Some(ca) = &tls.ca_file {
        options = options.add_root_certificates(ca.clone());
    }
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key)) => {
            options = options.add_client_certificate(cert.clone(), key.clone())
        }
        (None, None) => {}
        _ => {
            return Err(BusError::Config(
                "tls.cert_file and tls.key_file must be set together".into(),
            ))
        }
    }
    if config.retry_initial_connect {
        options = options.retry_on_initial_connect();
    }
    Ok(options)
}

/// Turns a low-level failure into what an operator should check.
fn hint(config: &NatsConfig, kind: ConnectErrorKind) -> &'static str {
    match kind {
        ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => {
            " (check the configured user/password, token, nkey_seed or creds_file)"
        }
        ConnectErrorKind::Io | ConnectErrorKind::Tls if config.tls.required => {
            " (TLS is required by this client: does the server offer TLS on that port, and is its certificate signed by the configured CA?)"
        }
        ConnectErrorKind::TimedOut | ConnectErrorKind::Io => {
            " (is the server running and reachable from here?)"
        }
        _ => "",
    }
}

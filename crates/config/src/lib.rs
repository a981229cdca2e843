//! One configuration schema for every Prospector service.
//!
//! A service reads a TOML file (the path given on its command line, else
//! `$PROSPECTOR_CONFIG`, else built-in defaults), then applies the `PROSPECTOR_*`
//! environment variables listed in [`ENV_OVERRIDES`] on top (12-factor: the Helm chart
//! sets secrets and per-pod values that way). Every section and field has a default,
//! unknown keys are refused with the key's name, and each service reads the sections it
//! needs from the same file, so one ConfigMap serves all four.
//!
//! ```toml
//! [nats]
//! servers = ["nats://nats.prospector.svc:4222"]
//! creds_file = "/etc/prospector/nats/tiler.creds"
//!
//! [bus]                      # streams and consumers (prospector-bus TopologyConfig)
//! storage = "file"
//!
//! [telemetry]
//! metrics_listen = "0.0.0.0:9090"
//! log_format = "json"
//!
//! [grpc]
//! listen = "0.0.0.0:50051"
//! api_token_file = "/etc/prospector/token"
//!
//! [tiler]
//! input_roots = ["/data/images"]
//!
//! [scorer]
//! max_batch = 256
//! ```

use prospector_bus::{NatsConfig, RunnerConfig, TopologyConfig};
use prospector_sources::FinderConfig;
use prospector_telemetry::LogFormat;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The whole configuration; each service uses the sections it needs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig {
    pub nats: NatsConfig,
    pub bus: TopologyConfig,
    pub telemetry: TelemetryConfig,
    pub grpc: GrpcConfig,
    pub tiler: TilerConfig,
    pub extractor: ExtractorConfig,
    pub scorer: ScorerConfig,
    pub evaluator: EvaluatorConfig,
}

/// Metrics, health and logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub metrics_listen: SocketAddr,
    pub log_format: LogFormat,
    /// An OpenTelemetry collector's OTLP/gRPC address (`http://collector:4317`): when
    /// set, every message's span is exported there, in the trace its `traceparent`
    /// header names. Needs binaries built with the `otlp` feature (the default).
    pub otlp_endpoint: Option<String>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            metrics_listen: SocketAddr::from(([0, 0, 0, 0], 9090)),
            log_format: LogFormat::Json,
            otlp_endpoint: None,
        }
    }
}

/// The service's gRPC server (tiler: PipelineService, evaluator: EvaluatorService,
/// scorer: ScorerService).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
    pub listen: SocketAddr,
    /// PEM certificate and key: when both are set the server speaks TLS only.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// A file holding the bearer token that `SubmitImage` and `SubmitLabels` require.
    /// Without one those calls are open (for a laptop; the chart always sets one).
    pub api_token_file: Option<PathBuf>,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 50051)),
            tls_cert: None,
            tls_key: None,
            api_token_file: None,
        }
    }
}

/// The tiler: which images it may read and how it cuts them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TilerConfig {
    /// `SubmitImage` reads only files under these folders (after resolving symlinks).
    pub input_roots: Vec<PathBuf>,
    /// Largest image file accepted, in bytes.
    pub max_image_bytes: u64,
    /// Side of a tile's core in pixels (the source finder's `tile_core` if unset).
    pub tile_core: Option<usize>,
    pub runner: RunnerConfig,
}

impl Default for TilerConfig {
    fn default() -> Self {
        Self {
            input_roots: Vec::new(),
            max_image_bytes: 8 << 30,
            tile_core: None,
            runner: RunnerConfig::default(),
        }
    }
}

/// The extractor: the source finder's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractorConfig {
    pub finder: FinderConfig,
    /// Tiles worked on at once by one replica; 0 (the default) for one per CPU core.
    pub workers: usize,
    pub runner: RunnerConfig,
}

/// Where the scorer runs and how it batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DevicePreference {
    /// CUDA when libtorch_cuda loads and a GPU is visible, else CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScorerConfig {
    pub device: DevicePreference,
    /// Largest batch handed to the model.
    pub max_batch: usize,
    /// Longest a partial batch waits for more cutouts.
    #[serde(with = "humantime_serde")]
    pub max_wait: Duration,
    /// A model folder to use when the bus's model store has no active version.
    pub model_dir: Option<PathBuf>,
    /// Where models fetched from the object store are kept.
    pub model_cache: PathBuf,
    pub runner: RunnerConfig,
}

impl Default for ScorerConfig {
    fn default() -> Self {
        Self {
            device: DevicePreference::Auto,
            max_batch: 256,
            max_wait: Duration::from_millis(50),
            model_dir: None,
            model_cache: std::env::temp_dir().join("prospector-models"),
            runner: RunnerConfig::default(),
        }
    }
}

/// The evaluator: where catalogues go and where the console is served.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluatorConfig {
    pub data_dir: PathBuf,
    /// The web console and its JSON API.
    pub http_listen: SocketAddr,
}

impl Default for EvaluatorConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("prospector-data"),
            http_listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
        }
    }
}

/// The environment variables that override the file, and the key each one sets.
/// Lists are comma-separated.
pub const ENV_OVERRIDES: &[(&str, &str)] = &[
    ("PROSPECTOR_NATS_URL", "nats.servers"),
    ("PROSPECTOR_NATS_USER", "nats.user"),
    ("PROSPECTOR_NATS_PASSWORD", "nats.password"),
    ("PROSPECTOR_NATS_TOKEN", "nats.token"),
    ("PROSPECTOR_NATS_CREDS_FILE", "nats.creds_file"),
    ("PROSPECTOR_NATS_TLS_CA", "nats.tls.ca_file"),
    ("PROSPECTOR_NATS_TLS_CERT", "nats.tls.cert_file"),
    ("PROSPECTOR_NATS_TLS_KEY", "nats.tls.key_file"),
    ("PROSPECTOR_METRICS_LISTEN", "telemetry.metrics_listen"),
    ("PROSPECTOR_LOG_FORMAT", "telemetry.log_format"),
    // The OpenTelemetry standard name (what the OpenTelemetry operator injects); ours,
    // applied after it, wins when both are set.
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "telemetry.otlp_endpoint"),
    ("PROSPECTOR_OTLP_ENDPOINT", "telemetry.otlp_endpoint"),
    ("PROSPECTOR_GRPC_LISTEN", "grpc.listen"),
    ("PROSPECTOR_GRPC_TLS_CERT", "grpc.tls_cert"),
    ("PROSPECTOR_GRPC_TLS_KEY", "grpc.tls_key"),
    ("PROSPECTOR_API_TOKEN_FILE", "grpc.api_token_file"),
    ("PROSPECTOR_TILER_INPUT_ROOTS", "tiler.input_roots"),
    ("PROSPECTOR_SCORER_DEVICE", "scorer.device"),
    ("PROSPECTOR_SCORER_MODEL_DIR", "scorer.model_dir"),
    ("PROSPECTOR_SCORER_MODEL_CACHE", "scorer.model_cache"),
    ("PROSPECTOR_EVALUATOR_DATA_DIR", "evaluator.data_dir"),
    ("PROSPECTOR_EVALUATOR_HTTP_LISTEN", "evaluator.http_listen"),
];

/// Keys whose environment value is a comma-separated list.
const LIST_KEYS: &[&str] = &["nats.servers", "tiler.input_roots"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl ServiceConfig {
    /// Loads the configuration: `path`, else `$PROSPECTOR_CONFIG`, else defaults; then
    /// the environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let path = path
            .map(Path::to_path_buf)
            .or_else(|| env("PROSPECTOR_CONFIG").map(PathBuf::from));
        let text = match &path {
            Some(path) => std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?,
            None => String::new(),
        };
        let origin = path.as_ref().map_or_else(
            || "built-in defaults".to_string(),
            |p| p.display().to_string(),
        );
        Self::from_toml_and_env(&text, &origin, env)
    }

    /// Parses `text` (TOML, from `origin`) and applies overrides looked up with `env`.
    pub fn from_toml_and_env(
        text: &str,
        origin: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    origin: origin.to_string(),
                    message: e.to_string(),
                })?;
        let mut overridden = Vec::new();
        for (variable, key) in ENV_OVERRIDES {
            if let Some(value) = env(variable) {
                set_key(&mut table, key, env_value(key, &value));
                overridden.push(*variable);
            }
        }
        let origin = if overridden.is_empty() {
            origin.to_string()
        } else {
            format!("{origin} with {}", overridden.join(", "))
        };
        table
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid {
                origin,
                message: e.to_string(),
            })
    }
}

fn env_value(key: &str, value: &str) -> toml::Value {
    if LIST_KEYS.contains(&key) {
        let items = value
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| toml::Value::String(item.to_string()))
            .collect();
        return toml::Value::Array(items);
    }
    toml::Value::String(value.to_string())
}

/// Sets a dotted `key` in `table`, creating the sections on the way.
fn set_key(table: &mut toml::Table, key: &str, value: toml::Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut section = table;
    for part in parts {
        let entry = section
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        section = match entry {
            toml::Value::Table(inner) => inner,
            _ => unreachable!("made a table just above"),
        };
    }
    section.insert(last.to_string(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn an_empty_file_gives_the_documented_defaults() {
        let config = ServiceConfig::from_toml_and_env("", "test", no_env).unwrap();
        assert_eq!(config.grpc.listen.port(), 50051);
        assert_eq!(config.telemetry.metrics_listen.port(), 9090);
        assert_eq!(config.scorer.max_batch, 256);
        assert_eq!(config.scorer.device, DevicePreference::Auto);
        assert_eq!(config.extractor.finder.thresh_isl, 3.0);
        assert_eq!(config.extractor.finder.thresh_pix, 5.0);
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let text = "[nats]\nservers = [\"nats://file:4222\"]\n[tiler]\ninput_roots = [\"/file\"]\n";
        let env = |name: &str| match name {
            "PROSPECTOR_NATS_URL" => Some("nats://a:4222, nats://b:4222".to_string()),
            "PROSPECTOR_TILER_INPUT_ROOTS" => Some("/data/a,/data/b".to_string()),
            "PROSPECTOR_SCORER_DEVICE" => Some("cpu".to_string()),
            "PROSPECTOR_NATS_TLS_CA" => Some("/etc/ca.pem".to_string()),
            _ => None,
        };
        let config = ServiceConfig::from_toml_and_env(text, "test.toml", env).unwrap();
        assert_eq!(config.nats.servers, ["nats://a:4222", "nats://b:4222"]);
        assert_eq!(
            config.tiler.input_roots,
            [PathBuf::from("/data/a"), PathBuf::from("/data/b")]
        );
        assert_eq!(config.scorer.device, DevicePreference::Cpu);
        assert_eq!(config.nats.tls.ca_file, Some(PathBuf::from("/etc/ca.pem")));
    }

    #[test]
    fn the_opentelemetry_endpoint_variable_is_honoured_and_ours_wins() {
        let standard = |name: &str| {
            (name == "OTEL_EXPORTER_OTLP_ENDPOINT").then(|| "http://otel:4317".to_string())
        };
        let config = ServiceConfig::from_toml_and_env("", "test", standard).unwrap();
        assert_eq!(
            config.telemetry.otlp_endpoint.as_deref(),
            Some("http://otel:4317")
        );
        let both = |name: &str| match name {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://otel:4317".to_string()),
            "PROSPECTOR_OTLP_ENDPOINT" => Some("http://tempo:4317".to_string()),
            _ => None,
        };
        let config = ServiceConfig::from_toml_and_env("", "test", both).unwrap();
        assert_eq!(
            config.telemetry.otlp_endpoint.as_deref(),
            Some("http://tempo:4317")
        );
        let none = ServiceConfig::from_toml_and_env("", "test", no_env).unwrap();
        assert_eq!(none.telemetry.otlp_endpoint, None);
    }

    #[test]
    fn an_unknown_key_is_refused_by_name_and_origin() {
        let err = ServiceConfig::from_toml_and_env("[scorer]\nmax_bach = 3\n", "svc.toml", no_env)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("svc.toml") && err.contains("max_bach"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_environment_value_names_the_variable() {
        let env = |name: &str| (name == "PROSPECTOR_SCORER_DEVICE").then(|| "tpu".to_string());
        let err = ServiceConfig::from_toml_and_env("", "defaults", env)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PROSPECTOR_SCORER_DEVICE") && err.contains("tpu"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = ServiceConfig::load(Some(Path::new("/nonexistent/prospector.toml")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/prospector.toml"), "{err}");
    }
}

//! Starting the evaluator binary and feeding it the messages the other stages publish.

use prospector_bus::topology::subjects;
use prospector_bus::{Bus, NatsBus, NatsConfig, Outgoing, Topology};
use prospector_proto::v1::{
    IslandStats, PixelEncoding, Pixels, ProgressEvent, Score, SkyPosition, SourceScores, Stage,
    TilePlan,
};
use prospector_proto::SCHEMA_VERSION;
pub use prospector_tests::ServiceProcess;
use prospector_tests::{binary, free_port};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "s3cret-token-for-tests";

/// Where one evaluator listens and keeps its files (kept across restarts).
#[derive(Debug)]
pub struct EvaluatorSetup {
    pub nats_url: String,
    pub grpc: u16,
    pub http: u16,
    pub metrics: u16,
    pub dir: tempfile::TempDir,
}

impl EvaluatorSetup {
    pub fn new(nats_url: String) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).expect("token written");
        Self {
            nats_url,
            grpc: free_port(),
            http: free_port(),
            metrics: free_port(),
            dir,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc)
    }

    pub fn http_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http)
    }

    pub fn metrics_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.metrics)
    }

    /// Starts the evaluator and waits until `/readyz` says the replay is done.
    pub fn start(&self) -> ServiceProcess {
        ServiceProcess::start(
            "the evaluator",
            Command::new(binary("prospector-evaluator", "prospector-evaluator"))
                .env("PROSPECTOR_NATS_URL", &self.nats_url)
                .env("PROSPECTOR_GRPC_LISTEN", format!("127.0.0.1:{}", self.grpc))
                .env(
                    "PROSPECTOR_EVALUATOR_HTTP_LISTEN",
                    format!("127.0.0.1:{}", self.http),
                )
                .env(
                    "PROSPECTOR_METRICS_LISTEN",
                    format!("127.0.0.1:{}", self.metrics),
                )
                .env("PROSPECTOR_EVALUATOR_DATA_DIR", self.data_dir())
                .env("PROSPECTOR_API_TOKEN_FILE", self.dir.path().join("token"))
                .env_remove("PROSPECTOR_CONFIG"),
            self.dir.path().join("evaluator.log"),
            self.metrics,
            Duration::from_secs(30),
        )
    }
}

/// A bus client with the topology created (as the operator's `prospector` set-up does).
pub async fn bus(url: &str) -> NatsBus {
    let config = NatsConfig {
        servers: vec![url.to_owned()],
        ..NatsConfig::default()
    };
    let bus = NatsBus::connect(&config, "test").await.expect("connected");
    bus.ensure_topology(&Topology::default())
        .await
        .expect("topology");
    bus
}

pub async fn publish(bus: &NatsBus, messages: Vec<Outgoing>) {
    bus.publish(messages).await.expect("published");
}

pub fn plan(image_id: &str, tiles: u32) -> Outgoing {
    Outgoing::new(
        subjects::PLANS,
        &TilePlan {
            schema_version: SCHEMA_VERSION,
            image_id: image_id.into(),
            tile_count: tiles,
            ..Default::default()
        },
    )
}

/// The extractor's report that tile `tile` owns `sources` sources.
pub fn extracted(image_id: &str, tile: u32, tiles: u32, sources: u32) -> Outgoing {
    Outgoing::new(
        subjects::PROGRESS,
        &ProgressEvent {
            schema_version: SCHEMA_VERSION,
            image_id: image_id.into(),
            stage: Stage::Extracted as i32,
            tile_index: tile,
            tile_count: tiles,
            sources_owned: sources,
            ..Default::default()
        },
    )
}

fn pixels(values: &[f32], side: u32) -> Pixels {
    Pixels {
        width: side,
        height: side,
        encoding: PixelEncoding::F32Le as i32,
        data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// A score as the scorer publishes it: a Gaussian blob cutout and a reconstruction that
/// misses it by an amount growing with `anomaly`.
pub fn score(image_id: &str, index: usize, anomaly: f64) -> Score {
    const SIDE: u32 = 16;
    let blob = |sigma: f32, x0: f32| -> Vec<f32> {
        (0..SIDE * SIDE)
            .map(|i| {
                let (x, y) = ((i % SIDE) as f32 - x0, (i / SIDE) as f32 - 7.5);
                (-(x * x + y * y) / (2.0 * sigma * sigma)).exp()
            })
            .collect()
    };
    Score {
        schema_version: SCHEMA_VERSION,
        source_id: format!("src{index:03}-{image_id}"),
        image_id: image_id.into(),
        model_version: "model-v1".into(),
        scores: Some(SourceScores {
            ncc: 1.0 - anomaly,
            anomaly,
            ..Default::default()
        }),
        name: format!("J1238-48{index:02}"),
        sky: Some(SkyPosition {
            ra_deg: 189.5 + index as f64 * 0.01,
            dec_deg: -48.2,
        }),
        island: Some(IslandStats {
            peak_flux_jy_beam: 0.001 * (index + 1) as f64,
            ..Default::default()
        }),
        model_pixels: Some(pixels(&blob(2.5, 7.5), SIDE)),
        reconstruction: Some(pixels(&blob(2.5, 7.5 + anomaly as f32 * 4.0), SIDE)),
        ..Default::default()
    }
}

pub fn score_message(score: &Score) -> Outgoing {
    Outgoing::new(subjects::SCORES, score)
}

/// Polls `check` every 50 ms until it returns `Some`, for up to 20 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

//! A whole Prospector deployment on one machine: a nats-server, the four services as
//! separate processes, and the `prospector` CLI as imaging pipelines call it.

use prospector_tests::{binary, free_port, http_get, NatsServer};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "pipeline-test-token";

/// How long a service may take to become ready (the scorer loads its model first).
const READY_WITHIN: Duration = Duration::from_secs(60);

/// The folders and configuration the services share.
#[derive(Debug)]
pub struct Cluster {
    pub nats: NatsServer,
    pub dir: tempfile::TempDir,
    pub tiler_grpc: u16,
    pub evaluator_grpc: u16,
}

impl Cluster {
    /// A nats-server and a configuration whose input root is `<dir>/images`.
    pub fn new() -> Self {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::create_dir_all(dir.path().join("images")).expect("images folder");
        std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).expect("token written");
        let config = format!(
            r#"
[nats]
servers = ["{nats}"]

[bus.consumer]
# Short, so a killed scorer's cutouts are redelivered within the test.
ack_wait = "4s"

[telemetry]
log_format = "json"

[grpc]
api_token_file = "{dir}/token"

[tiler]
input_roots = ["{dir}/images"]

[extractor]
workers = 1

[scorer]
device = "cpu"
max_batch = 32
model_cache = "{dir}/model-cache"

[evaluator]
data_dir = "{dir}/data"
"#,
            nats = nats.url(),
            dir = dir.path().display()
        );
        std::fs::write(dir.path().join("prospector.toml"), config).expect("config written");
        Self {
            nats,
            dir,
            tiler_grpc: free_port(),
            evaluator_grpc: free_port(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts `prospector-<kind>` (logging to `<dir>/<instance>.log`) and waits until
    /// its `/readyz` answers 200.
    pub fn start(&self, kind: &str, instance: &str) -> ServiceProcess {
        let name = format!("prospector-{kind}");
        let metrics = free_port();
        let log = self.path(&format!("{instance}.log"));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let grpc = match kind {
            "tiler" => self.tiler_grpc,
            "evaluator" => self.evaluator_grpc,
            _ => free_port(),
        };
        let child = Command::new(binary(&name, &name))
            .env("PROSPECTOR_CONFIG", self.path("prospector.toml"))
            .env("PROSPECTOR_METRICS_LISTEN", format!("127.0.0.1:{metrics}"))
            .env("PROSPECTOR_GRPC_LISTEN", format!("127.0.0.1:{grpc}"))
            .env(
                "PROSPECTOR_EVALUATOR_HTTP_LISTEN",
                format!("127.0.0.1:{}", free_port()),
            )
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let mut process = ServiceProcess {
            instance: instance.to_owned(),
            child,
            log,
            metrics,
        };
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("{instance} exited ({status}):\n{}", process.log());
            }
            let up = std::net::TcpStream::connect(("127.0.0.1", metrics)).is_ok();
            if up && http_get(&process.metrics_url("/readyz")).0 == 200 {
                return process;
            }
            assert!(
                Instant::now() < deadline,
                "{instance} was not ready in {READY_WITHIN:?}:\n{}",
                process.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `prospector submit IMAGE --server <tiler> [args]`, as a child process.
    pub fn submit(&self, image: &Path, args: &[&str]) -> Child {
        Command::new(cli())
            .arg("submit")
            .arg(image)
            .args(["--server", &format!("http://127.0.0.1:{}", self.tiler_grpc)])
            .args(args)
            .env_remove("PROSPECTOR_API_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("prospector submit starts")
    }

    /// `prospector model publish DIR` against this cluster's server.
    pub fn publish_model(&self, dir: &Path) -> String {
        let output = run_cli(
            Command::new(cli())
                .args(["model", "publish"])
                .arg(dir)
                .env("PROSPECTOR_CONFIG", self.path("prospector.toml")),
        );
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The catalogue the evaluator wrote for `image_id`.
    pub fn catalogue(&self, image_id: &str) -> PathBuf {
        self.path("data/catalogues").join(format!("{image_id}.csv"))
    }
}

/// The `prospector` CLI binary.
pub fn cli() -> PathBuf {
    binary("prospector-cli", "prospector")
}

/// Runs a CLI command to the end, with its output captured.
pub fn run_cli(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .expect("prospector runs")
}

/// Waits up to `limit` for `child` and returns its output.
pub fn finish(child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    let mut child = child;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!("still running after {limit:?}:\n{}", describe(&output));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().expect("output")
}

/// Exit status, stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// One running service; killed when dropped.
#[derive(Debug)]
pub struct ServiceProcess {
    pub instance: String,
    child: Child,
    log: PathBuf,
    metrics: u16,
}

impl ServiceProcess {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn metrics_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.metrics)
    }

    /// SIGKILL: no chance to finish or acknowledge anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and a clean exit within 20 s.
    pub fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(
                    status.success(),
                    "{} after SIGTERM: {status}\n{}",
                    self.instance,
                    self.log()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no exit 20 s after SIGTERM:\n{}",
                self.instance,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

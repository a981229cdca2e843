//! A whole Prospector deployment on one machine: a nats-server, the four services as
//! separate processes, and the `prospector` CLI as imaging pipelines call it.

pub use prospector_tests::ServiceProcess;
use prospector_tests::{
    binary, deployed_password, free_port, NatsAuth, NatsServer, NatsServerOptions, OtlpCollector,
};
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
    /// Each service connects as its own user of deploy/nats/accounts.conf, and the
    /// topology is created by `prospector topology apply` as `admin`.
    least_privilege: bool,
    pub dir: tempfile::TempDir,
    pub tiler_grpc: u16,
    pub evaluator_grpc: u16,
    /// Where every service exports its spans (OTLP/gRPC).
    pub collector: OtlpCollector,
}

impl Cluster {
    /// A nats-server without authentication and a configuration whose input root is
    /// `<dir>/images`; the services create the topology.
    pub fn new() -> Self {
        Self::with(NatsServer::start(), false)
    }

    /// As deployed: the server holds deploy/nats/accounts.conf, the topology is applied by
    /// `prospector topology apply` as `admin`, and each service runs as its own user with
    /// `bus.create = false`, so a missing permission fails the test.
    pub fn least_privilege() -> Self {
        let nats = NatsServer::start_with(NatsServerOptions {
            auth: Some(NatsAuth::DeployedAccounts),
            ..NatsServerOptions::default()
        });
        let cluster = Self::with(nats, true);
        let applied =
            run_cli(cluster.as_user(Command::new(cli()).args(["topology", "apply"]), "admin"));
        assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
        cluster
    }

    /// A NATS client as the operator (`admin` where the server has the deployed users).
    pub async fn operator_client(&self) -> async_nats::Client {
        let options = if self.least_privilege {
            async_nats::ConnectOptions::with_user_and_password(
                "admin".into(),
                deployed_password("admin"),
            )
        } else {
            async_nats::ConnectOptions::new()
        };
        options.connect(self.nats.url()).await.expect("connected")
    }

    /// `command` with the NATS credentials of `user` (none on an open server).
    fn as_user<'c>(&self, command: &'c mut Command, user: &str) -> &'c mut Command {
        command.env("PROSPECTOR_CONFIG", self.path("prospector.toml"));
        if self.least_privilege {
            command
                .env("PROSPECTOR_NATS_USER", user)
                .env("PROSPECTOR_NATS_PASSWORD", deployed_password(user));
        }
        command
    }

    fn with(nats: NatsServer, least_privilege: bool) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::create_dir_all(dir.path().join("images")).expect("images folder");
        std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).expect("token written");
        let config = format!(
            r#"
[nats]
servers = ["{nats}"]

[bus]
create = {create}

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
            dir = dir.path().display(),
            create = !least_privilege,
        );
        std::fs::write(dir.path().join("prospector.toml"), config).expect("config written");
        Self {
            nats,
            least_privilege,
            dir,
            tiler_grpc: free_port(),
            evaluator_grpc: free_port(),
            collector: OtlpCollector::start(),
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
        let grpc = match kind {
            "tiler" => self.tiler_grpc,
            "evaluator" => self.evaluator_grpc,
            _ => free_port(),
        };
        ServiceProcess::start(
            instance,
            self.as_user(&mut Command::new(binary(&name, &name)), kind)
                .env("PROSPECTOR_METRICS_LISTEN", format!("127.0.0.1:{metrics}"))
                .env("PROSPECTOR_GRPC_LISTEN", format!("127.0.0.1:{grpc}"))
                .env(
                    "PROSPECTOR_EVALUATOR_HTTP_LISTEN",
                    format!("127.0.0.1:{}", free_port()),
                )
                .env("PROSPECTOR_OTLP_ENDPOINT", self.collector.endpoint())
                .env("RUST_LOG", "info"),
            self.path(&format!("{instance}.log")),
            metrics,
            READY_WITHIN,
        )
        .with_grpc(grpc)
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
        let output = run_cli(self.as_user(
            Command::new(cli()).args(["model", "publish"]).arg(dir),
            "admin",
        ));
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

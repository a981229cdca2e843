//! Shared helpers for the end-to-end tests: locating the workspace, the shared data
//! and the tools that scripts/bootstrap.sh installs.

mod otlp_collector;

pub use otlp_collector::{OtlpCollector, ReceivedSpan};
use std::path::PathBuf;

/// The workspace root (the folder holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace")
        .to_path_buf()
}

/// A tool installed by scripts/bootstrap.sh into the project's virtualenv, found on PATH
/// (scripts/env.sh puts the virtualenv first). Panics with how to install it if missing:
/// a test that needs the tool cannot pass without it.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not on PATH: run `bash scripts/bootstrap.sh` and `source scripts/env.sh`")
        })
}

/// Authentication a test server requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatsAuth {
    UserPassword {
        user: String,
        password: String,
    },
    Token(String),
    /// The deployment's own least-privilege users (deploy/nats/accounts.conf), each with
    /// the password [`deployed_password`] gives.
    DeployedAccounts,
}

/// The users of deploy/nats/accounts.conf.
pub const DEPLOYED_USERS: [&str; 6] = [
    "tiler",
    "extractor",
    "scorer",
    "evaluator",
    "admin",
    "system",
];

/// The password of `user` on a server started with [`NatsAuth::DeployedAccounts`].
pub fn deployed_password(user: &str) -> String {
    format!("test-password-of-{user}")
}

/// Options of a test server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsServerOptions {
    /// Serve the monitoring endpoints (`/varz`, `/jsz`, `/healthz`) on a free port.
    pub monitoring: bool,
    pub auth: Option<NatsAuth>,
    /// Appended verbatim to the server's configuration file (e.g. `max_payload: 4096`, or
    /// an `include` of deploy/nats/accounts.conf).
    pub extra_config: String,
}

/// A real `nats-server` (from PATH, installed by scripts/bootstrap.sh) with JetStream and
/// file storage in a temporary folder, on a free loopback port: never the machine's own
/// server on 4222. Killed when dropped.
#[derive(Debug)]
pub struct NatsServer {
    child: std::process::Child,
    dir: tempfile::TempDir,
    port: u16,
    monitoring_port: Option<u16>,
}

impl NatsServer {
    /// A server with JetStream and no authentication.
    pub fn start() -> Self {
        Self::start_with(NatsServerOptions::default())
    }

    /// A server with the given options; panics (failing the test) with the server's log
    /// if it does not come up within 10 s.
    pub fn start_with(options: NatsServerOptions) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for the server");
        let port = free_port();
        let monitoring_port = options.monitoring.then(free_port);
        // The store size is pinned so that streams' byte reservations do not depend on how
        // much disk the test machine has free (the server's default is a share of it).
        let mut config = format!(
            "listen: 127.0.0.1:{port}\nserver_name: prospector_test\njetstream {{ store_dir: {:?}, max_file_store: 64G, max_memory_store: 2G }}\nlog_file: {:?}\n",
            dir.path().join("jetstream"),
            dir.path().join("nats-server.log"),
        );
        if let Some(http) = monitoring_port {
            config.push_str(&format!("http: 127.0.0.1:{http}\n"));
        }
        match &options.auth {
            Some(NatsAuth::UserPassword { user, password }) => config.push_str(&format!(
                "authorization {{ user: {user:?}, password: {password:?} }}\n"
            )),
            Some(NatsAuth::Token(token)) => {
                config.push_str(&format!("authorization {{ token: {token:?} }}\n"))
            }
            Some(NatsAuth::DeployedAccounts) => {
                // The file as deployed, its passwords (read from the server's environment
                // in production) written in.
                let mut accounts =
                    std::fs::read_to_string(workspace_root().join("deploy/nats/accounts.conf"))
                        .expect("deploy/nats/accounts.conf");
                for user in DEPLOYED_USERS {
                    let variable = format!(
                        "${}",
                        format!("PROSPECTOR_{user}_NATS_PASSWORD").to_uppercase()
                    );
                    accounts =
                        accounts.replace(&variable, &format!("{:?}", deployed_password(user)));
                }
                std::fs::write(dir.path().join("accounts.conf"), accounts)
                    .expect("accounts written");
                config.push_str("include ./accounts.conf\n");
            }
            None => {}
        }
        config.push_str(&options.extra_config);
        std::fs::write(dir.path().join("nats-server.conf"), config).expect("server config written");
        let child = spawn_server(&dir);
        let mut server = Self {
            child,
            dir,
            port,
            monitoring_port,
        };
        server.wait_until_ready();
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:<port>` of the monitoring endpoints, when enabled.
    pub fn monitoring_url(&self) -> Option<String> {
        self.monitoring_port
            .map(|p| format!("http://127.0.0.1:{p}"))
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nats-server.log")).unwrap_or_default()
    }

    /// Kills the server (as a crash would) and starts it again on the same port with the
    /// same JetStream storage, for fault tests.
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn_server(&self.dir);
        self.wait_until_ready();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Ready when a client connection gets the server's INFO line announcing JetStream.
    fn wait_until_ready(&mut self) {
        use std::io::{BufRead, BufReader};
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nats-server exited ({status}) at start:\n{}", self.log());
            }
            if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(1)));
                let mut line = String::new();
                if BufReader::new(stream).read_line(&mut line).is_ok()
                    && line.starts_with("INFO")
                    && line.contains("\"jetstream\":true")
                {
                    return;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!(
            "nats-server did not accept connections within 10 s:\n{}",
            self.log()
        );
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_server(dir: &tempfile::TempDir) -> std::process::Child {
    std::process::Command::new(tool("nats-server"))
        .arg("-c")
        .arg(dir.path().join("nats-server.conf"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nats-server starts")
}

/// The packages whose binaries the tests run: built together, so cargo unifies their
/// dependencies' features the same way whichever test asks first (building one alone
/// could select other features and rebuild the shared dependencies every time).
const BINARY_PACKAGES: [&str; 5] = [
    "prospector-cli",
    "prospector-tiler",
    "prospector-extractor",
    "prospector-scorer",
    "prospector-evaluator",
];

/// The binary `name` of workspace package `package` (one of [`BINARY_PACKAGES`]), built
/// first (cargo returns at once when it is up to date).
pub fn binary(package: &str, name: &str) -> PathBuf {
    assert!(
        BINARY_PACKAGES.contains(&package),
        "{package} is not among the binaries the tests build"
    );
    let status = std::process::Command::new(env!("CARGO"))
        .arg("build")
        .arg("--quiet")
        .args(BINARY_PACKAGES.iter().flat_map(|p| ["-p", p]))
        .current_dir(workspace_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the service binaries failed");
    // The test executable is target/<profile>/deps/<test>; binaries live one folder up.
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps");
    let binary = profile_dir.join(name);
    if binary.is_file() {
        return binary;
    }
    // `cargo test` may use another profile folder than `cargo build`: look in debug too.
    let debug = profile_dir
        .parent()
        .expect("target folder")
        .join("debug")
        .join(name);
    assert!(
        debug.is_file(),
        "no {name} binary at {} or {}",
        binary.display(),
        debug.display()
    );
    debug
}

/// A loopback port free now (the OS picks it for a listener we close at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A plain HTTP/1.1 GET of `http://host:port/path` (the monitoring and `/metrics`
/// endpoints); returns the status code and the body. Panics when nothing answers.
pub fn http_get(url: &str) -> (u16, String) {
    let response = String::from_utf8_lossy(&http_get_raw(url)).into_owned();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status from {url}: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The raw response (status line, headers, body) of a plain HTTP/1.1 GET, for binary
/// bodies such as PNG. Panics when nothing answers.
pub fn http_get_raw(url: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http:// URL: {url}"));
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = std::net::TcpStream::connect(host)
        .unwrap_or_else(|e| panic!("nothing answers at {url}: {e}"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("request sent");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response read");
    response
}

/// A real Prometheus server (Debian's `prometheus`, installed by scripts/bootstrap.sh)
/// scraping the given targets every second, on a free loopback port, with its storage in
/// a temporary folder. Killed when dropped.
#[derive(Debug)]
pub struct Prometheus {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Scrapes `targets` (job name, `host:port` of a `/metrics` endpoint); waits until
    /// the server says it is ready.
    pub fn start(targets: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for Prometheus");
        let mut config =
            String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
        for (job, target) in targets {
            config.push_str(&format!(
                "  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
            ));
        }
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("Prometheus configuration written");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = std::process::Command::new(tool("prometheus"))
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus starts");
        let server = Prometheus {
            child,
            port,
            _dir: dir,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let ready = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && http_get(&server.url("/-/ready")).0 == 200;
            if ready {
                return server;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Prometheus was not ready within 30 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The value of each series an instant PromQL query returns, with its labels as JSON.
    pub fn query(&self, promql: &str) -> Vec<(serde_json::Value, f64)> {
        let encoded: String = promql
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let (status, body) = http_get(&self.url(&format!("/api/v1/query?query={encoded}")));
        assert_eq!(status, 200, "query `{promql}` failed: {body}");
        let response: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        response["data"]["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|series| {
                let value = series["value"][1]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN);
                (series["metric"].clone(), value)
            })
            .collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `promtool check metrics` on a metrics exposition: `Err` with what it found, if anything.
pub fn promtool_check_metrics(exposition: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = std::process::Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("promtool's stdin")
        .write_all(exposition.as_bytes())
        .expect("exposition written to promtool");
    let out = child.wait_with_output().expect("promtool finishes");
    if out.status.success() && out.stdout.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A service binary running for a test, its stderr in a log file; killed when dropped.
#[derive(Debug)]
pub struct ServiceProcess {
    pub instance: String,
    /// Its gRPC port, when the test gave it one.
    pub grpc: Option<u16>,
    child: std::process::Child,
    log: PathBuf,
    metrics: u16,
}

impl ServiceProcess {
    /// Spawns `command` with its stderr appended to `log`, then waits up to `within` for
    /// `/readyz` on the `metrics` port to answer 200; panics with the log if it exits or
    /// is not ready in time.
    pub fn start(
        instance: &str,
        command: &mut std::process::Command,
        log: PathBuf,
        metrics: u16,
        within: std::time::Duration,
    ) -> Self {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let child = command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("{instance} starts: {e}"));
        let mut process = ServiceProcess {
            instance: instance.to_owned(),
            grpc: None,
            child,
            log,
            metrics,
        };
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("{instance} exited ({status}):\n{}", process.log());
            }
            let up = std::net::TcpStream::connect(("127.0.0.1", metrics)).is_ok();
            if up && http_get(&process.metrics_url("/readyz")).0 == 200 {
                return process;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{instance} was not ready in {within:?}:\n{}",
                process.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Records the gRPC port the test configured it with.
    pub fn with_grpc(mut self, port: u16) -> Self {
        self.grpc = Some(port);
        self
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `127.0.0.1:<port>` of its `/metrics`, as a Prometheus scrape target.
    pub fn metrics_target(&self) -> String {
        format!("127.0.0.1:{}", self.metrics)
    }

    pub fn metrics_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.metrics)
    }

    /// SIGKILL: no chance to finish or acknowledge anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (as Kubernetes sends), and a clean exit within 20 s.
    pub fn terminate(mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
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
                std::time::Instant::now() < deadline,
                "{}: no exit 20 s after SIGTERM:\n{}",
                self.instance,
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

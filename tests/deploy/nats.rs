//! The example NATS configuration: nats-server accepts it, and a real server started with
//! it gives each service user exactly the subjects its stage needs (least privilege).

use crate::support::{deploy_dir, printed, run};
use prospector_tests::{deployed_password, DEPLOYED_USERS};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// nats-server with `config` and the passwords in its environment (only those: the
/// test's own environment is not passed on).
fn nats_server(config: &Path) -> Command {
    let mut command = Command::new(prospector_tests::tool("nats-server"));
    command.env_clear().arg("-c").arg(config);
    for user in DEPLOYED_USERS {
        command.env(
            format!("PROSPECTOR_{}_NATS_PASSWORD", user.to_uppercase()),
            deployed_password(user),
        );
    }
    command
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().unwrap().port()
}

fn example_config() -> PathBuf {
    deploy_dir().join("nats/nats-server.conf")
}

/// A server on loopback ports with a throw-away store; killed when dropped. Runs a copy of
/// the example configuration whose only change is the store folder (nats-server refuses
/// `-sd` next to a `store_dir` in the file).
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let example = std::fs::read_to_string(example_config()).unwrap();
        let store_line = "  store_dir: /data/jetstream\n";
        assert!(
            example.contains(store_line),
            "nats-server.conf no longer has {store_line:?}"
        );
        let store = dir.path().join("jetstream");
        let config = dir.path().join("nats-server.conf");
        let copy = example.replace(store_line, &format!("  store_dir: {:?}\n", store));
        std::fs::write(&config, copy).unwrap();
        std::fs::copy(
            deploy_dir().join("nats/accounts.conf"),
            dir.path().join("accounts.conf"),
        )
        .unwrap();
        let port = free_port();
        let child = nats_server(&config)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-m",
                &free_port().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let server = Server {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on {port} within 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client speaking the NATS text protocol directly: enough to ask the server whether
/// a publish or subscribe is allowed, with no client library in between.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(port: u16, user: &str, password: &str) -> Result<Client, String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut client = Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        let info = client.line();
        assert!(info.starts_with("INFO "), "expected INFO, got {info}");
        let connect = serde_json::json!({
            "verbose": false, "pedantic": false, "protocol": 1,
            "user": user, "pass": password, "lang": "rust", "version": "test",
        });
        client
            .exchange(&format!("CONNECT {connect}\r\n"))
            .map(|()| client)
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .expect("the server answers within 5 s");
        line.trim_end().to_string()
    }

    /// Sends `command` and a PING; Ok when PONG comes back with no -ERR before it.
    fn exchange(&mut self, command: &str) -> Result<(), String> {
        self.writer
            .write_all(format!("{command}PING\r\n").as_bytes())
            .unwrap();
        loop {
            let line = self.line();
            if line.starts_with("-ERR") {
                return Err(line);
            }
            if line == "PONG" {
                return Ok(());
            }
            assert!(!line.is_empty(), "the server closed the connection");
        }
    }

    fn publish(&mut self, subject: &str) -> Result<(), String> {
        self.exchange(&format!("PUB {subject} 0\r\n\r\n"))
    }

    fn subscribe(&mut self, subject: &str) -> Result<(), String> {
        self.exchange(&format!("SUB {subject} 1\r\n"))
    }
}

#[test]
fn nats_server_accepts_the_example_configuration() {
    let out = run(nats_server(&example_config()).arg("-t"));
    assert!(
        out.status.success(),
        "nats-server -t rejected deploy/nats/nats-server.conf:\n{}",
        printed(&out)
    );
}

#[test]
fn the_configuration_holds_no_passwords_of_its_own() {
    let out = run(nats_server(&example_config())
        .env_remove("PROSPECTOR_SCORER_NATS_PASSWORD")
        .arg("-t"));
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("PROSPECTOR_SCORER_NATS_PASSWORD"),
        "without a password in the environment the server must refuse to start"
    );
}

#[test]
fn each_service_may_publish_and_subscribe_only_where_its_stage_needs() {
    let server = Server::start();
    // (user, publish or subscribe, subject, allowed)
    let cases: &[(&str, &str, &str, bool)] = &[
        ("tiler", "pub", "prospector.images", true),
        ("tiler", "pub", "prospector.tiles", true),
        (
            "tiler",
            "pub",
            "$JS.API.CONSUMER.MSG.NEXT.PROSPECTOR_IMAGES.tiler",
            true,
        ),
        ("tiler", "pub", "prospector.cutouts", false),
        ("extractor", "pub", "prospector.cutouts", true),
        (
            "extractor",
            "pub",
            "$JS.API.CONSUMER.MSG.NEXT.PROSPECTOR_TILES.extractor",
            true,
        ),
        (
            "extractor",
            "pub",
            "$JS.ACK.PROSPECTOR_TILES.extractor.1.2.3.4.5",
            true,
        ),
        ("extractor", "pub", "prospector.scores", false),
        (
            "extractor",
            "pub",
            "$JS.API.CONSUMER.MSG.NEXT.PROSPECTOR_CUTOUTS.scorer",
            false,
        ),
        (
            "extractor",
            "pub",
            "$JS.API.STREAM.DELETE.PROSPECTOR_TILES",
            false,
        ),
        ("extractor", "sub", "_INBOX.abc", true),
        ("extractor", "sub", "prospector.tiles", false),
        ("scorer", "pub", "prospector.scores", true),
        (
            "scorer",
            "pub",
            "$JS.API.DIRECT.GET.KV_prospector-models.$KV.prospector-models.active",
            true,
        ),
        ("scorer", "pub", "$KV.prospector-models.active", false),
        ("scorer", "pub", "prospector.labels", false),
        ("evaluator", "pub", "$KV.prospector-labels.source-1", true),
        (
            "evaluator",
            "pub",
            "$JS.API.CONSUMER.MSG.NEXT.PROSPECTOR_SCORES.evaluator",
            true,
        ),
        ("evaluator", "pub", "prospector.scores", false),
        ("evaluator", "pub", "$KV.prospector-models.active", false),
        (
            "admin",
            "pub",
            "$JS.API.STREAM.CREATE.PROSPECTOR_TILES",
            true,
        ),
        ("admin", "pub", "$KV.prospector-models.active", true),
        // Dead letters: each stage only under its own name.
        ("extractor", "pub", "prospector.dead.extractor", true),
        ("extractor", "pub", "prospector.dead.scorer", false),
        // Start-up: any stream may be looked up, none changed.
        (
            "scorer",
            "pub",
            "$JS.API.STREAM.INFO.PROSPECTOR_TILES",
            true,
        ),
        (
            "scorer",
            "pub",
            "$JS.API.STREAM.UPDATE.PROSPECTOR_CUTOUTS",
            false,
        ),
        // The evaluator reads history streams with ordered consumers, not work queues.
        (
            "evaluator",
            "pub",
            "$JS.API.CONSUMER.CREATE.PROSPECTOR_SCORES.ordered1.prospector.scores",
            true,
        ),
        (
            "evaluator",
            "pub",
            "$JS.API.CONSUMER.CREATE.PROSPECTOR_CUTOUTS.ordered1.prospector.cutouts",
            false,
        ),
        (
            "evaluator",
            "pub",
            "$KV.prospector-image-status.image-1",
            true,
        ),
    ];
    let mut wrong = Vec::new();
    for &(user, action, subject, allowed) in cases {
        let mut client = Client::connect(server.port, user, &deployed_password(user))
            .unwrap_or_else(|err| panic!("{user} cannot connect: {err}"));
        let outcome = match action {
            "pub" => client.publish(subject),
            _ => client.subscribe(subject),
        };
        if outcome.is_ok() != allowed {
            wrong.push(format!(
                "{user} {action} {subject}: expected allowed={allowed}, got {outcome:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "permissions differ from the design:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn a_wrong_password_is_refused() {
    let server = Server::start();
    let refused = Client::connect(server.port, "scorer", "not-the-password");
    assert!(
        matches!(&refused, Err(message) if message.contains("Authorization Violation")),
        "expected an authorization violation, got {:?}",
        refused.as_ref().map(|_| "a connection")
    );
}

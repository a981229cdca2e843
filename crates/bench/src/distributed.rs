//! End to end, distributed: the embedded runs' fields and model through a real
//! nats-server and the four service binaries as separate processes, submitted with the
//! imaging-pipeline hook (`prospector submit --wait`), in several shapes (one or two
//! extractors, one or two scorers). Beside each: the embedded time on the same fields
//! (the bus's cost), where the time went per stage (the services' own latency
//! histograms) and each service's peak resident memory (the kernel's `VmHWM`), which
//! across 1, 2, 4 ... images shows whether memory stays flat under sustained submission.

use crate::embedded::EmbeddedRuns;
use crate::finder::rate;
use crate::report::{Cell, Summary, Table};
use crate::{io_error, BenchError, Result, Tools, MIB};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a service may take to answer `/readyz` (the scorer loads its model first).
const READY_WITHIN: Duration = Duration::from_secs(120);
/// How long the submitted images may take, all together.
const IMAGES_WITHIN: Duration = Duration::from_secs(1800);

/// How many replicas of each scaled service a run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub extractors: usize,
    pub scorers: usize,
}

/// One distributed run's figures.
#[derive(Debug, Clone)]
struct RunFigures {
    wall_s: f64,
    cutouts: usize,
    /// Per stage: messages finished and the sum of their receipt-to-ack latencies.
    stages: Vec<(String, f64, f64)>,
    /// Per service instance: peak resident memory in bytes.
    peak_rss: Vec<(String, u64)>,
}

/// Runs every `(shape, images)` of `plan` `runs` times on the embedded runs' fields and
/// model, and tabulates them against the embedded times.
pub fn run(
    tools: &Tools,
    embedded: &EmbeddedRuns,
    plan: &[(Shape, usize)],
    runs: usize,
    work: &Path,
) -> Result<Vec<Table>> {
    let (side, model) = (embedded.side, embedded.model.as_path());
    let mut throughput = Table::new(
        "End to end, distributed (real nats-server, services as separate processes)",
        "prospector submit FIELD --wait, against prospector-tiler, -extractor ×E, -scorer ×S, -evaluator",
        &[
            "images",
            "extractors × scorers",
            "time",
            "Mpixel/s",
            "cutouts/s",
            "embedded time",
            "distributed / embedded",
        ],
    );
    let mut stages = Table::new(
        "Distributed: where the time goes (the services' own prospector_stage_latency_seconds)",
        "",
        &[
            "images",
            "extractors × scorers",
            "stage",
            "messages",
            "mean latency",
        ],
    );
    let mut memory = Table::new(
        "Distributed: peak resident memory per service (VmHWM)",
        "",
        &["images", "extractors × scorers", "service", "peak RSS"],
    );
    for &(shape, images) in plan {
        let fields = &embedded.fields[..images.min(embedded.fields.len())];
        let label = format!("{} × {}", shape.extractors, shape.scorers);
        println!("distributed: {images} image(s), {label}, {runs} runs");
        let mut measured = Vec::with_capacity(runs);
        for r in 0..runs {
            let dir = work.join(format!(
                "distributed-{images}-{}x{}-{r}",
                shape.extractors, shape.scorers
            ));
            let figures = Deployment::start(tools, &dir, fields, model, shape).and_then(
                |mut deployment| {
                    let figures = deployment.submit_and_measure(tools, fields);
                    deployment.stop();
                    figures
                },
            )?;
            std::fs::remove_dir_all(&dir)
                .map_err(io_error(format!("removing {}", dir.display())))?;
            measured.push(figures);
        }
        let time = Summary::of(&measured.iter().map(|m| m.wall_s).collect::<Vec<_>>())
            .ok_or_else(|| BenchError::Run("no distributed run finished".into()))?;
        let pixels = (fields.len() * side * side) as f64;
        let cutouts = measured[0].cutouts as f64;
        let reference = embedded.times.iter().find(|e| e.0 == fields.len());
        // Nothing lost, nothing doubled: every run scored what the embedded run scored.
        if let Some(&(_, _, expected)) = reference {
            if let Some(run) = measured.iter().find(|m| m.cutouts != expected) {
                return Err(BenchError::Run(format!(
                    "{label} on {images} image(s) scored {} cutouts, the embedded run {expected}",
                    run.cutouts
                )));
            }
        }
        throughput.push(vec![
            Cell::text(format!("{} × {side}²", fields.len())),
            Cell::text(label.clone()),
            Cell::figure(time, "s", 2),
            Cell::figure(rate(time, pixels / 1e6), "", 2),
            Cell::figure(rate(time, cutouts), "", 0),
            reference.map_or_else(|| Cell::text("—"), |e| Cell::figure(e.1, "s", 2)),
            reference.map_or_else(
                || Cell::text("—"),
                |e| Cell::figure(time.scaled(1.0 / e.1.median), "×", 2),
            ),
        ]);
        for (stage, _, _) in &measured[0].stages {
            let of = |m: &RunFigures| m.stages.iter().find(|s| &s.0 == stage).cloned();
            let per_run: Vec<_> = measured.iter().filter_map(of).collect();
            let messages = per_run.iter().map(|s| s.1).sum::<f64>() / per_run.len() as f64;
            let mean_ms: Vec<f64> = per_run
                .iter()
                .filter(|s| s.1 > 0.0)
                .map(|s| 1e3 * s.2 / s.1)
                .collect();
            stages.push(vec![
                Cell::text(fields.len().to_string()),
                Cell::text(label.clone()),
                Cell::text(stage.clone()),
                Cell::text(format!("{messages:.0}")),
                Cell::figure_or(Summary::of(&mean_ms), "ms", 1, "—"),
            ]);
        }
        for (service, _) in &measured[0].peak_rss {
            let peaks: Vec<f64> = measured
                .iter()
                .filter_map(|m| m.peak_rss.iter().find(|p| &p.0 == service))
                .map(|p| p.1 as f64 / MIB)
                .collect();
            memory.push(vec![
                Cell::text(fields.len().to_string()),
                Cell::text(label.clone()),
                Cell::text(service.clone()),
                Cell::figure_or(Summary::of(&peaks), "MiB", 0, "—"),
            ]);
        }
    }
    throughput.note("Every run's evaluator counted exactly the cutouts the embedded run scored on the same fields (checked; the run fails otherwise): nothing lost or doubled under the load.");
    throughput.note("Wall time from the first submission to the last image reported complete by the evaluator, services already running with the model loaded; the same fields and model as the embedded table. Every service, the nats-server and the submitting CLI share this machine's cores, so on 2 cores a second replica competes with the first rather than adding capacity: the shape rows measure the bus's cost and the scaling headroom, not a cluster's speed-up.");
    stages.note("Latency is from a message's receipt to its acknowledgement (handler, publish and the publish confirmation), summed by each service and divided by the messages it finished; batches overlap, so latencies add up to more than the wall time.");
    memory.note("Peak resident set of each service process over the whole run (the kernel's high-water mark), read before it is stopped. Across 1, 2, 4 ... images in a row it shows whether memory grows with the work submitted.");
    Ok(vec![throughput, stages, memory])
}

/// A nats-server and the services, started for one run in `dir`.
pub(crate) struct Deployment {
    dir: PathBuf,
    nats: Child,
    /// nats-server's monitoring port (`/jsz`).
    nats_monitor: u16,
    tiler_grpc: u16,
    evaluator_http: u16,
    /// Instance name, process, metrics port.
    services: Vec<(String, Child, u16)>,
}

impl Deployment {
    pub(crate) fn start(
        tools: &Tools,
        dir: &Path,
        fields: &[PathBuf],
        model: &Path,
        shape: Shape,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(io_error(format!("creating {}", dir.display())))?;
        let (nats_port, nats_monitor) = (free_port()?, free_port()?);
        let conf = dir.join("nats-server.conf");
        std::fs::write(
            &conf,
            format!(
                "listen: 127.0.0.1:{nats_port}\nhttp: 127.0.0.1:{nats_monitor}\nmax_payload: 8MB\njetstream {{ store_dir: {:?}, max_file_store: 64G, max_memory_store: 2G }}\n",
                dir.join("jetstream")
            ),
        )
        .map_err(io_error(format!("writing {}", conf.display())))?;
        let nats = Command::new(&tools.nats_server)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file(dir, "nats-server")?)
            .spawn()
            .map_err(io_error(format!(
                "starting {}",
                tools.nats_server.display()
            )))?;
        let mut deployment = Deployment {
            dir: dir.to_owned(),
            nats,
            nats_monitor,
            tiler_grpc: free_port()?,
            evaluator_http: free_port()?,
            services: Vec::new(),
        };
        wait_for_jetstream(nats_port)?;
        let inputs = fields
            .first()
            .and_then(|f| f.parent())
            .ok_or_else(|| BenchError::Setup("no fields to submit".into()))?;
        std::fs::write(
            deployment.config(),
            format!(
                "[nats]\nservers = [\"nats://127.0.0.1:{nats_port}\"]\n\n[tiler]\ninput_roots = [{inputs:?}]\n\n[extractor]\nworkers = 1\n\n[scorer]\ndevice = \"cpu\"\nmodel_cache = {:?}\n\n[evaluator]\ndata_dir = {:?}\n",
                dir.join("model-cache"),
                dir.join("data"),
            ),
        )
        .map_err(io_error("writing the services' configuration"))?;
        deployment.cli(tools, &["topology", "apply"])?;
        let mut publish = vec!["model".to_owned(), "publish".to_owned()];
        publish.push(model.display().to_string());
        deployment.cli(
            tools,
            &publish.iter().map(String::as_str).collect::<Vec<_>>(),
        )?;
        let mut instances = vec![
            ("evaluator", "evaluator".to_owned()),
            ("tiler", "tiler".to_owned()),
        ];
        instances.extend((1..=shape.extractors).map(|i| ("extractor", format!("extractor-{i}"))));
        instances.extend((1..=shape.scorers).map(|i| ("scorer", format!("scorer-{i}"))));
        for (kind, instance) in instances {
            deployment.start_service(tools, kind, instance)?;
        }
        Ok(deployment)
    }

    fn config(&self) -> PathBuf {
        self.dir.join("prospector.toml")
    }

    /// `prospector ARGS` against this deployment; fails with its output when it does.
    fn cli(&self, tools: &Tools, args: &[&str]) -> Result<()> {
        let output = tools
            .prospector()
            .args(args)
            .env("PROSPECTOR_CONFIG", self.config())
            .output()
            .map_err(io_error(format!("running prospector {args:?}")))?;
        if !output.status.success() {
            return Err(BenchError::Run(format!(
                "prospector {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(())
    }

    fn start_service(&mut self, tools: &Tools, kind: &str, instance: String) -> Result<()> {
        let binary = tools.service_binary(kind);
        let metrics = free_port()?;
        let grpc = if kind == "tiler" {
            self.tiler_grpc
        } else {
            free_port()?
        };
        let http = if kind == "evaluator" {
            self.evaluator_http
        } else {
            free_port()?
        };
        let child = Command::new(&binary)
            .env("PROSPECTOR_CONFIG", self.config())
            .env("PROSPECTOR_METRICS_LISTEN", format!("127.0.0.1:{metrics}"))
            .env("PROSPECTOR_GRPC_LISTEN", format!("127.0.0.1:{grpc}"))
            .env(
                "PROSPECTOR_EVALUATOR_HTTP_LISTEN",
                format!("127.0.0.1:{http}"),
            )
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file(&self.dir, &instance)?)
            .spawn()
            .map_err(io_error(format!("starting {}", binary.display())))?;
        self.services.push((instance.clone(), child, metrics));
        let deadline = Instant::now() + READY_WITHIN;
        while http_get(metrics, "/readyz").map(|(status, _)| status) != Some(200) {
            let (_, child, _) = self.services.last_mut().expect("just pushed");
            if let Ok(Some(status)) = child.try_wait() {
                return Err(BenchError::Run(format!(
                    "{instance} exited ({status}): see {}",
                    self.dir.join(format!("{instance}.log")).display()
                )));
            }
            if Instant::now() > deadline {
                return Err(BenchError::Run(format!(
                    "{instance} not ready in {READY_WITHIN:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// `prospector submit FIELD --wait` against this deployment, started.
    pub(crate) fn submit_and_wait(&self, tools: &Tools, field: &Path) -> Result<Child> {
        tools
            .prospector()
            .arg("submit")
            .arg(field)
            .args([
                "--wait",
                "--server",
                &format!("http://127.0.0.1:{}", self.tiler_grpc),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io_error("starting prospector submit"))
    }

    /// The service instances' names, in start order.
    pub(crate) fn instances(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|(name, _, _)| name.as_str())
    }

    pub(crate) fn evaluator_http(&self) -> u16 {
        self.evaluator_http
    }

    /// Each service instance's resident set now, in bytes (`VmRSS`).
    pub(crate) fn rss(&self) -> Result<Vec<u64>> {
        self.services
            .iter()
            .map(|(_, child, _)| proc_status_bytes(child.id(), "VmRSS"))
            .collect()
    }

    /// Each service instance's peak resident set so far, in bytes (`VmHWM`).
    pub(crate) fn peak_rss(&self) -> Result<Vec<u64>> {
        self.services
            .iter()
            .map(|(_, child, _)| proc_status_bytes(child.id(), "VmHWM"))
            .collect()
    }

    /// The pipeline's lag: messages not yet delivered plus not yet acknowledged, over the
    /// tiler's, extractors' and scorers' durable consumers (nats-server's `/jsz`).
    pub(crate) fn consumer_lag(&self) -> Result<u64> {
        let (status, body) = http_get(self.nats_monitor, "/jsz?consumers=true&config=true")
            .ok_or_else(|| BenchError::Run("nats-server's /jsz is unreachable".into()))?;
        let jsz: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| BenchError::Run(format!("nats-server's /jsz answered {status}: {e}")))?;
        Ok(consumer_lag(&jsz))
    }

    /// Submits every field at once and waits for all; then reads the services' figures.
    fn submit_and_measure(&mut self, tools: &Tools, fields: &[PathBuf]) -> Result<RunFigures> {
        let started = Instant::now();
        let waits: Vec<Child> = fields
            .iter()
            .map(|field| self.submit_and_wait(tools, field))
            .collect::<Result<_>>()?;
        for (field, wait) in fields.iter().zip(waits) {
            let output = wait_with_deadline(wait, started + IMAGES_WITHIN)?;
            if !output.0 {
                return Err(BenchError::Run(format!(
                    "submit --wait {}: {}",
                    field.display(),
                    output.1
                )));
            }
        }
        let wall_s = started.elapsed().as_secs_f64();
        let mut stages: Vec<(String, f64, f64)> = Vec::new();
        let mut peak_rss = Vec::new();
        let mut cutouts = 0.0;
        for (instance, child, metrics) in &self.services {
            let (_, exposition) = http_get(*metrics, "/metrics")
                .ok_or_else(|| BenchError::Run(format!("{instance}: /metrics unreachable")))?;
            for (stage, count, sum) in stage_latencies(&exposition) {
                match stages.iter_mut().find(|s| s.0 == stage) {
                    Some(entry) => {
                        entry.1 += count;
                        entry.2 += sum;
                    }
                    None => stages.push((stage, count, sum)),
                }
            }
            if instance == "evaluator" {
                cutouts = sample(&exposition, "prospector_sources_scored_total").unwrap_or(0.0);
            }
            peak_rss.push((instance.clone(), proc_status_bytes(child.id(), "VmHWM")?));
        }
        Ok(RunFigures {
            wall_s,
            cutouts: cutouts as usize,
            stages,
            peak_rss,
        })
    }

    /// SIGTERM to every service (as Kubernetes stops pods), then the server.
    pub(crate) fn stop(mut self) {
        for (_, child, _) in &self.services {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        for (_, child, _) in &mut self.services {
            let _ = child.wait();
        }
        let _ = self.nats.kill();
        let _ = self.nats.wait();
    }
}

impl Drop for Deployment {
    /// A run that failed half-way must not leave servers behind.
    fn drop(&mut self) {
        for (_, child, _) in &mut self.services {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.nats.kill();
        let _ = self.nats.wait();
    }
}

fn log_file(dir: &Path, name: &str) -> Result<std::fs::File> {
    let path = dir.join(format!("{name}.log"));
    std::fs::File::create(&path).map_err(io_error(format!("creating {}", path.display())))
}

fn free_port() -> Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(io_error("finding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(io_error("reading a bound port"))?
        .port())
}

/// Ready when a client connection gets the server's INFO line announcing JetStream.
fn wait_for_jetstream(port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
            let mut line = String::new();
            if BufReader::new(stream).read_line(&mut line).is_ok()
                && line.contains("\"jetstream\":true")
            {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(BenchError::Run(format!(
        "nats-server on port {port} did not start JetStream in 20 s"
    )))
}

/// `(succeeded, stderr)` of a child, killed at `deadline`.
fn wait_with_deadline(mut child: Child, deadline: Instant) -> Result<(bool, String)> {
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(io_error("waiting for prospector submit"))?
        {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            return Ok((status.success(), stderr));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok((false, format!("not complete within {IMAGES_WITHIN:?}")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain HTTP/1.0 GET on loopback: status and body, `None` when nothing answers.
pub(crate) fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Some((status, body))
}

/// The value of an unlabelled sample in a Prometheus text exposition.
fn sample(exposition: &str, name: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// `(stage, count, sum)` of every `prospector_stage_latency_seconds` series.
fn stage_latencies(exposition: &str) -> Vec<(String, f64, f64)> {
    let series = |suffix: &str| -> Vec<(String, f64)> {
        let prefix = format!("prospector_stage_latency_seconds_{suffix}{{stage=\"");
        exposition
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix(&prefix)?;
                let (stage, value) = rest.split_once("\"}")?;
                Some((stage.to_owned(), value.trim().parse().ok()?))
            })
            .collect()
    };
    let sums = series("sum");
    series("count")
        .into_iter()
        .map(|(stage, count)| {
            let sum = sums.iter().find(|s| s.0 == stage).map_or(0.0, |s| s.1);
            (stage, count, sum)
        })
        .collect()
}

/// A memory figure of the process from the kernel, in bytes: `VmRSS` (resident now) or
/// `VmHWM` (its high-water mark).
fn proc_status_bytes(pid: u32, field: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(io_error(format!("reading {path}")))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| BenchError::Run(format!("{path} has no {field}")))
}

/// The durable consumers the pipeline's stages work from. The evaluator reads the
/// history streams with ephemeral ordered consumers from their start (so its lag shows
/// in its catalogue, checked apart), which this sum leaves out.
const WORKING_CONSUMERS: [&str; 3] = ["tiler", "extractor", "scorer"];

/// `num_pending + num_ack_pending` summed over the [`WORKING_CONSUMERS`] in a
/// `/jsz?consumers=true&config=true` answer.
fn consumer_lag(jsz: &serde_json::Value) -> u64 {
    let all = |v: &serde_json::Value, key: &str| v[key].as_array().cloned().unwrap_or_default();
    all(jsz, "account_details")
        .iter()
        .flat_map(|account| all(account, "stream_detail"))
        .flat_map(|stream| all(&stream, "consumer_detail"))
        .filter(|c| {
            c["config"]["durable_name"]
                .as_str()
                .is_some_and(|d| WORKING_CONSUMERS.contains(&d))
        })
        .map(|c| {
            c["num_pending"].as_u64().unwrap_or(0) + c["num_ack_pending"].as_u64().unwrap_or(0)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::{consumer_lag, sample, stage_latencies};

    #[test]
    fn consumer_lag_sums_pending_and_unacknowledged_over_the_stages_consumers() {
        let jsz = serde_json::json!({"account_details": [{"stream_detail": [
            {"name": "PROSPECTOR_TILES", "consumer_detail": [
                {"name": "extractor", "config": {"durable_name": "extractor"},
                 "num_pending": 3, "num_ack_pending": 2}]},
            {"name": "PROSPECTOR_SCORES", "consumer_detail": [
                {"name": "Xq3p", "config": {}, "num_pending": 50, "num_ack_pending": 0},
                {"name": "evaluator-scores", "config": {"durable_name": "evaluator-scores"},
                 "num_pending": 700, "num_ack_pending": 0}]},
            {"name": "PROSPECTOR_CUTOUTS", "consumer_detail": [
                {"name": "scorer", "config": {"durable_name": "scorer"},
                 "num_pending": 0, "num_ack_pending": 4}]}
        ]}]});
        assert_eq!(consumer_lag(&jsz), 9);
        assert_eq!(consumer_lag(&serde_json::json!({})), 0);
    }

    #[test]
    fn stage_latencies_and_samples_are_read_from_an_exposition() {
        let exposition = "\
# TYPE prospector_stage_latency_seconds histogram
prospector_stage_latency_seconds_bucket{stage=\"scorer\",le=\"0.1\"} 3
prospector_stage_latency_seconds_sum{stage=\"scorer\"} 1.5
prospector_stage_latency_seconds_count{stage=\"scorer\"} 6
prospector_stage_latency_seconds_sum{stage=\"extractor\"} 4
prospector_stage_latency_seconds_count{stage=\"extractor\"} 2
prospector_sources_scored_total 17
";
        assert_eq!(
            stage_latencies(exposition),
            [
                ("scorer".to_owned(), 6.0, 1.5),
                ("extractor".to_owned(), 2.0, 4.0)
            ]
        );
        assert_eq!(
            sample(exposition, "prospector_sources_scored_total"),
            Some(17.0)
        );
        assert_eq!(sample(exposition, "prospector_missing"), None);
    }
}

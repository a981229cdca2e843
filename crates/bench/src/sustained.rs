//! Sustained load: many distinct images submitted back to back through one distributed
//! deployment, as an imaging pipeline's hook would (a fixed number of `prospector submit
//! --wait` in flight, the next started when one finishes), while each service's resident
//! memory and the bus's consumer lag are sampled every second. The run fails if an image
//! does not complete, a source found is not scored, or the lag does not drain.

use crate::distributed::{http_get, Deployment, Shape};
use crate::embedded::{simulate_fields, EmbeddedRuns};
use crate::report::{Cell, Table};
use crate::{io_error, BenchError, BenchOptions, Result, Tools, MIB};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// Between two samples of memory and lag.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// How long the lag may take to drain after the last image completes.
const DRAIN_WITHIN: Duration = Duration::from_secs(60);
/// Seed of the first field: apart from the end-to-end fields' seeds.
const FIRST_SEED: u64 = 1000;

/// One sample of the deployment while the load runs.
#[derive(Debug, Clone)]
struct Sample {
    images_done: usize,
    /// Per service instance, in the deployment's order: resident set in bytes.
    rss: Vec<u64>,
    /// Messages not yet delivered or not yet acknowledged, over the stages' consumers.
    lag: u64,
}

pub fn run(
    options: &BenchOptions,
    tools: &Tools,
    embedded: &EmbeddedRuns,
    work: &Path,
) -> Result<Vec<Table>> {
    let (count, side, in_flight) = (
        options.sustained_images,
        embedded.side,
        options.sustained_in_flight,
    );
    println!("sustained load: {count} images of {side}², {in_flight} in flight");
    let fields = simulate_fields(
        options,
        tools,
        &work.join("sustained-fields"),
        count,
        side,
        FIRST_SEED,
    )?;
    let dir = work.join("sustained");
    let shape = Shape {
        extractors: 1,
        scorers: 1,
    };
    let mut deployment = Deployment::start(tools, &dir, &fields, &embedded.model, shape)?;
    let started = Instant::now();
    let samples = submit_steadily(&mut deployment, tools, &fields, in_flight)?;
    let wall_s = started.elapsed().as_secs_f64();
    let drained = drain(&deployment, samples.last().map_or(0, |s| s.images_done))?;
    let (found, scored) = sources_found_and_scored(&deployment, count)?;
    let peaks = deployment.peak_rss()?;
    let instances: Vec<String> = deployment.instances().map(str::to_owned).collect();
    deployment.stop();
    std::fs::remove_dir_all(&dir).map_err(io_error(format!("removing {}", dir.display())))?;
    if scored != found {
        return Err(BenchError::Run(format!(
            "sustained load: {found} sources found but {scored} scored"
        )));
    }

    let max_lag = samples.iter().chain([&drained]).map(|s| s.lag).max();
    let mut load = Table::new(
        "Sustained load (distributed, 1 × 1, real nats-server)",
        "distinct simulated fields, each `prospector submit FIELD --wait`, a fixed number in flight",
        &[
            "images",
            "in flight",
            "time",
            "images/min",
            "sources found",
            "sources scored",
            "peak consumer lag",
            "lag at end",
        ],
    );
    load.push(vec![
        Cell::text(format!("{count} × {side}²")),
        Cell::text(in_flight.to_string()),
        Cell::text(format!("{wall_s:.0} s")),
        Cell::text(format!("{:.1}", 60.0 * count as f64 / wall_s)),
        Cell::text(found.to_string()),
        Cell::text(scored.to_string()),
        Cell::text(format!("{} messages", max_lag.unwrap_or(0))),
        Cell::text(drained.lag.to_string()),
    ]);
    load.note("Every image completed and every source found was scored, once in the catalogue (the evaluator's per-image found and scored counts agree; the run fails otherwise). Lag is the sum over the tiler's, extractor's and scorer's durable consumers of messages not yet delivered or not yet acknowledged (nats-server's /jsz), sampled every second; it must be back to 0 once the last image completes.");

    let mut memory = Table::new(
        "Sustained load: resident memory per service as the images complete",
        "",
        &[
            "service",
            "¼ of the images done",
            "½",
            "¾",
            "all",
            "peak (VmHWM)",
        ],
    );
    let at_fraction = |quarters: usize| {
        samples
            .iter()
            .find(|s| s.images_done * 4 >= count * quarters)
            .unwrap_or(&drained)
    };
    let checkpoints = [at_fraction(1), at_fraction(2), at_fraction(3), &drained];
    for (i, instance) in instances.iter().enumerate() {
        let mut row = vec![Cell::text(instance.clone())];
        row.extend(
            checkpoints
                .iter()
                .map(|s| Cell::text(format!("{:.0} MiB", s.rss[i] as f64 / MIB))),
        );
        row.push(Cell::text(format!("{:.0} MiB", peaks[i] as f64 / MIB)));
        memory.push(row);
    }
    memory.note(format!(
        "Resident set (VmRSS) when a quarter, half and three quarters of the {count} images had completed, and once the lag had drained; the peak is the kernel's high-water mark over the run. The tiler, extractor and scorer hold one message's work at a time; the evaluator holds the ranked catalogue ({found} sources here) and reads pictures back from the scores stream, so it is the one service that grows with the survey."
    ));
    if let Some(evaluator) = instances.iter().position(|i| i == "evaluator") {
        let first = checkpoints[0];
        let sources_after = found as f64 * (count - first.images_done) as f64 / count as f64;
        let grown = drained.rss[evaluator] as f64 - first.rss[evaluator] as f64;
        if sources_after > 0.0 {
            memory.note(format!(
                "The evaluator grew {:.1} KiB per source catalogued after the first quarter ({:.0} MiB for {:.0} sources): about {:.1} GiB for a million sources.",
                grown / sources_after / 1024.0,
                grown / MIB,
                sources_after,
                grown / sources_after * 1e6 / (1024.0 * MIB)
            ));
        }
    }
    Ok(vec![load, memory])
}

/// Keeps `in_flight` submissions running until every field is submitted and complete,
/// sampling the deployment every second.
fn submit_steadily(
    deployment: &mut Deployment,
    tools: &Tools,
    fields: &[PathBuf],
    in_flight: usize,
) -> Result<Vec<Sample>> {
    let mut pending = fields.iter();
    let mut running: Vec<(PathBuf, Child)> = Vec::new();
    let mut done = 0;
    let mut samples = Vec::new();
    let mut next_sample = Instant::now();
    loop {
        while running.len() < in_flight.max(1) {
            let Some(field) = pending.next() else { break };
            running.push((field.clone(), deployment.submit_and_wait(tools, field)?));
        }
        if running.is_empty() {
            break;
        }
        let mut still = Vec::with_capacity(running.len());
        for (field, mut child) in running {
            match child
                .try_wait()
                .map_err(io_error("waiting for prospector submit"))?
            {
                None => still.push((field, child)),
                Some(status) if status.success() => done += 1,
                Some(status) => {
                    let mut stderr = String::new();
                    if let Some(mut pipe) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                    }
                    return Err(BenchError::Run(format!(
                        "submit --wait {} exited {status}: {stderr}",
                        field.display()
                    )));
                }
            }
        }
        running = still;
        if Instant::now() >= next_sample {
            samples.push(sample(deployment, done)?);
            next_sample += SAMPLE_EVERY;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    samples.push(sample(deployment, done)?);
    Ok(samples)
}

/// Samples until the consumers' lag is 0; the last sample.
fn drain(deployment: &Deployment, images_done: usize) -> Result<Sample> {
    let deadline = Instant::now() + DRAIN_WITHIN;
    loop {
        let now = sample(deployment, images_done)?;
        if now.lag == 0 {
            return Ok(now);
        }
        if Instant::now() > deadline {
            return Err(BenchError::Run(format!(
                "the consumers' lag was still {} messages {DRAIN_WITHIN:?} after the last image completed",
                now.lag
            )));
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
}

fn sample(deployment: &Deployment, images_done: usize) -> Result<Sample> {
    Ok(Sample {
        images_done,
        rss: deployment.rss()?,
        lag: deployment.consumer_lag()?,
    })
}

/// Sums of the evaluator's per-image `sources_found` and `sources_scored` over the
/// `images` images, each of which must be complete.
fn sources_found_and_scored(deployment: &Deployment, images: usize) -> Result<(u64, u64)> {
    let (status, body) = http_get(deployment.evaluator_http(), "/api/images")
        .ok_or_else(|| BenchError::Run("the evaluator's /api/images is unreachable".into()))?;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body)
        .map_err(|e| BenchError::Run(format!("/api/images answered {status}: {e}")))?;
    let complete = rows.iter().filter(|r| r["stage"] == "complete").count();
    if rows.len() != images || complete != images {
        return Err(BenchError::Run(format!(
            "the evaluator knows {} images, {complete} complete; {images} were submitted",
            rows.len()
        )));
    }
    let sum = |key: &str| rows.iter().filter_map(|r| r[key].as_u64()).sum();
    Ok((sum("sources_found"), sum("sources_scored")))
}

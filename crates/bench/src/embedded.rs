//! End to end: `prospector run` (tiler, extractor and scorer stages over the in-process
//! bus, with a trained model) on 1, 2, 4 ... simulated fields: pixels and cutouts per
//! second, and how time and memory grow with the number of images.

use crate::finder::rate;
use crate::report::{Cell, Summary, Table};
use crate::{io_error, repeat, summary, BenchError, BenchOptions, Result, Tools, MIB};
use std::path::{Path, PathBuf};

/// The embedded runs' table, and what the distributed runs reuse: the same fields and
/// model, and the embedded time for each image count.
#[derive(Debug)]
pub struct EmbeddedRuns {
    pub table: Table,
    pub fields: Vec<PathBuf>,
    pub side: usize,
    pub model: PathBuf,
    /// Per image count: the wall time and the cutouts scored.
    pub times: Vec<(usize, Summary, usize)>,
}

pub fn run(
    options: &BenchOptions,
    tools: &Tools,
    training_cutouts: &Path,
    work: &Path,
) -> Result<EmbeddedRuns> {
    let count = options.e2e_images.iter().copied().max().unwrap_or(0);
    let side = options.e2e_side;
    println!("end to end: simulating {count} fields of {side}², training a model");
    let fields = simulate_fields(options, tools, &work.join("e2e-fields"), count, side, 3)?;
    let model = work.join("e2e-model");
    let mut train = tools.prospector();
    train
        .arg("train")
        .arg("--cutouts")
        .arg(training_cutouts)
        .arg("--out")
        .arg(&model)
        .args(["--epochs", "1", "--device", "cpu"]);
    run_to_completion(options, &mut train)?;

    let mut table = Table::new(
        "End to end, embedded (`prospector run`)",
        "prospector run FIELD... --out DIR --model MODEL",
        &[
            "images",
            "pixels",
            "time",
            "Mpixel/s",
            "cutouts scored",
            "cutouts/s",
            "peak RSS",
        ],
    );
    let mut times = Vec::new();
    for &k in &options.e2e_images {
        println!("end to end: {k} image(s), {} runs", options.runs);
        let out = |r: usize| work.join(format!("e2e-run-{k}-{r}"));
        let runs = repeat(options.runs, &options.our_limits(), |r| {
            let mut cmd = tools.prospector();
            cmd.arg("run")
                .args(&fields[..k])
                .arg("--out")
                .arg(out(r))
                .arg("--model")
                .arg(&model);
            cmd
        })?;
        let time = summary(&runs, |m| m.wall_s).ok_or_else(|| {
            BenchError::Run(format!(
                "prospector run on {k} image(s): {:?}",
                runs[0].outcome
            ))
        })?;
        let cutouts = scored_cutouts(&out(0).join("anomalies.csv"))?;
        times.push((k, time, cutouts));
        for r in 0..runs.len() {
            std::fs::remove_dir_all(out(r))
                .map_err(io_error(format!("removing {}", out(r).display())))?;
        }
        let pixels = (k * side * side) as f64;
        table.push(vec![
            Cell::text(format!("{k} × {side}²")),
            Cell::text(format!("{:.1} M", pixels / 1e6)),
            Cell::figure(time, "s", 2),
            Cell::figure(rate(time, pixels / 1e6), "", 2),
            Cell::text(cutouts.to_string()),
            Cell::figure(rate(time, cutouts as f64), "", 0),
            Cell::figure_or(
                summary(&runs, |m| m.peak_rss_bytes as f64 / MIB),
                "MiB",
                0,
                "—",
            ),
        ]);
    }
    table.note(format!(
        "Whole process: reading, tiling, finding, cutting out and scoring every source with a VQ-VAE trained for 1 epoch, ranking and writing the catalogues; {} cores.",
        options.threads
    ));
    Ok(EmbeddedRuns {
        table,
        fields,
        side,
        model,
        times,
    })
}

/// `count` simulated fields of `side`² in `dir` (`prospector simulate`), `seed` first.
pub(crate) fn simulate_fields(
    options: &BenchOptions,
    tools: &Tools,
    dir: &Path,
    count: usize,
    side: usize,
    seed: u64,
) -> Result<Vec<PathBuf>> {
    let mut simulate = tools.prospector();
    simulate.arg("simulate").arg("--out").arg(dir).args([
        "--fields",
        &count.to_string(),
        "--size",
        &side.to_string(),
        "--seed",
        &seed.to_string(),
    ]);
    run_to_completion(options, &mut simulate)?;
    Ok((0..count)
        .map(|i| dir.join(format!("field-{i:03}.fits")))
        .collect())
}

fn run_to_completion(options: &BenchOptions, command: &mut std::process::Command) -> Result<()> {
    let m = crate::child::measure(command, &options.our_limits())
        .map_err(io_error(format!("running {command:?}")))?;
    if m.finished() {
        Ok(())
    } else {
        Err(BenchError::Run(format!("{command:?}: {:?}", m.outcome)))
    }
}

/// Rows of `prospector run`'s ranking: one per scored cutout.
fn scored_cutouts(anomalies: &Path) -> Result<usize> {
    let text = std::fs::read_to_string(anomalies)
        .map_err(io_error(format!("reading {}", anomalies.display())))?;
    Ok(text.lines().skip(1).filter(|l| !l.is_empty()).count())
}

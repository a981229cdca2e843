//! The benchmark runner behind `prospector bench --out DIR`: every speed and memory
//! figure the README quotes, measured in one run on one machine, side by side with the
//! real alternatives, written as `DIR/bench.md` and `DIR/bench.json`.
//!
//! - [`finder`]: `prospector find` against PyBDSF 1.14.1 on the real images and on
//!   simulated fields, and our cost against image side (memory must stay flat);
//! - [`vqvae`]: the VQ-VAE's training and inference against the same model in Python
//!   PyTorch on the same libtorch, interleaved A/B rounds;
//! - [`limits`]: what the machine allows at best: reading the image bytes, and the
//!   model's FLOPs at libtorch's measured matmul peak;
//! - [`embedded`]: `prospector run` end to end against the number of images;
//! - [`distributed`]: the same fields through a real nats-server and the four service
//!   binaries, in several shapes;
//! - [`sustained`]: many images submitted back to back: memory per service and consumer
//!   lag over time, nothing lost.
//!
//! Each implementation runs as its own child process ([`child`]), so each peak RSS is the
//! kernel's account of that process alone, and slow reference runs are capped in wall
//! time and memory and reported as such.

pub mod child;
pub mod distributed;
pub mod embedded;
pub mod finder;
pub mod limits;
pub mod report;
pub mod sustained;
pub mod vqvae;

use child::{Limits, Measured};
use report::{Report, Summary};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Setup(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Run(String),
}

pub type Result<T> = std::result::Result<T, BenchError>;

pub(crate) fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
    let what = what.into();
    move |source| BenchError::Io { what, source }
}

/// What to measure and how often.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Runs of each of our measurements (and of the reference when it is fast).
    pub runs: usize,
    /// A/B rounds of the VQ-VAE comparison.
    pub rounds: usize,
    /// Cutouts the VQ-VAE trains on and scores.
    pub vqvae_images: usize,
    /// Simulated field sides our finder runs on (cost against image side).
    pub sim_sides: Vec<usize>,
    /// The simulated sides PyBDSF also runs on.
    pub pybdsf_sim_sides: Vec<usize>,
    /// Real images (from the shared data's fullfield/) PyBDSF and ours run on.
    pub real_images: Vec<finder::RealImage>,
    /// Wall-clock cap of one PyBDSF run.
    pub pybdsf_cap: Duration,
    /// Memory guard of any child (the machine is shared).
    pub memory_cap_bytes: u64,
    /// Image counts and field side of the end-to-end runs.
    pub e2e_images: Vec<usize>,
    pub e2e_side: usize,
    /// Distinct images of the sustained-load run, and how many are in flight at once.
    pub sustained_images: usize,
    pub sustained_in_flight: usize,
    /// CPU threads for both sides of every comparison.
    pub threads: usize,
    /// Which sections run.
    pub sections: Sections,
}

/// The benchmark's sections, to re-run part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections {
    /// Source finding against PyBDSF, cost against image side.
    pub finder: bool,
    /// The VQ-VAE against Python PyTorch.
    pub model: bool,
    /// Embedded, distributed and sustained-load runs.
    pub end_to_end: bool,
}

impl Sections {
    pub const ALL: Sections = Sections {
        finder: true,
        model: true,
        end_to_end: true,
    };

    /// Parses a comma-separated list of `finder`, `model`, `end-to-end`.
    pub fn parse(list: &str) -> std::result::Result<Sections, String> {
        let mut sections = Sections {
            finder: false,
            model: false,
            end_to_end: false,
        };
        for name in list.split(',').map(str::trim) {
            match name {
                "finder" => sections.finder = true,
                "model" => sections.model = true,
                "end-to-end" => sections.end_to_end = true,
                other => {
                    return Err(format!(
                        "unknown section `{other}` (finder, model, end-to-end)"
                    ))
                }
            }
        }
        Ok(sections)
    }
}

impl BenchOptions {
    /// The full run: about 45 minutes on 2 shared cores, most of it PyBDSF.
    pub fn full(data: &Path) -> BenchOptions {
        BenchOptions {
            runs: 3,
            rounds: 4,
            vqvae_images: 1024,
            sim_sides: vec![2048, 4096, 8192, 16384],
            pybdsf_sim_sides: vec![4096, 8192, 16384],
            real_images: finder::RealImage::all(data),
            pybdsf_cap: Duration::from_secs(480),
            memory_cap_bytes: 10 << 30,
            e2e_images: vec![1, 2, 4, 8],
            e2e_side: 1536,
            sustained_images: 48,
            sustained_in_flight: 2,
            threads: 2,
            sections: Sections::ALL,
        }
    }

    /// A few minutes: the small real images, small fields, fewer rounds.
    pub fn quick(data: &Path) -> BenchOptions {
        let mut real = finder::RealImage::all(data);
        // S17 alone keeps PyBDSF busy for minutes.
        real.retain(|r| !r.name.contains("S17"));
        BenchOptions {
            runs: 2,
            rounds: 2,
            vqvae_images: 512,
            sim_sides: vec![1024, 2048],
            pybdsf_sim_sides: vec![1024],
            real_images: real,
            pybdsf_cap: Duration::from_secs(120),
            e2e_images: vec![1, 2, 4],
            e2e_side: 1024,
            sustained_images: 16,
            ..BenchOptions::full(data)
        }
    }

    /// The distributed runs: one extractor and one scorer on each image count (memory
    /// against work submitted), then two extractors or two scorers on the most images.
    pub(crate) fn distributed_plan(&self) -> Vec<(distributed::Shape, usize)> {
        use distributed::Shape;
        let most = self.e2e_images.iter().copied().max().unwrap_or(1);
        let single = Shape {
            extractors: 1,
            scorers: 1,
        };
        let mut plan: Vec<_> = self.e2e_images.iter().map(|&k| (single, k)).collect();
        for shape in [
            Shape {
                extractors: 1,
                scorers: 2,
            },
            Shape {
                extractors: 2,
                scorers: 1,
            },
        ] {
            plan.push((shape, most));
        }
        plan
    }

    pub(crate) fn limits(&self, wall: Duration) -> Limits {
        Limits {
            wall,
            rss_bytes: self.memory_cap_bytes,
        }
    }

    /// Our own runs are never expected near a cap; a generous one still keeps a hung
    /// run from stalling the benchmark.
    pub(crate) fn our_limits(&self) -> Limits {
        self.limits(Duration::from_secs(1800))
    }
}

/// The programs the benchmark runs.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The `prospector` binary (ours).
    pub prospector: PathBuf,
    /// A Python with PyBDSF 1.14.1 (`scripts/install-pybdsf.sh`).
    pub pybdsf_python: PathBuf,
    /// A Python with the full torch wheel of the libtorch we link
    /// (`scripts/bootstrap.sh --full-torch`).
    pub torch_python: PathBuf,
    /// The repository, for the two Python scripts.
    pub repo: PathBuf,
    /// A nats-server with JetStream (on PATH: `scripts/bootstrap.sh` installs one).
    pub nats_server: PathBuf,
}

impl Tools {
    /// The default places (`$PROSPECTOR_CACHE`, else `~/.cache/prospector`), with
    /// `PYBDSF_VENV` and `PROSPECTOR_BENCH_PYTHON` as overrides; fails naming what is
    /// missing and how to install it.
    pub fn locate(prospector: PathBuf) -> Result<Tools> {
        let cache = std::env::var_os("PROSPECTOR_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/prospector")
            });
        let pybdsf_python = std::env::var_os("PYBDSF_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| cache.join("bdsf-venv"))
            .join("bin/python");
        let torch_python = std::env::var_os("PROSPECTOR_BENCH_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| cache.join("venv-full/bin/python"));
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let path = std::env::var_os("PATH").unwrap_or_default();
        let nats_server = std::env::split_paths(&path)
            .map(|dir| dir.join("nats-server"))
            .find(|candidate| candidate.is_file())
            .unwrap_or_else(|| PathBuf::from("nats-server"));
        let tools = Tools {
            prospector,
            pybdsf_python,
            torch_python,
            repo,
            nats_server,
        };
        for (path, how) in [
            (&tools.pybdsf_python, "bash scripts/install-pybdsf.sh"),
            (
                &tools.torch_python,
                "bash scripts/bootstrap.sh --full-torch",
            ),
            (&tools.nats_server, "bash scripts/bootstrap.sh"),
            (&tools.pybdsf_script(), "a checkout of the repository"),
            (&tools.pytorch_script(), "a checkout of the repository"),
        ] {
            if !path.exists() {
                return Err(BenchError::Setup(format!(
                    "{} not found (install with `{how}`, or run `bash scripts/bench.sh`)",
                    path.display()
                )));
            }
        }
        Ok(tools)
    }

    pub(crate) fn pybdsf_script(&self) -> PathBuf {
        self.repo.join("scripts/run-pybdsf.py")
    }

    pub(crate) fn pytorch_script(&self) -> PathBuf {
        self.repo.join("crates/bench/scripts/pytorch_vqvae.py")
    }

    /// `prospector-<kind>`, built beside `prospector` (`scripts/bench.sh` builds both).
    pub(crate) fn service_binary(&self, kind: &str) -> PathBuf {
        self.prospector.with_file_name(format!("prospector-{kind}"))
    }

    pub(crate) fn prospector(&self) -> Command {
        Command::new(&self.prospector)
    }
}

/// Runs every measurement, printing progress, and returns the report. `save` is given
/// the report so far after each section, so that a long run stopped early still leaves
/// what it measured.
pub fn run(
    options: &BenchOptions,
    tools: &Tools,
    data: &Path,
    work: &Path,
    save: &mut dyn FnMut(&Report) -> Result<()>,
) -> Result<Report> {
    let mut report = Report {
        machine: machine_description(),
        tables: Vec::new(),
    };
    let sections = options.sections;
    let finder = if sections.finder {
        let fields = finder::simulate_fields(options, tools, work)?;
        let finder = finder::run(options, tools, &fields, work)?;
        report.tables.extend(finder.tables.iter().cloned());
        save(&report)?;
        Some((fields, finder))
    } else {
        None
    };
    let training_cutouts = if sections.model {
        let vq = vqvae::run(options, tools, data, work)?;
        report.tables.push(vq.table.clone());
        // The limits need both our finder's and our model's rates.
        if let Some((fields, finder)) = &finder {
            report
                .tables
                .push(limits::run(options, fields, &finder.ours_by_side, &vq)?);
        }
        save(&report)?;
        vq.cutouts
    } else {
        vqvae::prepare_cutouts(options, data, work)?.0
    };
    if sections.end_to_end {
        let embedded = embedded::run(options, tools, &training_cutouts, work)?;
        report.tables.push(embedded.table.clone());
        save(&report)?;
        report.tables.extend(distributed::run(
            tools,
            &embedded,
            &options.distributed_plan(),
            options.runs,
            work,
        )?);
        save(&report)?;
        report
            .tables
            .extend(sustained::run(options, tools, &embedded, work)?);
    }
    report
        .machine
        .push(("load average at end".into(), load_average()));
    let spreads: Vec<f64> = report.tables.iter().flat_map(|t| t.spreads()).collect();
    if let Some(s) = Summary::of(&spreads) {
        report.machine.push((
            "machine noise".into(),
            format!(
                "the spread (max − min) / median of repeated runs was {:.0}% at the median figure, up to {:.0}%",
                100.0 * s.median,
                100.0 * s.max
            ),
        ));
    }
    save(&report)?;
    Ok(report)
}

/// 1, 5 and 15 minute load averages: how busy the shared machine was.
fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    load.join(" / ")
}

/// Cores, memory, CPU, niceness and load: the context every figure needs.
fn machine_description() -> Vec<(String, String)> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown".into());
    let memory_gib = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / (1024.0 * 1024.0));
    let nice = read("/proc/self/stat")
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(16).map(str::to_string))
        .unwrap_or_else(|| "?".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    vec![
        ("machine".into(), format!("{cores} cores ({cpu}), {memory_gib:.0} GiB memory")),
        (
            "sharing".into(),
            format!(
                "this machine is shared with other sessions' builds and tests, so absolute times vary; every measurement ran at nice {nice}, both sides of each comparison alike, and the ratios are the figures to trust"
            ),
        ),
        ("command".into(), std::env::args().collect::<Vec<_>>().join(" ")),
        ("load average at start".into(), load_average()),
    ]
}

/// Runs `command` `runs` times, stopping early (after the first) when one run fails or
/// hits a cap; returns every measurement made.
pub(crate) fn repeat(
    runs: usize,
    limits: &Limits,
    mut command: impl FnMut(usize) -> Command,
) -> Result<Vec<Measured>> {
    let mut out = Vec::new();
    for k in 0..runs {
        let mut cmd = command(k);
        let m = child::measure(&mut cmd, limits).map_err(io_error(format!("starting {cmd:?}")))?;
        let stop = !m.finished();
        out.push(m);
        if stop {
            break;
        }
    }
    Ok(out)
}

/// Median, min and max of a figure over the finished runs.
pub(crate) fn summary(runs: &[Measured], figure: impl Fn(&Measured) -> f64) -> Option<Summary> {
    let values: Vec<f64> = runs.iter().filter(|m| m.finished()).map(figure).collect();
    Summary::of(&values)
}

pub(crate) const MIB: f64 = 1024.0 * 1024.0;

#[cfg(test)]
mod tests {
    use super::Sections;

    #[test]
    fn sections_are_parsed_from_a_list_and_a_wrong_name_is_refused() {
        assert_eq!(
            Sections::parse("finder, end-to-end"),
            Ok(Sections {
                finder: true,
                model: false,
                end_to_end: true
            })
        );
        let refused = Sections::parse("finder,gpu").unwrap_err();
        assert!(refused.contains("`gpu`"), "{refused}");
    }
}

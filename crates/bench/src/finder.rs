//! Source finding: `prospector find` against PyBDSF 1.14.1 on the same images in the
//! same run (the real images of the shared data's fullfield/ and simulated MeerKAT-like
//! fields), and our cost against image side. Both run as whole processes, from the FITS
//! file to their outputs on disk, on the same number of cores.

use crate::child::{Measured, Outcome};
use crate::report::{Cell, Summary, Table};
use crate::{io_error, repeat, summary, BenchError, BenchOptions, Result, Tools, MIB};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A real image and the beam both finders are given when its header lacks one.
#[derive(Debug, Clone)]
pub struct RealImage {
    pub name: String,
    pub path: PathBuf,
    /// A circular beam FWHM in arcsec (the ATCA headers carry no BPA).
    pub beam_arcsec: Option<f64>,
    /// For PyBDSF, which refuses an image without a frequency it can read; it changes
    /// no island.
    pub frequency_hz: Option<&'static str>,
}

impl RealImage {
    /// The images of `DATA/fullfield/` (the shared data's README describes them).
    pub fn all(data: &Path) -> Vec<RealImage> {
        let dir = data.join("fullfield");
        [
            (
                "atca_scorpio_1p4GHz_ExtendedSourceField.fits",
                Some(6.5),
                None,
            ),
            ("atca_scorpio_1p4GHz_S17Field.fits", Some(6.5), None),
            ("lofar_GRB201006A_144MHz_cutout256.fits", None, None),
            ("amila_GRB120422A_15GHz_512.fits", None, None),
            // A Parkes 1.4 GHz map: its header has only RESTFRQ, which PyBDSF ignores.
            ("aegean_1904-66_SIN.fits", None, Some("1.420405752e9")),
        ]
        .into_iter()
        .map(|(file, beam_arcsec, frequency_hz)| RealImage {
            name: file.trim_end_matches(".fits").to_string(),
            path: dir.join(file),
            beam_arcsec,
            frequency_hz,
        })
        .collect()
    }
}

/// A simulated field on disk.
#[derive(Debug, Clone)]
pub struct SimField {
    pub side: usize,
    pub path: PathBuf,
}

impl SimField {
    pub fn image_bytes(&self) -> f64 {
        (self.side * self.side * 4) as f64
    }
}

/// The simulator's MeerKAT-like fields declare no frequency axis PyBDSF can read.
const SIM_FREQUENCY_HZ: &str = "1.28e9";

/// PyBDSF runs again for the median only when one run is this quick.
const PYBDSF_REPEAT_BELOW_S: f64 = 60.0;

/// Simulates one field of each side the benchmark needs (not measured).
pub fn simulate_fields(
    options: &BenchOptions,
    tools: &Tools,
    work: &Path,
) -> Result<Vec<SimField>> {
    let mut sides = options.sim_sides.clone();
    sides.extend(&options.pybdsf_sim_sides);
    sides.sort_unstable();
    sides.dedup();
    sides
        .into_iter()
        .map(|side| {
            let dir = work.join(format!("sim-{side}"));
            println!("simulating a {side}² field");
            let mut cmd = tools.prospector();
            cmd.arg("simulate").arg("--out").arg(&dir).args([
                "--fields",
                "1",
                "--size",
                &side.to_string(),
                "--seed",
                "2",
            ]);
            let m = crate::child::measure(&mut cmd, &options.our_limits())
                .map_err(io_error("running prospector simulate"))?;
            if !m.finished() {
                return Err(BenchError::Run(format!(
                    "simulating a {side}² field: {:?}",
                    m.outcome
                )));
            }
            Ok(SimField {
                side,
                path: dir.join("field-000.fits"),
            })
        })
        .collect()
}

/// The tables, and our finder's time by simulated side for the physical-limit table.
#[derive(Debug)]
pub struct FinderResults {
    pub tables: Vec<Table>,
    pub ours_by_side: Vec<(usize, Summary)>,
}

struct Case {
    name: String,
    path: PathBuf,
    pixels: f64,
    beam_arcsec: Option<f64>,
    frequency: Option<&'static str>,
    pybdsf: bool,
}

pub fn run(
    options: &BenchOptions,
    tools: &Tools,
    fields: &[SimField],
    work: &Path,
) -> Result<FinderResults> {
    let mut cases = Vec::new();
    for image in &options.real_images {
        let (w, h) = image_shape(&image.path)?;
        cases.push(Case {
            name: image.name.clone(),
            path: image.path.clone(),
            pixels: (w * h) as f64,
            beam_arcsec: image.beam_arcsec,
            frequency: image.frequency_hz,
            pybdsf: true,
        });
    }
    for field in fields {
        cases.push(Case {
            name: format!("simulated {0}²", field.side),
            path: field.path.clone(),
            pixels: (field.side * field.side) as f64,
            beam_arcsec: None,
            frequency: Some(SIM_FREQUENCY_HZ),
            pybdsf: options.pybdsf_sim_sides.contains(&field.side),
        });
    }
    let cap_s = options.pybdsf_cap.as_secs_f64();
    let guard_gib = options.memory_cap_bytes as f64 / (1024.0 * MIB);
    let mut versus = Table::new(
        "Source finding: Prospector vs PyBDSF 1.14.1",
        "prospector find IMAGE --out DIR --cutouts set  vs  python scripts/run-pybdsf.py IMAGE DIR",
        &[
            "image",
            "pixels",
            "Prospector time",
            "PyBDSF time",
            "PyBDSF / Prospector",
            "Prospector peak RSS",
            "PyBDSF peak RSS",
        ],
    );
    versus.note("PyBDSF also fits Gaussians to every island; we measure islands by moments (the islands agree: `cargo run --release -p prospector-sources --example benchmark`).");
    versus.note(format!(
        "Both are whole processes from FITS file to outputs on disk, {} threads each (PyBDSF ncores={0}): ours writes the catalogue (CSV and FITS), ds9 regions, rms and mean maps and the model-sized cutout set; PyBDSF runs process_image (thresh_isl 3, thresh_pix 5) and writes its source list and rms, mean and island maps. Python's start-up and import (about 2 s) count against PyBDSF.",
        options.threads
    ));
    versus.note(format!(
        "PyBDSF is stopped after {cap_s:.0} s (then the ratio is a lower bound) or past {guard_gib:.0} GiB of memory, and runs once when one run takes over {PYBDSF_REPEAT_BELOW_S:.0} s."
    ));
    versus.note("Peak RSS: the kernel's maxrss of each child process (wait4), the largest process of its group.");
    let mut by_side = Table::new(
        "Cost against image side (Prospector's finder, simulated fields)",
        "prospector find FIELD --out DIR --cutouts set",
        &[
            "side",
            "image bytes",
            "time",
            "Mpixel/s",
            "peak RSS",
            "peak RSS / image bytes",
            "sources",
        ],
    );
    by_side.note("The finder reads the image by tiles (subset reads), so its memory follows the tile working set and the catalogue, not the image size.");
    versus.push(start_up_row(options, tools)?);
    let mut ours_by_side = Vec::new();
    for case in &cases {
        println!("finder: {} ({} runs of ours)", case.name, options.runs);
        let ours = repeat(options.runs, &options.our_limits(), |k| {
            ours_command(
                tools,
                case,
                &work.join(format!("ours-{k}")),
                options.threads,
            )
        })?;
        clean(work, "ours")?;
        let ours_time = summary(&ours, |m| m.wall_s);
        let ours_rss = summary(&ours, |m| m.peak_rss_bytes as f64 / MIB);
        if ours_time.is_none() {
            return Err(BenchError::Run(format!(
                "prospector find failed on {}: {:?}",
                case.name, ours[0].outcome
            )));
        }
        let theirs = if case.pybdsf {
            println!("finder: {} with PyBDSF (cap {cap_s:.0} s)", case.name);
            let first = repeat(1, &options.limits(options.pybdsf_cap), |_| {
                pybdsf_command(tools, case, &work.join("pybdsf-0"))
            })?;
            let quick = first[0].finished() && first[0].wall_s < PYBDSF_REPEAT_BELOW_S;
            let mut all = first;
            if quick && options.runs > 1 {
                all.extend(repeat(
                    options.runs - 1,
                    &options.limits(options.pybdsf_cap),
                    |k| pybdsf_command(tools, case, &work.join(format!("pybdsf-{}", k + 1))),
                )?);
            }
            clean(work, "pybdsf")?;
            Some(all)
        } else {
            None
        };
        let ours_median = ours_time.map_or(f64::NAN, |s| s.median);
        let (their_time, ratio, their_rss) = match &theirs {
            None => (Cell::text("not run"), Cell::text("—"), Cell::text("—")),
            Some(runs) => {
                let last = runs.last().expect("at least one run");
                let rss = summary(runs, |m| m.peak_rss_bytes as f64 / MIB);
                match (&last.outcome, summary(runs, |m| m.wall_s)) {
                    (Outcome::Finished, Some(t)) => (
                        Cell::figure(t, "s", 2),
                        Cell::text(format!("**{:.0}×**", t.median / ours_median)),
                        Cell::figure_or(rss, "MiB", 0, "—"),
                    ),
                    (Outcome::Failed(why), _) => (
                        Cell::text(format!("failed: {why}")),
                        Cell::text("—"),
                        Cell::text("—"),
                    ),
                    (outcome, _) => {
                        let why = stopped(outcome, last, cap_s, guard_gib);
                        let bound = last.wall_s / ours_median;
                        (
                            Cell::text(why),
                            Cell::text(format!("> {bound:.0}× (lower bound)")),
                            Cell::text(format!(
                                "≥ {:.0} MiB when stopped",
                                last.peak_rss_bytes as f64 / MIB
                            )),
                        )
                    }
                }
            }
        };
        versus.push(vec![
            Cell::text(&case.name),
            Cell::text(format!("{:.2} M", case.pixels / 1e6)),
            Cell::figure_or(ours_time, "s", 3, "failed"),
            their_time,
            ratio,
            Cell::figure_or(ours_rss, "MiB", 0, "—"),
            their_rss,
        ]);
        if let Some(side) = fields.iter().find(|f| f.path == case.path).map(|f| f.side) {
            let time = ours_time.expect("checked above");
            let image_mib = case.pixels * 4.0 / MIB;
            let sources = ours.iter().find_map(sources_found).unwrap_or(0);
            by_side.push(vec![
                Cell::text(format!("{side}²")),
                Cell::text(format!("{image_mib:.0} MiB")),
                Cell::figure(time, "s", 2),
                Cell::figure(rate(time, case.pixels / 1e6), "", 1),
                Cell::figure_or(ours_rss, "MiB", 0, "—"),
                Cell::text(format!(
                    "{:.2}",
                    ours_rss.map_or(f64::NAN, |s| s.median) / image_mib
                )),
                Cell::text(sources.to_string()),
            ]);
            ours_by_side.push((side, time));
        }
    }
    Ok(FinderResults {
        tables: vec![versus, by_side],
        ours_by_side,
    })
}

/// What starting each program costs before any work: our binary loads libtorch (it
/// also trains and scores), Python loads numpy, scipy and PyBDSF.
fn start_up_row(options: &BenchOptions, tools: &Tools) -> Result<Vec<Cell>> {
    println!("finder: start-up of both programs");
    let ours = repeat(options.runs, &options.our_limits(), |_| {
        let mut cmd = tools.prospector();
        cmd.arg("--version");
        cmd
    })?;
    let theirs = repeat(options.runs, &options.our_limits(), |_| {
        let mut cmd = Command::new(&tools.pybdsf_python);
        cmd.args(["-c", "import bdsf"]);
        cmd
    })?;
    let time = |runs: &[Measured]| Cell::figure_or(summary(runs, |m| m.wall_s), "s", 3, "failed");
    let rss = |runs: &[Measured]| {
        Cell::figure_or(
            summary(runs, |m| m.peak_rss_bytes as f64 / MIB),
            "MiB",
            0,
            "failed",
        )
    };
    Ok(vec![
        Cell::text("start-up only: `prospector --version` vs `python -c 'import bdsf'`"),
        Cell::text("—"),
        time(&ours),
        time(&theirs),
        Cell::text("—"),
        rss(&ours),
        rss(&theirs),
    ])
}

/// A rate from a time: `amount / time`, min and max swapped accordingly.
pub(crate) fn rate(time: Summary, amount: f64) -> Summary {
    Summary {
        median: amount / time.median,
        min: amount / time.max,
        max: amount / time.min,
        n: time.n,
    }
}

/// Why a run was stopped by a cap.
fn stopped(outcome: &Outcome, last: &Measured, cap_s: f64, guard_gib: f64) -> String {
    match outcome {
        Outcome::OverMemory => format!(
            "stopped at the {guard_gib:.0} GiB memory guard after {:.0} s",
            last.wall_s
        ),
        _ => format!("did not finish within {cap_s:.0} s"),
    }
}

fn ours_command(tools: &Tools, case: &Case, out: &Path, threads: usize) -> Command {
    let mut cmd = tools.prospector();
    cmd.arg("find").arg(&case.path).arg("--out").arg(out).args([
        "--cutouts",
        "set",
        "--threads",
        &threads.to_string(),
    ]);
    if let Some(b) = case.beam_arcsec {
        cmd.arg("--beam").arg(format!("{b},{b},0"));
    }
    cmd
}

fn pybdsf_command(tools: &Tools, case: &Case, out: &Path) -> Command {
    let mut cmd = Command::new(&tools.pybdsf_python);
    cmd.arg(tools.pybdsf_script()).arg(&case.path).arg(out);
    if let Some(b) = case.beam_arcsec {
        let deg = (b / 3600.0).to_string();
        cmd.args(["--beam", &deg, &deg, "0"]);
    }
    if let Some(f) = case.frequency {
        cmd.args(["--frequency", f]);
    }
    cmd
}

/// "IMAGE: N sources (image id ...)" from `prospector find`.
fn sources_found(m: &Measured) -> Option<usize> {
    let line = m
        .stdout
        .lines()
        .find(|l| l.contains(" sources (image id"))?;
    let before = line.split(" sources (image id").next()?;
    before.rsplit(' ').next()?.parse().ok()
}

/// Removes the outputs of the runs (`work/PREFIX-*`): a 16k field's maps are gigabytes.
fn clean(work: &Path, prefix: &str) -> Result<()> {
    for entry in std::fs::read_dir(work).map_err(io_error(format!("listing {}", work.display())))? {
        let path = entry.map_err(io_error("listing the work folder"))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with(&format!("{prefix}-")) {
            std::fs::remove_dir_all(&path)
                .map_err(io_error(format!("removing {}", path.display())))?;
        }
    }
    Ok(())
}

/// Width and height of a FITS image (its first two axes).
fn image_shape(path: &Path) -> Result<(usize, usize)> {
    let image = prospector_fits::FitsImage::open(path, &prospector_fits::OpenOptions::default())
        .map_err(|e| BenchError::Setup(format!("{}: {e}", path.display())))?;
    Ok((image.width(), image.height()))
}

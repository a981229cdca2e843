//! prospector-sources against PyBDSF 1.14.1, in one run, on the same images.
//!
//! For each real image: PyBDSF's `process_image` (thresh_isl 3, thresh_pix 5,
//! otherwise its defaults; note that PyBDSF also fits Gaussians to every
//! island, which we do not) and our `find_sources` (catalogue, maps, cutouts
//! and raw cutout FITS all written), then:
//! - wall time of each and the ratio;
//! - the background rms map: median |ours - PyBDSF| / PyBDSF over the image;
//! - islands: counts, and the pixel overlap (Jaccard index) of the island masks;
//! - sources: the share of PyBDSF's sources (stored catalogue where there is
//!   one, else the fresh run) lying within one beam FWHM of a pixel of one of
//!   our islands; every island of ours with no PyBDSF source within a beam is
//!   listed with why;
//!
//! and on a 2048 x 2048 field from the project's simulator (prospector-skysim):
//! completeness by true peak SNR and reliability of both finders' islands
//! against the truth catalogue (`--no-sim-pybdsf` skips PyBDSF there).
//! `--only-sim` runs the simulated part alone.
//!
//! Speed and memory against PyBDSF, on larger fields and against image side,
//! are measured by `prospector bench` (crates/bench), not here.
//!
//! Run: `cargo run --release -p prospector-sources --example benchmark`

#[path = "../tests/common/mod.rs"]
mod common;

use prospector_fits::{FitsImage, OpenOptions};
use prospector_image::{Beam, Image};
use prospector_skysim::{simulate_to_fits, FieldConfig, TruthSource};
use prospector_sources::labeller::{runs_where, RowLabeller, Run};
use prospector_sources::pipeline::{find_sources, FindOptions};
use prospector_sources::Island;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const ATCA_BEAM: Beam = Beam {
    major_deg: 0.001_805_555_541_07,
    minor_deg: 0.001_805_555_541_07,
    pa_deg: 0.0,
};

struct Case {
    file: PathBuf,
    /// The beam given to both finders (the ATCA headers carry no BPA).
    beam: Option<Beam>,
    /// A stored PyBDSF source list for this image, when there is one.
    stored_catalogue: Option<PathBuf>,
    /// Both finders with `adaptive_rms_box`.
    adaptive: bool,
}

struct PyBdsf {
    seconds: f64,
    islands: usize,
    sources: usize,
    rms_box: (usize, usize),
    positions: Vec<(f64, f64)>,
    rms: Image,
    island_mask: Image,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let sim_pybdsf = !args.iter().any(|a| a == "--no-sim-pybdsf");
    let only_sim = args.iter().any(|a| a == "--only-sim");
    let work = tempfile::tempdir()?;
    install_pybdsf()?;
    let data = common::shared_data();
    let cases = [
        Case {
            file: common::fullfield("atca_scorpio_1p4GHz_ExtendedSourceField.fits"),
            beam: Some(ATCA_BEAM),
            stored_catalogue: Some(data.join(
                "fullfield/pybdsf-catalogues/atca_scorpio_1p4GHz_ExtendedSourceField.pybdsf.srl.csv",
            )),
            adaptive: false,
        },
        Case {
            file: common::fullfield("atca_scorpio_1p4GHz_S17Field.fits"),
            beam: Some(ATCA_BEAM),
            stored_catalogue: None,
            adaptive: false,
        },
        Case {
            file: common::fullfield("lofar_GRB201006A_144MHz_cutout256.fits"),
            beam: None,
            stored_catalogue: Some(
                data.join("fullfield/pybdsf-catalogues/lofar_GRB201006A_144MHz_cutout256.pybdsf.srl.csv"),
            ),
            adaptive: false,
        },
        Case {
            file: data.join("pybdsf-reference/reference_outputs/tbdsf_process_image.in_fits.pybdsf.ch0_I.fits"),
            beam: None,
            stored_catalogue: Some(
                data.join("pybdsf-reference/rerun_bdsf_1.14.1_defaults/pybdsf_test_ch0_I.pybdsf.srl.csv"),
            ),
            adaptive: false,
        },
        Case {
            file: common::fullfield("amila_GRB120422A_15GHz_512.fits"),
            beam: None,
            stored_catalogue: None,
            adaptive: false,
        },
        Case {
            file: common::fullfield("lofar_GRB201006A_144MHz_cutout256.fits"),
            beam: None,
            stored_catalogue: None,
            adaptive: true,
        },
    ];
    println!("prospector-sources vs PyBDSF 1.14.1 (PyBDSF also fits Gaussians to every island; we measure islands by moments)\n");
    for (k, case) in cases.iter().enumerate().filter(|_| !only_sim) {
        compare(case, &work.path().join(format!("case{k}")))?;
    }
    simulated_fields(sim_pybdsf, work.path())?;
    Ok(())
}

fn compare(case: &Case, work: &Path) -> Result<()> {
    let name = case
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    println!(
        "== {name}{}",
        if case.adaptive {
            " (adaptive_rms_box on both)"
        } else {
            ""
        }
    );
    let extra: &[&str] = if case.adaptive { &["--adaptive"] } else { &[] };
    let pyb = run_pybdsf(&case.file, case.beam, extra, &work.join("pybdsf"))?;
    let options = FindOptions {
        beam: case.beam,
        ..FindOptions::default()
    };
    let mut options = options;
    options.finder.background.adaptive_rms_box = case.adaptive;
    let start = Instant::now();
    let ours = find_sources(&case.file, &options, &work.join("ours"))?;
    let seconds = start.elapsed().as_secs_f64();
    let islands = islands_of(&case.file, &options)?;
    println!(
        "  time: PyBDSF {:.2} s, ours {:.3} s (all outputs written): {:.0}x faster",
        pyb.seconds,
        seconds,
        pyb.seconds / seconds
    );
    let b = ours.background.rms_box();
    println!(
        "  rms box: PyBDSF ({}, {}), ours ({}, {}){}; rms {} / mean {}",
        pyb.rms_box.0,
        pyb.rms_box.1,
        b.size,
        b.step,
        match ours.background.adaptive_box() {
            Some((small, bright)) => format!(
                ", small box ({}, {}) near {bright} bright sources",
                small.size, small.step
            ),
            None => String::new(),
        },
        if ours.background.rms_is_map() {
            "map"
        } else {
            "constant"
        },
        if ours.background.mean_is_map() {
            "map"
        } else {
            "constant"
        },
    );
    let rms_ours =
        FitsImage::open(work.join("ours/rms.fits"), &OpenOptions::default())?.read_all()?;
    println!(
        "  rms map: median relative difference to PyBDSF's {:.2}%",
        100.0 * common::median_relative_difference(&rms_ours, &pyb.rms)
    );
    println!(
        "  islands: ours {}, PyBDSF {} ({} sources); island-mask overlap (Jaccard) {:.3}",
        islands.len(),
        pyb.islands,
        pyb.sources,
        jaccard(&islands, &pyb.island_mask)
    );
    let wcs = FitsImage::open(&case.file, &OpenOptions::default())?
        .wcs()
        .clone();
    let beam_px = ours.beam.major_px;
    let stored = case
        .stored_catalogue
        .as_ref()
        .map(|p| common::pybdsf_positions(p));
    let (label, reference) = match &stored {
        Some(positions) => ("stored PyBDSF catalogue", positions.clone()),
        None => ("PyBDSF catalogue of this run", pyb.positions.clone()),
    };
    let pixels: Vec<(f64, f64)> = reference
        .iter()
        .filter_map(|&(ra, dec)| wcs.sky_to_pixel(ra, dec))
        .collect();
    let near = |x: f64, y: f64| {
        islands
            .iter()
            .any(|i| common::distance_to_island(i, x, y) <= beam_px)
    };
    let found = pixels.iter().filter(|&&(x, y)| near(x, y)).count();
    if pixels.is_empty() {
        println!("  sources: the {label} is empty");
    } else {
        println!(
            "  sources: {found} of {} in the {label} ({:.1}%) lie within one beam ({beam_px:.1} px) of one of our islands",
            pixels.len(),
            100.0 * found as f64 / pixels.len() as f64
        );
    }
    for &(x, y) in pixels.iter().filter(|&&(x, y)| !near(x, y)) {
        println!("    missed PyBDSF source at pixel ({x:.1}, {y:.1})");
    }
    for island in &islands {
        let has_source = pixels
            .iter()
            .any(|&(x, y)| common::distance_to_island(island, x, y) <= beam_px);
        if !has_source {
            println!("    extra: {}", explain_extra(island, &pyb.island_mask));
        }
    }
    println!();
    Ok(())
}

/// Why an island of ours has no PyBDSF source near it.
fn explain_extra(island: &Island, pybdsf_islands: &Image) -> String {
    let shared = island
        .runs
        .iter()
        .flat_map(|r| (r.x0..r.x1).map(move |x| (x, r.y)))
        .filter(|&(x, y)| pybdsf_islands.get(x, y).is_some_and(|v| v > 0.5))
        .count();
    let what = format!(
        "island at ({:.1}, {:.1}), {} px, peak SNR {:.1}",
        island.x, island.y, island.pixels, island.snr
    );
    if shared > 0 {
        format!(
            "{what}: PyBDSF has the same island ({shared} of its pixels shared) but its Gaussian fitting kept no source there"
        )
    } else {
        format!("{what}: PyBDSF has no island here (its background differs locally)")
    }
}

/// Our islands of `file`, found again in memory (the benchmark's own view).
fn islands_of(file: &Path, options: &FindOptions) -> Result<Vec<Island>> {
    let image = FitsImage::open(
        file,
        &OpenOptions {
            beam: options.beam,
            ..OpenOptions::default()
        },
    )?;
    let beam =
        prospector_sources::PixelBeam::new(&image.beam()?, image.wcs().pixel_area_sq_deg().sqrt());
    let pixels = image.read_all()?;
    Ok(prospector_sources::detect(&pixels, &beam, &options.finder)?.islands)
}

fn jaccard(islands: &[Island], mask: &Image) -> f64 {
    let mut ours = vec![false; mask.pixels().len()];
    let rect = mask.rect();
    for r in islands.iter().flat_map(|i| &i.runs) {
        for x in r.x0..r.x1 {
            ours[(r.y - rect.y0) * rect.width + (x - rect.x0)] = true;
        }
    }
    let theirs = mask.pixels().iter().map(|&v| v > 0.5);
    let (mut both, mut either) = (0usize, 0usize);
    for (a, b) in ours.iter().zip(theirs) {
        both += (*a && b) as usize;
        either += (*a || b) as usize;
    }
    if either == 0 {
        1.0
    } else {
        both as f64 / either as f64
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn install_pybdsf() -> Result<()> {
    let status = Command::new(repo_root().join("scripts/install-pybdsf.sh")).status()?;
    if !status.success() {
        return Err("scripts/install-pybdsf.sh failed".into());
    }
    Ok(())
}

fn pybdsf_python() -> PathBuf {
    std::env::var_os("PYBDSF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("PROSPECTOR_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var("HOME").unwrap_or_default())
                        .join(".cache/prospector")
                });
            cache.join("bdsf-venv")
        })
        .join("bin/python")
}

fn run_pybdsf(file: &Path, beam: Option<Beam>, extra: &[&str], out: &Path) -> Result<PyBdsf> {
    let mut cmd = Command::new(pybdsf_python());
    cmd.arg(repo_root().join("scripts/run-pybdsf.py"))
        .arg(file)
        .arg(out);
    if let Some(b) = beam {
        cmd.arg("--beam")
            .args([b.major_deg, b.minor_deg, b.pa_deg].map(|v| v.to_string()));
    }
    cmd.args(extra);
    let output = cmd.output()?;
    if !output.status.success() {
        return Err(format!(
            "PyBDSF failed on {}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json"))?)?;
    let get = |k: &str| info[k].as_f64().unwrap_or(f64::NAN);
    let srl = out.join("srl.csv");
    let positions = if srl.exists() {
        common::pybdsf_positions(&srl)
    } else {
        Vec::new()
    };
    Ok(PyBdsf {
        seconds: get("seconds"),
        islands: get("islands") as usize,
        sources: get("sources") as usize,
        rms_box: (
            info["rms_box"][0].as_u64().unwrap_or(0) as usize,
            info["rms_box"][1].as_u64().unwrap_or(0) as usize,
        ),
        positions,
        rms: FitsImage::open(out.join("rms.fits"), &OpenOptions::default())?.read_all()?,
        island_mask: FitsImage::open(out.join("islands.fits"), &OpenOptions::default())?
            .read_all()?,
    })
}

/// A simulated MeerKAT-like field of `n` x `n` pixels (prospector-skysim
/// defaults: 1.5" pixels, 7.5" beam, 4 uJy/beam correlated noise, 5000
/// sources per square degree, sidelobe artefacts): its FITS file and truth.
fn simulated(n: usize, seed: u64, dir: &Path) -> Result<(PathBuf, Vec<TruthSource>, f64)> {
    let config = FieldConfig {
        width: n,
        height: n,
        seed,
        ..FieldConfig::default()
    };
    let noise = config.noise_rms_jy;
    let image = dir.join(format!("sim{n}.fits"));
    let field = simulate_to_fits(config, &image, &dir.join(format!("sim{n}.csv")), 256)?;
    Ok((image, field.truth().to_vec(), noise))
}

/// Completeness against truth, by peak SNR, and reliability, for islands
/// given as runs: a true source is found when an island pixel lies within one
/// beam FWHM of its position; an island is real when a true source of peak
/// SNR >= 2 lies within one beam FWHM of one of its pixels.
fn truth_scores(
    islands: &[Vec<Run>],
    truth: &[TruthSource],
    noise: f64,
    beam_px: f64,
) -> (Vec<(usize, usize)>, f64) {
    let near = |runs: &[Run], t: &TruthSource| common::distance_to_runs(runs, t.x, t.y) <= beam_px;
    let bbox = |runs: &[Run]| {
        runs.iter()
            .fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |b, r| {
                (
                    b.0.min(r.x0 as f64),
                    b.1.min(r.y as f64),
                    b.2.max(r.x1 as f64),
                    b.3.max(r.y as f64 + 1.0),
                )
            })
    };
    let boxes: Vec<_> = islands.iter().map(|r| bbox(r)).collect();
    let around = |k: usize, t: &TruthSource| {
        let b = boxes[k];
        t.x >= b.0 - beam_px && t.x <= b.2 + beam_px && t.y >= b.1 - beam_px && t.y <= b.3 + beam_px
    };
    let mut bins = vec![(0usize, 0usize); SNR_BINS.len()];
    for t in truth {
        let snr = t.peak_jy_beam / noise;
        if let Some(bin) = SNR_BINS.iter().position(|&(lo, hi)| snr >= lo && snr < hi) {
            bins[bin].1 += 1;
            if (0..islands.len()).any(|k| around(k, t) && near(&islands[k], t)) {
                bins[bin].0 += 1;
            }
        }
    }
    let bright: Vec<&TruthSource> = truth
        .iter()
        .filter(|t| t.peak_jy_beam / noise >= 2.0)
        .collect();
    let real = (0..islands.len())
        .filter(|&k| bright.iter().any(|t| around(k, t) && near(&islands[k], t)))
        .count();
    (bins, real as f64 / islands.len().max(1) as f64)
}

const SNR_BINS: [(f64, f64); 6] = [
    (3.0, 5.0),
    (5.0, 7.0),
    (7.0, 10.0),
    (10.0, 20.0),
    (20.0, 50.0),
    (50.0, f64::INFINITY),
];

/// The islands of an island mask (1 inside), as runs.
fn mask_islands(mask: &Image) -> Vec<Vec<Run>> {
    let mut labeller = RowLabeller::new(true);
    let rect = mask.rect();
    let mut out = Vec::new();
    for row in 0..rect.height {
        let runs = runs_where(mask.row(row).iter().map(|&v| v > 0.5), rect.x0);
        out.extend(labeller.push_row(rect.y0 + row, &runs));
    }
    out.extend(labeller.finish());
    out.into_iter().map(|c| c.runs).collect()
}

/// Truth scores of both finders on a simulated field.
fn simulated_fields(with_pybdsf: bool, work: &Path) -> Result<()> {
    println!("== simulated fields (prospector-skysim, MeerKAT-like)");
    let n = 2048;
    let (image, truth, noise) = simulated(n, 1, work)?;
    let options = FindOptions::default();
    let start = Instant::now();
    let ours = find_sources(&image, &options, &work.join("sim-ours"))?;
    let seconds = start.elapsed().as_secs_f64();
    let islands: Vec<Vec<Run>> = islands_of(&image, &options)?
        .into_iter()
        .map(|i| i.runs)
        .collect();
    let beam_px = ours.beam.major_px;
    let (ours_bins, ours_reliability) = truth_scores(&islands, &truth, noise, beam_px);
    println!(
        "  {n} x {n}, {} true sources; ours {seconds:.2} s, {} islands",
        truth.len(),
        islands.len()
    );
    let theirs = if with_pybdsf {
        let frequency = ["--frequency", "1.28e9"];
        let pyb = run_pybdsf(&image, None, &frequency, &work.join("sim-pybdsf"))?;
        let pyb_islands = mask_islands(&pyb.island_mask);
        println!(
            "  PyBDSF {:.1} s, {} islands ({} sources): ours {:.0}x faster",
            pyb.seconds,
            pyb_islands.len(),
            pyb.sources,
            pyb.seconds / seconds
        );
        Some(truth_scores(&pyb_islands, &truth, noise, beam_px))
    } else {
        None
    };
    println!(
        "  completeness (true sources with an island pixel within one beam), by true peak SNR:"
    );
    for (k, &(lo, hi)) in SNR_BINS.iter().enumerate() {
        let (found, total) = ours_bins[k];
        let share = |f: usize, t: usize| {
            if t == 0 {
                f64::NAN
            } else {
                100.0 * f as f64 / t as f64
            }
        };
        print!(
            "    SNR {lo:>4}-{hi:<4}: ours {:5.1}% of {total}",
            share(found, total)
        );
        if let Some((bins, _)) = &theirs {
            print!(", PyBDSF {:5.1}%", share(bins[k].0, bins[k].1));
        }
        println!();
    }
    print!(
        "  reliability (islands with a true source of SNR >= 2 within one beam): ours {:.1}%",
        100.0 * ours_reliability
    );
    if let Some((_, r)) = &theirs {
        print!(", PyBDSF {:.1}%", 100.0 * r);
    }
    println!();
    Ok(())
}

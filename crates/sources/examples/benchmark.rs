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
//! and on a synthetic noise-plus-sources image of N x N pixels (default 8192,
//! `--big N`) our time and peak memory (measured in a child process) beside the
//! image size, with PyBDSF on a quarter of it (`--no-big-pybdsf` skips that).
//!
//! Run: `cargo run --release -p prospector-sources --example benchmark [-- --big 8192]`

#[path = "../tests/common/mod.rs"]
mod common;

use prospector_fits::{write_image, FitsImage, OpenOptions};
use prospector_image::{Beam, Image};
use prospector_sources::pipeline::{find_sources, CutoutOutput, FindOptions, FindSummary};
use prospector_sources::Island;
use prospector_wcs::{Projection, Wcs};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
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
    if args.get(1).map(String::as_str) == Some("--child") {
        return child(&args[2..]);
    }
    let big = args
        .iter()
        .position(|a| a == "--big")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(8192usize);
    let big_pybdsf = !args.iter().any(|a| a == "--no-big-pybdsf");
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
    for (k, case) in cases.iter().enumerate() {
        compare(case, &work.path().join(format!("case{k}")))?;
    }
    scaling(big, big_pybdsf, work.path())?;
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

/// A synthetic `n` x `n` image: Gaussian noise of 1 mJy/beam and one point or
/// extended source per 80 x 80 pixels on average, 2" pixels, 6" beam.
fn synthetic(n: usize, path: &Path) -> Result<()> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(n as u64);
    let noise = Normal::new(0.0, 1e-3)?;
    let mut data: Vec<f32> = (0..n * n).map(|_| noise.sample(&mut rng) as f32).collect();
    let sources = n * n / 6400;
    let uniform = rand_distr::Uniform::new(0.0, 1.0)?;
    for _ in 0..sources {
        let (cx, cy) = (
            uniform.sample(&mut rng) * n as f64,
            uniform.sample(&mut rng) * n as f64,
        );
        let sigma = if uniform.sample(&mut rng) < 0.2 {
            3.0 + 10.0 * uniform.sample(&mut rng)
        } else {
            1.27
        };
        let peak = 3e-3 * (1.0 / (1e-3 + uniform.sample(&mut rng))).min(300.0);
        let reach = (4.0 * sigma) as i64;
        for y in (cy as i64 - reach).max(0)..(cy as i64 + reach).min(n as i64) {
            for x in (cx as i64 - reach).max(0)..(cx as i64 + reach).min(n as i64) {
                let r2 = (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2);
                data[y as usize * n + x as usize] +=
                    (peak * (-r2 / (2.0 * sigma * sigma)).exp()) as f32;
            }
        }
    }
    let image = Image::from_vec(n, n, data)?;
    let wcs = Wcs::simple(
        Projection::Sin,
        150.0,
        -30.0,
        n as f64 / 2.0,
        n as f64 / 2.0,
        -2.0 / 3600.0,
        2.0 / 3600.0,
    )?;
    let beam = Beam {
        major_deg: 6.0 / 3600.0,
        minor_deg: 6.0 / 3600.0,
        pa_deg: 0.0,
    };
    // PyBDSF refuses an image without a frequency.
    let cards = [("RESTFRQ".to_string(), 1.4e9.into())];
    write_image(path, &image, &wcs, Some(&beam), &cards)?;
    Ok(())
}

/// Speed and peak memory on large synthetic images, each run in a child process.
fn scaling(big: usize, with_pybdsf: bool, work: &Path) -> Result<()> {
    println!("== synthetic images (noise + sources), our peak memory measured in a child process");
    let quarter = big / 2;
    for (n, pybdsf) in [(quarter, with_pybdsf), (big, false)] {
        let path = work.join(format!("synthetic{n}.fits"));
        synthetic(n, &path)?;
        let image_mb = (n * n * 4) as f64 / 1e6;
        print!("  {n} x {n} ({image_mb:.0} MB of pixels):");
        let mut ours_seconds = f64::NAN;
        for (what, flag) in [
            ("catalogue + maps", "none"),
            ("+ cutout set and raw cutouts", "all"),
        ] {
            let out = Command::new(std::env::current_exe()?)
                .args([
                    "--child",
                    &path.to_string_lossy(),
                    &work.join(format!("out{n}{flag}")).to_string_lossy(),
                    flag,
                ])
                .output()?;
            if !out.status.success() {
                return Err(
                    format!("child failed: {}", String::from_utf8_lossy(&out.stderr)).into(),
                );
            }
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let fields: Vec<f64> = text
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            let (seconds, peak_mb, sources) = (fields[0], fields[1], fields[2]);
            ours_seconds = seconds;
            print!(
                "\n    ours, {what}: {seconds:.2} s, peak RSS {peak_mb:.0} MB ({:.2} x the image), {sources} sources",
                peak_mb / image_mb
            );
        }
        if pybdsf {
            // The synthetic header has no frequency axis, which PyBDSF requires.
            let frequency = ["--frequency", "1.4e9"];
            let pyb = run_pybdsf(&path, None, &frequency, &work.join(format!("pybdsf{n}")))?;
            print!(
                "\n    PyBDSF {:.1} s ({} sources): ours {:.0}x faster with every output",
                pyb.seconds,
                pyb.sources,
                pyb.seconds / ours_seconds
            );
        }
        println!();
    }
    Ok(())
}

/// Child: `find_sources` on one file (cutouts `all` or `none`); prints
/// seconds, peak RSS (MB) and source count.
fn child(args: &[String]) -> Result<()> {
    let options = FindOptions {
        cutouts: if args[2] == "all" {
            CutoutOutput::All
        } else {
            CutoutOutput::None
        },
        ..FindOptions::default()
    };
    let start = Instant::now();
    let summary: FindSummary = find_sources(Path::new(&args[0]), &options, Path::new(&args[1]))?;
    let seconds = start.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status")?;
    let peak_kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    println!("{seconds} {} {}", peak_kb / 1024.0, summary.sources);
    Ok(())
}

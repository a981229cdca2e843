//! Peak memory and time of tile reads and of `ImageInfo` (sampled rows)
//! against a whole-image read, and of streamed row-block writes against a
//! whole-image write, side by side in one run, each in its own process so peak
//! RSS (VmHWM) belongs to one mode.
//!
//! `cargo run --release -p prospector-fits --example tile_memory -- [SIZE]`
//! (SIZE x SIZE float pixels, default 8192: a 256 MiB image).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use prospector_fits::{write_image, FitsImage, ImageInfo, ImageWriter, OpenOptions};
use prospector_image::{Image, PixelRect};
use prospector_wcs::{Projection, Wcs};

const TILE: usize = 1024;
const ROW_BLOCK: usize = 256;

fn pixel(x: usize, y: usize) -> f32 {
    ((x * 31 + y * 17) % 1000) as f32 * 1e-6
}

fn wcs(size: usize) -> Wcs {
    let c = size as f64 / 2.0;
    Wcs::simple(
        Projection::Sin,
        201.0,
        -43.0,
        c,
        c,
        -1.1 / 3600.0,
        1.1 / 3600.0,
    )
    .expect("valid WCS")
}

/// Peak resident memory of this process, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Runs one mode in this process; returns a checksum so no work is optimised away.
fn run_mode(mode: &str, path: &Path, size: usize) -> Result<f64, Box<dyn std::error::Error>> {
    match mode {
        "write-streamed" => {
            let mut writer = ImageWriter::create(path, size, size, &wcs(size), None, &[])?;
            for first in (0..size).step_by(ROW_BLOCK) {
                let rows = ROW_BLOCK.min(size - first);
                let block: Vec<f32> = (first..first + rows)
                    .flat_map(|y| (0..size).map(move |x| pixel(x, y)))
                    .collect();
                writer.write_rows(first, &block)?;
            }
            writer.finish()?;
            Ok(0.0)
        }
        "write-whole" => {
            let data: Vec<f32> = (0..size)
                .flat_map(|y| (0..size).map(move |x| pixel(x, y)))
                .collect();
            write_image(
                path,
                &Image::from_vec(size, size, data)?,
                &wcs(size),
                None,
                &[],
            )?;
            Ok(0.0)
        }
        "read-tiles" => {
            let image = FitsImage::open(path, &OpenOptions::default())?;
            let mut sum = 0.0;
            for y0 in (0..size).step_by(TILE) {
                for x0 in (0..size).step_by(TILE) {
                    let rect = PixelRect::new(x0, y0, TILE.min(size - x0), TILE.min(size - y0));
                    sum += image
                        .read_rect(rect)?
                        .pixels()
                        .iter()
                        .map(|&v| f64::from(v))
                        .sum::<f64>();
                }
            }
            Ok(sum)
        }
        "info" => {
            let image = FitsImage::open(path, &OpenOptions::default())?;
            Ok(ImageInfo::gather(&image)?
                .sample
                .robust_sigma
                .unwrap_or(f64::NAN))
        }
        "read-all" => {
            let image = FitsImage::open(path, &OpenOptions::default())?;
            Ok(image
                .read_all()?
                .pixels()
                .iter()
                .map(|&v| f64::from(v))
                .sum())
        }
        other => Err(format!("unknown mode {other}").into()),
    }
}

/// Runs a mode in a child process; returns (seconds, peak MiB, checksum).
fn child(
    mode: &str,
    path: &Path,
    size: usize,
) -> Result<(f64, f64, f64), Box<dyn std::error::Error>> {
    let out = Command::new(std::env::current_exe()?)
        .args(["--child", mode])
        .arg(path)
        .arg(size.to_string())
        .output()?;
    if !out.status.success() {
        return Err(format!("{mode} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = text
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    match v.as_slice() {
        [secs, mib, checksum] => Ok((*secs, *mib, *checksum)),
        _ => Err(format!("{mode}: unexpected output {text}").into()),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let (mode, path, size) = (&args[2], Path::new(&args[3]), args[4].parse()?);
        let start = Instant::now();
        let checksum = run_mode(mode, path, size)?;
        println!(
            "{} {} {}",
            start.elapsed().as_secs_f64(),
            peak_rss_mib(),
            checksum
        );
        return Ok(());
    }
    let size: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(8192);
    let dir = tempfile::tempdir()?;
    let streamed = dir.path().join("streamed.fits");
    let whole = dir.path().join("whole.fits");
    println!(
        "{size} x {size} float image ({} MiB of pixels)",
        size * size * 4 / (1 << 20)
    );
    let ws = child("write-streamed", &streamed, size)?;
    let ww = child("write-whole", &whole, size)?;
    if std::fs::read(&streamed)? != std::fs::read(&whole)? {
        return Err("streamed and whole writes differ".into());
    }
    let rt = child("read-tiles", &streamed, size)?;
    let ra = child("read-all", &streamed, size)?;
    let info = child("info", &streamed, size)?;
    if (rt.2 - ra.2).abs() > 1e-6 * ra.2.abs().max(1.0) {
        return Err(format!("tile and whole reads disagree: {} vs {}", rt.2, ra.2).into());
    }
    println!("{:<38} {:>9} {:>12}", "mode", "seconds", "peak MiB");
    for (name, r) in [
        (format!("write, {ROW_BLOCK}-row blocks (ImageWriter)"), ws),
        ("write, whole image (write_image)".to_string(), ww),
        (format!("read, {TILE}x{TILE} tiles (read_rect)"), rt),
        ("read, whole image (read_all)".to_string(), ra),
        ("ImageInfo::gather (sampled rows)".to_string(), info),
    ] {
        println!("{name:<38} {:>9.2} {:>12.1}", r.0, r.1);
    }
    println!(
        "peak memory ratio: write whole/streamed {:.1}x, read whole/tiles {:.1}x, read whole/info {:.1}x",
        ww.1 / ws.1,
        ra.1 / rt.1,
        ra.1 / info.1
    );
    println!(
        "time ratio: read tiles/whole {:.2}x, info/read whole {:.2}x",
        rt.0 / ra.0,
        info.0 / ra.0
    );
    Ok(())
}

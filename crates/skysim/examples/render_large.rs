//! Renders a large simulated field block by block, as a FITS writer would,
//! and reports the time and peak memory next to what holding the whole image
//! takes (`--whole` also renders it in one piece, for the side-by-side ratio;
//! `--fits PATH` also streams it to a FITS file through prospector-fits).
//!
//! cargo run --release -p prospector-skysim --example render_large -- [side_px] [rows_per_block] [--fits PATH] [--whole]

use std::time::Instant;

use prospector_skysim::{Field, FieldConfig};

/// Peak resident set size of this process so far, in MiB (Linux VmHWM).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds (user + system, all threads) this process has used: on a
/// shared machine the wall clock mostly measures the neighbours.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of them, in USER_HZ (100 per second on Linux).
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}

/// FNV-1a over the pixels' bits, fed in image order.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn add(&mut self, pixels: &[f32]) {
        for v in pixels {
            self.0 = (self.0 ^ u64::from(v.to_bits())).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let side = numbers.first().copied().unwrap_or(16_384);
    let rows = numbers.get(1).copied().unwrap_or(256);
    let whole = args.iter().any(|a| a == "--whole");
    let fits_path = args
        .iter()
        .position(|a| a == "--fits")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);

    let config = FieldConfig {
        width: side,
        height: side,
        ..FieldConfig::default()
    };
    let start = Instant::now();
    let field = Field::new(config)?;
    let build_s = start.elapsed().as_secs_f64();
    println!(
        "field {side}x{side}: {} sources, built in {build_s:.2} s, peak RSS {:.0} MiB",
        field.truth().len(),
        peak_rss_mib()
    );

    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    let mut checksum = Fnv::default();
    for block in field.row_blocks(rows) {
        checksum.add(block?.pixels());
    }
    let blocks_s = start.elapsed().as_secs_f64();
    let blocks_cpu = cpu_seconds() - cpu_start;
    let blocks_rss = peak_rss_mib();
    let image_mib = (side * side * 4) as f64 / (1024.0 * 1024.0);
    let mpix = (side * side) as f64 / 1e6;
    println!(
        "row blocks of {rows}: {blocks_s:.2} s wall, {blocks_cpu:.2} s CPU ({:.0} ns CPU/pixel), peak RSS {blocks_rss:.0} MiB; the f32 image alone is {image_mib:.0} MiB (RSS / image = {:.3}); pixel hash {:016x}",
        blocks_cpu * 1e3 / mpix,
        blocks_rss / image_mib,
        checksum.0
    );

    if let Some(path) = fits_path {
        let (start, cpu_start) = (Instant::now(), cpu_seconds());
        field.write_fits(&path, rows)?;
        println!(
            "FITS {} written in {:.2} s wall, {:.2} s CPU, peak RSS {:.0} MiB",
            path.display(),
            start.elapsed().as_secs_f64(),
            cpu_seconds() - cpu_start,
            peak_rss_mib()
        );
    }

    if whole {
        let (start, cpu_start) = (Instant::now(), cpu_seconds());
        let image = field.render()?;
        let whole_s = start.elapsed().as_secs_f64();
        let whole_cpu = cpu_seconds() - cpu_start;
        let whole_rss = peak_rss_mib();
        let mut whole_checksum = Fnv::default();
        whole_checksum.add(image.pixels());
        println!(
            "whole image at once: {whole_s:.2} s wall, {whole_cpu:.2} s CPU, peak RSS {whole_rss:.0} MiB; blocks/whole: CPU {:.2}, peak RSS {:.3}; same bytes: {}",
            blocks_cpu / whole_cpu,
            blocks_rss / whole_rss,
            whole_checksum.0 == checksum.0
        );
    }
    Ok(())
}

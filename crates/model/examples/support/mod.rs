//! Shared by the examples: a cutout set made of real MiraBest FIRST images, and the
//! process's peak memory.

use prospector_cutouts::{CutoutRecord, CutoutSet, Label};
use std::path::Path;

pub type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

pub const SIDE: usize = 64;

/// Peak resident set size of this process (VmHWM), in bytes.
pub fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// One MiraBest image as a 64x64 cutout in [0, 1].
fn mirabest_cutout(path: &Path) -> AnyResult<Vec<f32>> {
    let mut file = fitsio::FitsFile::open(path)?;
    let hdu = file.primary_hdu()?;
    let shape = match &hdu.info {
        fitsio::hdu::HduInfo::ImageInfo { shape, .. } => shape.clone(),
        _ => return Err(format!("{}: primary HDU is not an image", path.display()).into()),
    };
    let (h, w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let min = 2 * SIDE;
    if h < min || w < min {
        return Err(format!("{}: {w}x{h} is smaller than {min}x{min}", path.display()).into());
    }
    let pixels: Vec<f32> = hdu.read_image(&mut file)?;
    let (y0, x0) = ((h - 2 * SIDE) / 2, (w - 2 * SIDE) / 2);
    let mut binned = vec![0f32; SIDE * SIDE];
    for y in 0..SIDE {
        for x in 0..SIDE {
            let mut sum = 0.0;
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let v = pixels[(y0 + 2 * y + dy) * w + x0 + 2 * x + dx];
                sum += if v.is_finite() { v } else { 0.0 };
            }
            binned[y * SIDE + x] = sum / 4.0;
        }
    }
    let (lo, hi) = binned
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let range = if hi > lo { hi - lo } else { 1.0 };
    Ok(binned.iter().map(|v| (v - lo) / range).collect())
}

/// Flip and rotation `k` (0..8) of a square image.
fn dihedral(image: &[f32], k: usize) -> Vec<f32> {
    let n = SIDE;
    (0..n * n)
        .map(|i| {
            let (y, x) = (i / n, i % n);
            let (y, x) = if k & 4 != 0 { (y, n - 1 - x) } else { (y, x) };
            let (y, x) = match k & 3 {
                0 => (y, x),
                1 => (x, n - 1 - y),
                2 => (n - 1 - y, n - 1 - x),
                _ => (n - 1 - x, y),
            };
            image[y * n + x]
        })
        .collect()
}

/// `images` cutouts cycling through the MiraBest images in their eight flips and
/// rotations (10040 distinct cutouts; more repeat them).
pub fn mirabest_set(images: usize) -> AnyResult<CutoutSet> {
    // The shared-data locator fails, naming where it looked, when the data is missing.
    let files = prospector_testdata::mirabest_images();
    let base = files
        .iter()
        .map(|f| mirabest_cutout(f))
        .collect::<AnyResult<Vec<_>>>()?;
    let mut set = CutoutSet::new(
        SIDE,
        "MiraBest FIRST, central 128 px binned 2x2, min-max to [0,1]",
    );
    for i in 0..images {
        let (source, transform) = (i % base.len(), i / base.len() % 8);
        let name = files[source]
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let record = CutoutRecord {
            source_id: format!("{name}/t{transform}"),
            image_id: "mirabest".into(),
            name,
            ra_deg: 0.0,
            dec_deg: 0.0,
            x: 0.0,
            y: 0.0,
            peak_flux: 0.0,
            total_flux: 0.0,
            island_pixels: 0,
            cutout_side_px: 128,
            label: Label::Unlabelled,
        };
        set.push(record, &dihedral(&base[source], transform))?;
    }
    Ok(set)
}

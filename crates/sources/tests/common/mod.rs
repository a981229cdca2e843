//! Shared by the real-data tests and the benchmark: where the shared data lives
//! and how PyBDSF catalogues are read.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared real data (`$PROSPECTOR_SHARED_DATA`, else `<workspace>/../shared/data`).
pub fn shared_data() -> PathBuf {
    prospector_testdata::shared_data()
}

pub fn fullfield(name: &str) -> PathBuf {
    shared_data().join("fullfield").join(name)
}

/// (RA, Dec) of every source in a PyBDSF source list written as CSV.
pub fn pybdsf_positions(path: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<f64> = l
                .split(',')
                .take(5)
                .map(|v| v.trim().parse().unwrap_or(f64::NAN))
                .collect();
            (f[2], f[4])
        })
        .collect()
}

/// Distance in pixels from `(x, y)` to the nearest pixel of an island.
pub fn distance_to_island(island: &prospector_sources::Island, x: f64, y: f64) -> f64 {
    distance_to_runs(&island.runs, x, y)
}

/// Distance in pixels from `(x, y)` to the nearest of the pixels in `runs`.
pub fn distance_to_runs(runs: &[prospector_sources::labeller::Run], x: f64, y: f64) -> f64 {
    runs.iter()
        .map(|r| {
            let nearest_x = x.clamp(r.x0 as f64, (r.x1 - 1) as f64);
            (nearest_x - x).hypot(r.y as f64 - y)
        })
        .fold(f64::INFINITY, f64::min)
}

/// Median over pixels of |ours - theirs| / theirs (pixels finite in both).
pub fn median_relative_difference(
    ours: &prospector_image::Image,
    theirs: &prospector_image::Image,
) -> f64 {
    let mut rel: Vec<f64> = ours
        .pixels()
        .iter()
        .zip(theirs.pixels())
        .filter(|(a, b)| a.is_finite() && b.is_finite() && **b != 0.0)
        .map(|(&a, &b)| ((a - b) / b).abs() as f64)
        .collect();
    if rel.is_empty() {
        return f64::NAN;
    }
    let mid = rel.len() / 2;
    *rel.select_nth_unstable_by(mid, f64::total_cmp).1
}

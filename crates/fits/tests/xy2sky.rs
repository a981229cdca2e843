//! The WCS of every real image held against wcstools' `xy2sky`: pixel -> sky
//! must agree to 0.05 arcsec over a grid covering each image (and beyond its
//! edges), and sky -> pixel must invert it.

use std::path::Path;

use prospector_testdata::{separation_arcsec, xy2sky};

use prospector_fits::{FitsImage, OpenOptions};

const TOLERANCE_ARCSEC: f64 = 0.05;

/// A grid of 0-based pixel positions over the image, a little beyond its edges.
fn grid(width: usize, height: usize, steps: usize) -> Vec<(f64, f64)> {
    let along = |n: usize| -> Vec<f64> {
        (0..=steps)
            .map(|i| -2.0 + (n as f64 + 3.0) * i as f64 / steps as f64)
            .collect()
    };
    let xs = along(width);
    along(height)
        .into_iter()
        .flat_map(|y| xs.iter().map(move |&x| (x, y)))
        .collect()
}

/// Checks one image; returns the largest separation found.
fn check(path: &Path, steps: usize) -> f64 {
    let image = FitsImage::open(path, &OpenOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let pixels = grid(image.width(), image.height(), steps);
    let expected = xy2sky(path, &pixels);
    let mut worst: f64 = 0.0;
    for (&(x, y), &sky) in pixels.iter().zip(&expected) {
        let ours = image
            .wcs()
            .pixel_to_sky(x, y)
            .unwrap_or_else(|| panic!("{}: pixel ({x}, {y}) has no sky position", path.display()));
        let sep = separation_arcsec(ours, sky);
        assert!(
            sep <= TOLERANCE_ARCSEC,
            "{}: pixel ({x}, {y}): ours {ours:?}, xy2sky {sky:?}: {sep:.4}\" apart",
            path.display()
        );
        let (bx, by) = image
            .wcs()
            .sky_to_pixel(ours.0, ours.1)
            .expect("inverse exists");
        assert!(
            (bx - x).abs() < 1e-6 && (by - y).abs() < 1e-6,
            "{}: inverse at ({x}, {y})",
            path.display()
        );
        worst = worst.max(sep);
    }
    worst
}

#[test]
fn fullfield_and_pybdsf_images_match_xy2sky() {
    for path in prospector_testdata::fullfield_images() {
        let worst = check(&path, 12);
        eprintln!("{}: worst {worst:.2e} arcsec", path.display());
    }
}

#[test]
fn all_1255_mirabest_cutouts_match_xy2sky() {
    let images = prospector_testdata::mirabest_images();
    assert_eq!(
        images.len(),
        1255,
        "MiraBest fits150 should hold 1255 images"
    );
    let worst = images.iter().map(|p| check(p, 4)).fold(0.0, f64::max);
    eprintln!(
        "MiraBest: worst separation {worst:.2e} arcsec over {} images",
        images.len()
    );
}

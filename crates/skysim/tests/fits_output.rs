//! The FITS file holds exactly the rendered pixels, with a header that
//! external tools (fitsverify, wcstools' xy2sky) read as the truth catalogue
//! says.

mod common;

use std::path::Path;

use common::{crowded, field_config};
use prospector_fits::{FitsImage, OpenOptions};
use prospector_skysim::{load_truth_csv, simulate_to_fits};

#[test]
fn a_simulated_fits_image_reads_back_exactly_with_a_valid_header() {
    let dir = tempfile::tempdir().unwrap();
    let (image_path, truth_path) = (dir.path().join("sim.fits"), dir.path().join("truth.csv"));
    // Odd block size: the last block is short.
    let field = simulate_to_fits(crowded(301, 257, 31), &image_path, &truth_path, 100).unwrap();

    let fits = FitsImage::open(&image_path, &OpenOptions::default()).unwrap();
    assert_eq!(
        fits.read_all().unwrap().pixels(),
        field.render().unwrap().pixels()
    );
    let beam = fits.beam().unwrap();
    assert!(
        (beam.major_deg * 3600.0 - 7.5).abs() < 1e-9
            && (beam.minor_deg * 3600.0 - 7.5).abs() < 1e-9
    );
    assert_eq!(
        fits.header_value("BUNIT").and_then(|v| v.as_str()),
        Some("JY/BEAM")
    );
    assert_eq!(
        fits.header_value("FREQ").and_then(|v| v.as_f64()),
        Some(1.28e9)
    );

    let (warnings, errors, report) = prospector_testdata::fitsverify(&image_path);
    assert_eq!((warnings, errors), (0, 0), "{report}");

    // wcstools reads the header's WCS as the catalogue's RA/Dec.
    let truth = load_truth_csv(&truth_path).unwrap();
    assert_eq!(truth, field.truth());
    let sample: Vec<_> = truth.iter().step_by(truth.len() / 8 + 1).collect();
    let pixels: Vec<(f64, f64)> = sample.iter().map(|t| (t.x, t.y)).collect();
    let theirs = prospector_testdata::xy2sky(&image_path, &pixels);
    for (t, (ra, dec)) in sample.iter().zip(theirs) {
        let dra = (t.ra_deg - ra) * t.dec_deg.to_radians().cos() * 3600.0;
        let ddec = (t.dec_deg - dec) * 3600.0;
        assert!(dra.hypot(ddec) < 0.01, "{t:?}: xy2sky gives ({ra}, {dec})");
    }
}

#[test]
fn an_unwritable_fits_path_is_named_in_the_error() {
    let err = simulate_to_fits(
        field_config(16, 16, 1, 5_000.0),
        Path::new("/nonexistent-dir/sim.fits"),
        Path::new("/nonexistent-dir/truth.csv"),
        8,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent-dir/sim.fits"),
        "{err}"
    );
}

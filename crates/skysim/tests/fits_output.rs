//! The FITS file holds exactly the rendered pixels, with a header that
//! external tools (fitsverify, wcstools' xy2sky) read as the truth catalogue
//! says.

mod common;

use std::path::Path;
use std::process::Command;

use common::{crowded, field_config};
use prospector_fits::{FitsImage, OpenOptions};
use prospector_skysim::{load_truth_csv, simulate_to_fits};

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} could not run ({e}); scripts/bootstrap.sh installs it"));
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

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

    let verify = run("fitsverify", &[path_str(&image_path)]);
    assert!(
        verify.contains("Verification found 0 warning(s) and 0 error(s)"),
        "{verify}"
    );

    // wcstools reads the header's WCS as the catalogue's RA/Dec (1-based pixels).
    let truth = load_truth_csv(&truth_path).unwrap();
    assert_eq!(truth, field.truth());
    let sample: Vec<_> = truth.iter().step_by(truth.len() / 8 + 1).collect();
    let mut args = vec![
        "-d".to_string(),
        "-n".into(),
        "9".into(),
        path_str(&image_path).into(),
    ];
    for t in &sample {
        args.push(format!("{}", t.x + 1.0));
        args.push(format!("{}", t.y + 1.0));
    }
    let text = run(
        "xy2sky",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let theirs: Vec<(f64, f64)> = text
        .lines()
        .map(|l| {
            let f: Vec<f64> = l
                .split_whitespace()
                .take(2)
                .filter_map(|t| t.parse().ok())
                .collect();
            (f[0], f[1])
        })
        .collect();
    assert_eq!(theirs.len(), sample.len(), "xy2sky said:\n{text}");
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

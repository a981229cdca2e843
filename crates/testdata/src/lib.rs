//! Test support shared by Prospector's crates (a dev-dependency only): where the real
//! shared data lives (`$PROSPECTOR_SHARED_DATA`, else `<workspace>/../shared/data`), and
//! the independent reference tools the tests hold our output against.
//!
//! Every function panics with a message saying what is missing: a test that needs the
//! data or a tool cannot pass without it, and must not silently skip.

use std::path::PathBuf;

/// `$PROSPECTOR_SHARED_DATA`, else `<workspace>/../shared/data`; fails (never
/// skips) when it is missing.
pub fn shared_data() -> PathBuf {
    let dir = std::env::var_os("PROSPECTOR_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    assert!(
        dir.join("fullfield").is_dir(),
        "shared real data not found at {} (set PROSPECTOR_SHARED_DATA)",
        dir.display()
    );
    dir
}

/// Every image in fullfield/ (the Aegean component table is not an image) and
/// the PyBDSF reference image.
pub fn fullfield_images() -> Vec<PathBuf> {
    let data = shared_data();
    let mut images: Vec<PathBuf> = std::fs::read_dir(data.join("fullfield"))
        .expect("fullfield/ is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            name.ends_with(".fits") && !name.contains("aegean_comp")
        })
        .collect();
    images.sort();
    images.push(
        data.join(
            "pybdsf-reference/reference_outputs/tbdsf_process_image.in_fits.pybdsf.ch0_I.fits",
        ),
    );
    assert_eq!(
        images.len(),
        6,
        "expected 5 fullfield images and the PyBDSF image"
    );
    images
}

/// All MiraBest FIRST cutouts.
pub fn mirabest_images() -> Vec<PathBuf> {
    let mut images: Vec<PathBuf> = std::fs::read_dir(shared_data().join("mirabest/fits150"))
        .expect("mirabest/fits150 is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "fits"))
        .collect();
    images.sort();
    images
}

/// Runs `fitsverify` and returns (warnings, errors) from its summary line.
pub fn fitsverify(path: &std::path::Path) -> (usize, usize, String) {
    let out = std::process::Command::new("fitsverify")
        .arg(path)
        .output()
        .expect("fitsverify is installed (scripts/bootstrap.sh)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let summary = text
        .lines()
        .find(|l| l.contains("Verification found"))
        .unwrap_or_else(|| panic!("no fitsverify summary in:\n{text}"));
    let numbers: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|t| t.parse().ok())
        .collect();
    (numbers[0], numbers[1], text)
}

/// (RA, Dec) from `xy2sky -d -n 9` for 0-based pixels (it takes 1-based ones).
pub fn xy2sky(path: &std::path::Path, pixels: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut cmd = std::process::Command::new("xy2sky");
    cmd.args(["-d", "-n", "9"]).arg(path);
    for &(x, y) in pixels {
        cmd.arg(format!("{}", x + 1.0)).arg(format!("{}", y + 1.0));
    }
    let out = cmd.output().expect("xy2sky (wcstools) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<(f64, f64)> = text
        .lines()
        .map(|l| {
            let f: Vec<f64> = l
                .split_whitespace()
                .take(2)
                .map(|t| t.parse().expect("a number"))
                .collect();
            (f[0], f[1])
        })
        .collect();
    assert_eq!(
        rows.len(),
        pixels.len(),
        "{}: xy2sky said\n{text}",
        path.display()
    );
    rows
}

pub fn separation_arcsec(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (ra1, d1) = (a.0.to_radians(), a.1.to_radians());
    let (ra2, d2) = (b.0.to_radians(), b.1.to_radians());
    // Haversine: exact for tiny angles.
    let h =
        ((d2 - d1) / 2.0).sin().powi(2) + d1.cos() * d2.cos() * ((ra2 - ra1) / 2.0).sin().powi(2);
    2.0 * h.sqrt().asin().to_degrees() * 3600.0
}

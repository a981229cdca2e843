//! `prospector simulate` writes reproducible FITS images that `prospector info` reads back.

use std::path::Path;
use std::process::Command;

fn simulate(out: &Path, seed: &str) {
    let status = Command::new(env!("CARGO_BIN_EXE_prospector"))
        .args(["simulate", "--size", "256", "--fields", "2", "--seed", seed, "--out"])
        .arg(out)
        .status()
        .expect("prospector runs");
    assert!(status.success());
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    simulate(&a, "7");
    simulate(&b, "7");
    simulate(&c, "8");
    for name in ["field-000.fits", "field-001.fits", "field-001.truth.csv"] {
        let first = std::fs::read(a.join(name)).unwrap();
        assert_eq!(first, std::fs::read(b.join(name)).unwrap(), "{name} differs between runs");
        assert_ne!(first, std::fs::read(c.join(name)).unwrap(), "{name} ignores the seed");
    }
    let info = Command::new(env!("CARGO_BIN_EXE_prospector"))
        .args(["info", "--json"])
        .arg(a.join("field-000.fits"))
        .output()
        .unwrap();
    assert!(info.status.success());
    let json: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let text = json.to_string();
    assert!(text.contains("256"), "{text}");
}

#[test]
fn an_invalid_configuration_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("field.json");
    std::fs::write(&config, r#"{"pixel_scale_arcsec": -1.5}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_prospector"))
        .args(["simulate", "--out"])
        .arg(dir.path().join("out"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pixel_scale_arcsec"), "{stderr}");
}

//! The dashboard survives Grafana's schema (grafana-foundation-sdk) with nothing dropped.

use crate::support::{deploy_dir, printed, python, run};
use std::path::Path;
use std::process::{Command, Output};

fn check(dashboard: &Path) -> Output {
    run(Command::new(python())
        .arg(deploy_dir().join("grafana/check_dashboard.py"))
        .arg(dashboard))
}

#[test]
fn the_dashboard_round_trips_through_grafanas_schema_with_no_unknown_keys() {
    let out = check(&deploy_dir().join("grafana/prospector.json"));
    assert!(
        out.status.success(),
        "the dashboard does not match Grafana's schema:\n{}",
        printed(&out)
    );
}

#[test]
fn the_checker_reports_a_misspelled_key() {
    let text = std::fs::read_to_string(deploy_dir().join("grafana/prospector.json")).unwrap();
    let misspelled = text.replacen("\"legendFormat\"", "\"legendFormt\"", 1);
    assert_ne!(
        text, misspelled,
        "the dashboard has no legendFormat to misspell"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboard.json");
    std::fs::write(&path, misspelled).unwrap();
    let out = check(&path);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && report.contains("legendFormt: unknown key"),
        "the checker missed a misspelled key:\n{report}"
    );
}

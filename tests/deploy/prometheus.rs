//! The alert rules and the scrape configuration pass promtool, and the rules behave as
//! their unit tests (deploy/prometheus/rules_test.yml) say.

use crate::support::{deploy_dir, stdout_of_success};
use std::process::Command;

fn promtool(args: &[&str]) -> String {
    stdout_of_success(
        Command::new(prospector_tests::tool("promtool"))
            .args(args)
            .current_dir(deploy_dir().join("prometheus")),
    )
}

#[test]
fn alert_rules_pass_promtool_check() {
    let report = promtool(&["check", "rules", "rules.yml"]);
    assert!(report.contains("SUCCESS"), "{report}");
}

#[test]
fn alert_rules_fire_and_stay_silent_as_their_unit_tests_expect() {
    let report = promtool(&["test", "rules", "rules_test.yml"]);
    assert!(report.contains("SUCCESS"), "{report}");
}

#[test]
fn the_example_scrape_configuration_passes_promtool_check() {
    let report = promtool(&["check", "config", "prometheus.yml"]);
    assert!(
        report.contains("is valid prometheus config file"),
        "{report}"
    );
}

#[test]
fn every_alert_has_a_unit_test() {
    let rules = std::fs::read_to_string(deploy_dir().join("prometheus/rules.yml")).unwrap();
    let tests = std::fs::read_to_string(deploy_dir().join("prometheus/rules_test.yml")).unwrap();
    for line in rules.lines() {
        if let Some(name) = line.trim().strip_prefix("- alert: ") {
            assert!(
                tests.contains(&format!("alertname: {name}\n")),
                "alert {name} has no test in rules_test.yml"
            );
        }
    }
}

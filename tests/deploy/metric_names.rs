//! Every metric the dashboard, the alert rules and the autoscalers use is one the services
//! expose (validators accept any name, so a typo would only show as an empty panel or an
//! alert that never fires), and every metric the services expose is watched somewhere.

use crate::support::{deploy_dir, render_chart, str_at, yaml_document};
use serde_json::Value;

/// The metrics the services expose (the Operations issue fixes these names).
const METRICS: [&str; 16] = [
    "prospector_messages_processed_total",
    "prospector_pixels_processed_total",
    "prospector_stage_latency_seconds",
    "prospector_batch_size",
    "prospector_consumer_pending_messages",
    "prospector_consumer_ack_pending_messages",
    "prospector_consumer_redelivered_messages",
    "prospector_dead_letters_total",
    "prospector_model_info",
    "prospector_codebook_usage_ratio",
    "prospector_codebook_perplexity",
    "prospector_labelled_auc",
    "prospector_sources_scored_total",
    "prospector_images_completed_total",
    "prospector_image_last_progress_timestamp_seconds",
    "prospector_build_info",
];
const HISTOGRAMS: [&str; 2] = ["prospector_stage_latency_seconds", "prospector_batch_size"];

/// The `prospector_*` identifiers in a PromQL expression.
fn metric_names(expression: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = expression;
    while let Some(start) = rest.find("prospector_") {
        let preceded_by_word = rest[..start]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if !preceded_by_word {
            names.push(&tail[..end]);
        }
        rest = &tail[end..];
    }
    names
}

/// Why a name is not an exposed series, if it is not: unknown, or a histogram used
/// without its _bucket/_sum/_count suffix (or a suffix on a non-histogram).
fn problem(name: &str) -> Option<String> {
    if METRICS.contains(&name) {
        return HISTOGRAMS
            .contains(&name)
            .then(|| format!("{name} is a histogram: query {name}_bucket, _sum or _count"));
    }
    let base = ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|s| name.strip_suffix(s));
    match base {
        Some(base) if HISTOGRAMS.contains(&base) => None,
        _ => Some(format!("{name} is not a metric the services expose")),
    }
}

/// Every PromQL expression of the dashboard, the rules and the autoscaling configuration,
/// with where it comes from.
fn expressions() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy_dir().join("grafana/prospector.json")).unwrap(),
    )
    .unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            found.push((
                format!("dashboard panel {}", panel["title"]),
                str_at(target, "/expr").to_string(),
            ));
        }
    }
    let rules = yaml_document(&deploy_dir().join("prometheus/rules.yml"));
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            found.push((
                format!("alert {}", rule["alert"]),
                str_at(rule, "/expr").to_string(),
            ));
        }
    }
    let adapter = yaml_document(&deploy_dir().join("prometheus/prometheus-adapter-values.yaml"));
    for rule in adapter["rules"]["external"].as_array().unwrap() {
        for key in ["/seriesQuery", "/name/as"] {
            found.push((
                format!("prometheus-adapter {key}"),
                str_at(rule, key).to_string(),
            ));
        }
    }
    for autoscaler in render_chart(&["--set", "autoscaling.mode=hpa"])
        .iter()
        .filter(|o| o["kind"] == "HorizontalPodAutoscaler")
    {
        let metric = str_at(autoscaler, "/spec/metrics/0/external/metric/name");
        found.push((
            format!("HPA {}", autoscaler["metadata"]["name"]),
            metric.to_string(),
        ));
    }
    found
}

#[test]
fn the_name_check_catches_typos_and_bare_histograms() {
    assert_eq!(
        metric_names("sum(rate(prospector_mesages_total{stage=\"x\"}[5m])) / up"),
        ["prospector_mesages_total"]
    );
    assert!(problem("prospector_mesages_total").is_some());
    assert!(problem("prospector_stage_latency_seconds").is_some());
    assert!(problem("prospector_images_completed_total_sum").is_some());
    assert!(problem("prospector_stage_latency_seconds_bucket").is_none());
    assert!(problem("prospector_build_info").is_none());
    // Label values and other identifiers that merely contain the prefix are not metrics.
    assert!(metric_names("up{job=\"my_prospector_job\",stream=\"PROSPECTOR_TILES\"}").is_empty());
}

#[test]
fn every_metric_used_by_dashboard_rules_and_autoscalers_is_exposed_by_the_services() {
    let problems: Vec<String> = expressions()
        .iter()
        .flat_map(|(origin, expr)| {
            metric_names(expr)
                .into_iter()
                .filter_map(problem)
                .map(move |p| format!("{origin}: {p}"))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_exposed_metric_is_on_the_dashboard_or_in_an_alert() {
    let used: Vec<String> = expressions()
        .iter()
        .flat_map(|(_, expr)| metric_names(expr))
        .map(|name| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .fold(name, |n, s| n.strip_suffix(s).unwrap_or(n))
                .to_string()
        })
        .collect();
    let unwatched: Vec<&str> = METRICS
        .iter()
        .copied()
        .filter(|m| !used.iter().any(|u| u == m))
        .collect();
    assert!(
        unwatched.is_empty(),
        "metrics no panel or alert shows: {unwatched:?}"
    );
}

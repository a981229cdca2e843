//! The metrics exposition every service serves: the names the dashboard and alert rules
//! are written against, linted by Prometheus's own `promtool`, and the HTTP endpoints.

use prospector_telemetry::{
    init_tracing, HttpServer, LogFormat, Metrics, Outcome, Readiness, METRIC_NAMES,
};
use std::process::Command;
use std::time::Duration;

/// Every metric family with at least one sample.
fn populated() -> Metrics {
    let metrics = Metrics::new("scorer", "0.1.0").unwrap();
    let stage = metrics.stage("scorer");
    stage.record_message(Outcome::Ok, Duration::from_millis(12));
    stage.record_message(Outcome::TransientError, Duration::from_millis(3));
    stage.record_message(Outcome::DeadLetter, Duration::from_millis(1));
    stage.record_dead_letter("undecodable");
    stage.record_batch(64);
    stage.add_pixels(4096);
    metrics
        .consumer("PROSPECTOR_CUTOUTS", "scorer")
        .set(10, 3, 1);
    let scorer = metrics.scorer().unwrap();
    scorer.set_model("abc123", "cuda:0", "meerkat");
    scorer.codebook_usage_ratio.set(0.8);
    scorer.codebook_perplexity.set(210.0);
    let evaluator = metrics.evaluator().unwrap();
    evaluator.sources_scored_total.inc_by(5);
    evaluator.images_completed_total.inc();
    evaluator.image_last_progress_timestamp_seconds.set(1.7e9);
    evaluator.labelled_auc.set(0.91);
    metrics
}

#[test]
fn every_metric_the_dashboard_uses_is_exposed_under_its_contract_name() {
    let exposition = populated().encode();
    for name in METRIC_NAMES {
        assert!(
            exposition.contains(&format!("# TYPE {name} ")),
            "{name} missing from\n{exposition}"
        );
    }
    assert!(exposition.contains(r#"prospector_build_info{service="scorer",version="0.1.0"} 1"#));
    assert!(exposition
        .contains(r#"prospector_model_info{device="cuda:0",preset="meerkat",version="abc123"} 1"#));
}

#[test]
fn the_exposition_passes_promtool_check_metrics() {
    let exposition = populated().encode();
    if let Err(problems) = prospector_tests::promtool_check_metrics(&exposition) {
        panic!("promtool check metrics found problems:\n{problems}\nin:\n{exposition}");
    }
}

#[test]
fn a_hot_swapped_model_replaces_the_model_info_series() {
    let metrics = Metrics::new("scorer", "0.1.0").unwrap();
    let scorer = metrics.scorer().unwrap();
    scorer.set_model("v1", "cpu", "first");
    scorer.set_model("v2", "cpu", "first");
    let exposition = metrics.encode();
    assert!(!exposition.contains(r#"version="v1""#), "{exposition}");
    assert!(exposition.contains(r#"version="v2""#));
    assert!(
        metrics.scorer().is_ok(),
        "asking again returns the same families"
    );
}

/// GET from the server on a blocking thread (the server runs on this runtime).
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let url = format!("http://{addr}{path}");
    tokio::task::spawn_blocking(move || prospector_tests::http_get(&url))
        .await
        .unwrap()
}

#[tokio::test]
async fn health_and_readiness_endpoints_report_what_the_service_set() {
    let metrics = populated();
    let readiness = Readiness::new(["bus", "model"]);
    let server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), metrics, readiness.clone())
        .await
        .unwrap();
    let addr = server.local_addr();
    let stop = shutdown_pair();
    let task = tokio::spawn(server.serve(stop.1));

    assert_eq!(get(addr, "/healthz").await.0, 200);
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("not ready: bus, model"), "{body}");
    readiness.set("bus", true);
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("not ready: model"), "{body}");
    readiness.set("model", true);
    assert_eq!(get(addr, "/readyz").await.0, 200);
    let (status, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("# TYPE prospector_build_info gauge"),
        "{body}"
    );

    stop.0.send(()).unwrap();
    task.await.unwrap().unwrap();
}

/// A one-shot shutdown signal for the server.
fn shutdown_pair() -> (
    tokio::sync::oneshot::Sender<()>,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    (tx, async move {
        let _ = rx.await;
    })
}

/// Set in the child process of the JSON log test.
const LOG_CHILD: &str = "PROSPECTOR_TEST_LOG_CHILD";

#[test]
fn json_logs_carry_the_ids_of_the_span_they_are_written_in() {
    if std::env::var_os(LOG_CHILD).is_some() {
        // The child: the subscriber is process-wide, so it gets a process of its own.
        init_tracing("log-test", LogFormat::Json).unwrap();
        let span = tracing::info_span!("message", image_id = "img-7", source_id = "src-9");
        span.in_scope(|| tracing::warn!(reason = "test", "dead-lettering message"));
        assert!(
            init_tracing("log-test", LogFormat::Json).is_err(),
            "a second install is refused"
        );
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "json_logs_carry_the_ids_of_the_span_they_are_written_in",
            "--exact",
            "--test-threads=1",
        ])
        .env(LOG_CHILD, "1")
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stderr}");
    let line = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["message"] == "dead-lettering message")
        .unwrap_or_else(|| panic!("no JSON line for the event in:\n{stderr}"));
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["span"]["image_id"], "img-7", "{line}");
    assert_eq!(line["span"]["source_id"], "src-9", "{line}");
    assert_eq!(line["fields"]["reason"], "test");
}

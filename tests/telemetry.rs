//! The metrics exposition every service serves: the names the dashboard and alert rules
//! are written against, linted by Prometheus's own `promtool`, and the HTTP endpoints.

use prospector_telemetry::{
    continue_trace, init_tracing, HttpServer, LogFormat, Metrics, Outcome, Readiness, METRIC_NAMES,
};
use prospector_tests::OtlpCollector;
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
        let _tracing = init_tracing("log-test", LogFormat::Json, None).unwrap();
        let span = tracing::info_span!("message", image_id = "img-7", source_id = "src-9");
        span.in_scope(|| tracing::warn!(reason = "test", "dead-lettering message"));
        assert!(
            init_tracing("log-test", LogFormat::Json, None).is_err(),
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

/// Set in the child process of the OTLP test: the collector's endpoint.
const OTLP_CHILD: &str = "PROSPECTOR_TEST_OTLP_ENDPOINT";

/// The trace and parent span the OTLP test's message "arrived" with.
const REMOTE_TRACE: u128 = 0x4bf92f3577b34da6a3ce929d0e0e4736;
const REMOTE_PARENT: u64 = 0x00f067aa0ba902b7;

#[test]
fn spans_reach_an_otlp_collector_inside_the_trace_their_message_carried() {
    if let Some(endpoint) = std::env::var_os(OTLP_CHILD) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let tracing = init_tracing("otlp-test", LogFormat::Json, endpoint.to_str()).unwrap();
            let span = tracing::info_span!("message", image_id = "img-7", source_id = "src-9");
            let exported = continue_trace(&span, REMOTE_TRACE, REMOTE_PARENT, true)
                .expect("spans are exported");
            println!("exported span {exported:016x}");
            span.in_scope(|| tracing::info!("handled"));
            drop(span);
            tokio::task::spawn_blocking(move || tracing.shutdown())
                .await
                .unwrap();
        });
        return;
    }
    let collector = OtlpCollector::start();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "spans_reach_an_otlp_collector_inside_the_trace_their_message_carried",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(OTLP_CHILD, collector.endpoint())
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    let exported = stdout
        .lines()
        .find_map(|l| l.split("exported span ").nth(1)?.split_whitespace().next())
        .unwrap_or_else(|| panic!("no span id printed:\n{stdout}"));
    // Shut down, the child has flushed: the span is at the collector.
    let spans = collector.spans();
    let span = spans
        .iter()
        .find(|s| s.name == "message")
        .unwrap_or_else(|| panic!("no span received: {spans:?}\n{stderr}"));
    assert_eq!(span.service, "prospector-otlp-test");
    assert_eq!(span.trace_id, format!("{REMOTE_TRACE:032x}"));
    assert_eq!(span.parent_span_id, format!("{REMOTE_PARENT:016x}"));
    assert_eq!(span.span_id, exported);
    assert_eq!(span.attributes["image_id"], "img-7");
    assert_eq!(span.attributes["source_id"], "src-9");
}

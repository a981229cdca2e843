//! The web console in Chromium (Debian's, driven by playwright-core): page the gallery,
//! label a source, reload and see the label kept and the metrics moved.

use crate::support::*;
use prospector_tests::{workspace_root, NatsServer};
use std::path::PathBuf;
use std::process::Command;

const IMAGE: &str = "c0ffee";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Where scripts/bootstrap.sh installs playwright-core.
fn node_modules() -> PathBuf {
    let cache = std::env::var_os("PROSPECTOR_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/prospector")))
        .expect("PROSPECTOR_CACHE or HOME");
    let modules = cache.join("node/node_modules");
    assert!(
        modules.join("playwright-core").is_dir(),
        "playwright-core is not in {}: run `bash scripts/bootstrap.sh`",
        modules.display()
    );
    modules
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_astronomer_pages_labels_and_sees_the_metrics_move() {
    assert!(
        std::path::Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run `bash scripts/bootstrap.sh` (Debian package chromium)"
    );
    let modules = node_modules();
    let nats = NatsServer::start();
    let bus = bus(&nats.url()).await;
    let setup = EvaluatorSetup::new(nats.url());
    let _evaluator = setup.start();

    // 30 sources, two pages of 24; two already labelled so the metrics start defined.
    const SOURCES: usize = 30;
    let scores: Vec<_> = (0..SOURCES)
        .map(|i| score(IMAGE, i, 0.1 + 0.8 * i as f64 / SOURCES as f64))
        .collect();
    publish(
        &bus,
        vec![plan(IMAGE, 1), extracted(IMAGE, 0, 1, SOURCES as u32)],
    )
    .await;
    publish(&bus, scores.iter().map(score_message).collect()).await;
    eventually("the image to be scored", || async {
        let (_, body) = prospector_tests::http_get(&setup.http_url("/api/metrics"));
        body.contains(&format!("\"sources_scored\":{SOURCES}"))
            .then_some(())
    })
    .await;

    let screenshot = setup.dir.path().join("console.png");
    let output = Command::new("node")
        .arg(workspace_root().join("tests/console/console.cjs"))
        .env("NODE_PATH", &modules)
        .env("CONSOLE_URL", setup.http_url("/"))
        .env("CONSOLE_TOKEN", TOKEN)
        .env("CHROMIUM", CHROMIUM)
        .env("SCREENSHOT", &screenshot)
        .env("USER_DATA_DIR", setup.dir.path().join("chromium-profile"))
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "console script failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
    if let Some(keep) = std::env::var_os("PROSPECTOR_CONSOLE_SCREENSHOT") {
        std::fs::copy(&screenshot, keep).expect("screenshot copied");
    }
    // The label the browser gave is in the catalogue (and so in the labels stream).
    let (_, body) =
        prospector_tests::http_get(&setup.http_url("/api/anomalies?label=exotic&limit=50"));
    let page: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(page["total"], 1, "{body}");
    assert_eq!(page["sources"][0]["labeller"], "console-test");
}

//! The distributed pipeline as it is deployed: a real nats-server, the tiler, extractor,
//! two scorers and the evaluator as separate processes, images submitted through the
//! imaging-pipeline hook (`prospector submit --wait`). Its catalogue must equal the
//! embedded mode's (`prospector run`) for the same images and model, row for row.

mod support;

use prospector_bus::topology::{stream_name, subjects};
use prospector_fits::bad_inputs::{write_corpus, Expectation};
use prospector_tests::Prometheus;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use support::{cli, describe, finish, run_cli, Cluster};

/// Longest a `submit --wait` of the test's small images may take.
const IMAGE_WITHIN: Duration = Duration::from_secs(120);

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("image readable")))
}

/// Simulates three small fields into the cluster's input root.
fn simulate(cluster: &Cluster) -> Vec<PathBuf> {
    let images = cluster.path("images");
    let output = run_cli(
        Command::new(cli())
            .args([
                "simulate", "--fields", "3", "--size", "640", "--seed", "5", "--out",
            ])
            .arg(&images),
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let mut fits: Vec<PathBuf> = std::fs::read_dir(&images)
        .expect("images listed")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "fits"))
        .collect();
    fits.sort();
    assert_eq!(fits.len(), 3);
    fits
}

/// `prospector run` on the images: trains the quick model into `<out>/model` and writes
/// the embedded catalogues into `<out>/catalogues/<stem>.csv`.
fn run_embedded(images: &[PathBuf], out: &Path) {
    let output = run_cli(
        Command::new(cli())
            .arg("run")
            .args(images)
            .arg("--out")
            .arg(out)
            .args(["--epochs", "1"]),
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
}

/// The image id `submit` printed ("<path>: image <id> ...").
fn submitted_id(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .split_whitespace()
        .skip_while(|w| *w != "image")
        .nth(1)
        .unwrap_or_else(|| panic!("no image id in:\n{}", describe(output)))
        .to_owned()
}

fn scores_stored(cluster: &Cluster) -> u64 {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = cluster.operator_client().await;
        let jetstream = async_nats::jetstream::new(client);
        let mut stream = jetstream
            .get_stream(stream_name(subjects::SCORES))
            .await
            .expect("scores stream");
        stream.info().await.expect("stream info").state.messages
    })
}

/// The value of an unlabelled gauge on the service's /metrics (NaN when absent).
fn gauge(service: &support::ServiceProcess, name: &str) -> f64 {
    let (_, body) = prospector_tests::http_get(&service.metrics_url("/metrics"));
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// The scorer's `prospector_messages_processed_total{stage="scorer",outcome="ok"}`.
fn scored_by(scorer: &support::ServiceProcess) -> u64 {
    let (_, body) = prospector_tests::http_get(&scorer.metrics_url("/metrics"));
    body.lines()
        .find(|l| {
            l.starts_with("prospector_messages_processed_total")
                && l.contains("stage=\"scorer\"")
                && l.contains("outcome=\"ok\"")
        })
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn three_images_through_four_services_give_the_embedded_catalogue_row_for_row() {
    let started = std::time::Instant::now();
    // Deployed as in production: least-privilege users, so this also proves that
    // deploy/nats/accounts.conf grants each service what it uses.
    let cluster = Cluster::least_privilege();
    let images = simulate(&cluster);
    let embedded = cluster.path("embedded");
    run_embedded(&images, &embedded);
    eprintln!("simulated and ran embedded: {:?}", started.elapsed());
    let published = cluster.publish_model(&embedded.join("model"));
    assert!(published.contains("now the active version"), "{published}");

    let evaluator = cluster.start("evaluator", "evaluator");
    let tiler = cluster.start("tiler", "tiler");
    let extractor = cluster.start("extractor", "extractor");
    let scorers = [
        cluster.start("scorer", "scorer-1"),
        cluster.start("scorer", "scorer-2"),
    ];
    eprintln!("services ready: {:?}", started.elapsed());
    let services = [&evaluator, &tiler, &extractor, &scorers[0], &scorers[1]];
    let targets: Vec<(&str, String)> = services
        .iter()
        .map(|s| (s.instance.as_str(), s.metrics_target()))
        .collect();
    let prometheus = Prometheus::start(&targets);
    let token = cluster.path("token");
    let token_args = ["--token-file", token.to_str().expect("utf-8 path")];
    let waits: Vec<_> = images
        .iter()
        .map(|image| cluster.submit(image, &[&["--wait"], &token_args[..]].concat()))
        .collect();
    let mut rows = 0;
    for (image, wait) in images.iter().zip(waits) {
        let output = finish(wait, IMAGE_WITHIN);
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
        let image_id = submitted_id(&output);
        assert_eq!(
            image_id,
            sha256_hex(image),
            "the image id is the SHA-256 of its bytes"
        );
        let found = assert_same_catalogue(&cluster, image, &embedded);
        assert!(found > 20, "{}: only {found} sources", image.display());
        rows += found as u64;
    }
    eprintln!("three images complete: {:?}", started.elapsed());
    assert_one_trace_per_image(&cluster, &sha256_hex(&images[0]));
    assert_direct_scoring_matches_the_bus(&cluster, &scorers[0]);
    // Every source scored once: one stored score per catalogue row, and both shards
    // took part.
    assert_eq!(scores_stored(&cluster), rows);
    for scorer in &scorers {
        assert!(
            scored_by(scorer) > 0,
            "{} scored nothing:\n{}",
            scorer.instance,
            scorer.log()
        );
        // Codebook health of the live model, for the collapse alert and dashboard.
        let usage = gauge(scorer, "prospector_codebook_usage_ratio");
        let perplexity = gauge(scorer, "prospector_codebook_perplexity");
        assert!(
            usage > 0.0 && usage <= 1.0,
            "{}: usage {usage}",
            scorer.instance
        );
        assert!(
            perplexity >= 1.0,
            "{}: perplexity {perplexity}",
            scorer.instance
        );
    }

    // A real Prometheus scraped every service: each stage's processed messages are stored
    // there as the services count them, and every exposition passes promtool's lint.
    for (job, stage) in [("tiler", "tiler"), ("extractor", "extractor")]
        .into_iter()
        .chain(scorers.iter().map(|s| (s.instance.as_str(), "scorer")))
    {
        let query = format!(
            "sum(prospector_messages_processed_total{{job=\"{job}\",stage=\"{stage}\",outcome=\"ok\"}})"
        );
        eventually(&format!("Prometheus to store {job}'s work"), || {
            prometheus
                .query(&query)
                .first()
                .is_some_and(|(_, v)| *v > 0.0)
        });
    }
    for service in services {
        let (_, exposition) = prospector_tests::http_get(&service.metrics_url("/metrics"));
        if let Err(problems) = prospector_tests::promtool_check_metrics(&exposition) {
            panic!("{}: promtool check metrics: {problems}", service.instance);
        }
    }

    // The same bytes again: answered at once from the status, nothing rescored.
    let again = finish(
        cluster.submit(&images[0], &[&["--wait"], &token_args[..]].concat()),
        IMAGE_WITHIN,
    );
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("already submitted"),
        "{}",
        describe(&again)
    );
    assert_eq!(scores_stored(&cluster), rows);

    // What imaging pipelines are told when something is wrong, by exit code.
    let junk = cluster.path("images/junk.fits");
    std::fs::write(&junk, b"SIMPLE  = nonsense").expect("junk written");
    let failed = finish(
        cluster.submit(&junk, &[&["--wait"], &token_args[..]].concat()),
        IMAGE_WITHIN,
    );
    assert_eq!(failed.status.code(), Some(6), "{}", describe(&failed));
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("junk.fits"),
        "{}",
        describe(&failed)
    );
    assert_bad_inputs_fail_cleanly(&cluster, &token_args, &services);

    let outside = cluster.path("outside.fits");
    std::fs::copy(&images[0], &outside).expect("copied");
    let escaped = cluster.path("images/../outside.fits");
    for refused in [&outside, &escaped] {
        let output = finish(cluster.submit(refused, &token_args), IMAGE_WITHIN);
        assert_eq!(output.status.code(), Some(3), "{}", describe(&output));
    }
    let wrong = finish(
        cluster.submit(&images[1], &["--token", "guess"]),
        IMAGE_WITHIN,
    );
    assert_eq!(wrong.status.code(), Some(5), "{}", describe(&wrong));
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("not valid"),
        "{}",
        describe(&wrong)
    );
    let anonymous = finish(cluster.submit(&images[1], &[]), IMAGE_WITHIN);
    assert_eq!(anonymous.status.code(), Some(5), "{}", describe(&anonymous));
}

/// The spans the services exported for one image form one trace: rooted at the tiler's
/// submission, with every stage's span (tiler, extractor per tile, scorer per cutout)
/// hanging from the span whose message it handled, and each naming the image. (The
/// evaluator reads the history streams, replaying them on every start: it exports no
/// per-message spans.)
fn assert_one_trace_per_image(cluster: &Cluster, image_id: &str) {
    // One scorer span per source at least (more if a cutout was redelivered).
    let rows = std::fs::read_to_string(cluster.catalogue(image_id))
        .expect("catalogue written")
        .lines()
        .count()
        - 1;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let spans = loop {
        let spans = cluster.collector.spans();
        let root = spans.iter().find(|s| {
            s.name == "submit_image"
                && s.attributes.get("image_id").map(String::as_str) == Some(image_id)
        });
        // Whole once every stage is in and every span's parent has arrived (each
        // service exports in its own batches, every few seconds).
        let complete = root.is_some_and(|root| {
            let trace: Vec<_> = spans
                .iter()
                .filter(|s| s.trace_id == root.trace_id)
                .collect();
            let has = |service: &str| trace.iter().any(|s| s.service == service);
            has("prospector-extractor")
                && trace
                    .iter()
                    .filter(|s| s.service == "prospector-scorer")
                    .count()
                    >= rows
                && trace.iter().all(|s| {
                    s.span_id == root.span_id || trace.iter().any(|p| p.span_id == s.parent_span_id)
                })
        });
        if complete {
            break spans;
        }
        if std::time::Instant::now() > deadline {
            let mut seen: Vec<_> = spans.iter().map(|s| (&s.service, &s.name)).collect();
            seen.sort();
            seen.dedup();
            panic!(
                "the collector has no whole trace of {image_id} ({} spans: {seen:?}); root {root:?}",
                spans.len()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let root = spans
        .iter()
        .find(|s| s.name == "submit_image" && s.attributes["image_id"] == image_id)
        .expect("the submission span");
    assert_eq!(root.service, "prospector-tiler");
    assert!(
        root.parent_span_id.is_empty(),
        "the submission starts the trace"
    );
    let trace: Vec<_> = spans
        .iter()
        .filter(|s| s.trace_id == root.trace_id)
        .collect();
    let ids: std::collections::HashSet<_> = trace.iter().map(|s| s.span_id.as_str()).collect();
    for span in &trace {
        if span.span_id != root.span_id {
            assert!(
                ids.contains(span.parent_span_id.as_str()),
                "{span:?} hangs from a span the collector never received"
            );
        }
        assert_eq!(
            span.attributes.get("image_id").map(String::as_str),
            Some(image_id),
            "{span:?}"
        );
    }
    let per_service = |service: &str| trace.iter().filter(|s| s.service == service).count();
    assert!(
        per_service("prospector-scorer") >= rows,
        "{} scorer spans for {rows} sources",
        per_service("prospector-scorer")
    );
    eprintln!(
        "trace of {image_id}: {} spans (tiler {}, extractor {}, scorer {})",
        trace.len(),
        per_service("prospector-tiler"),
        per_service("prospector-extractor"),
        per_service("prospector-scorer"),
    );
}

/// `ScorerService.ScoreCutouts` gives a cutout the score the bus gave it (same model,
/// same pixels), with the reconstruction the console shows, to token holders only; a
/// malformed cutout is refused by name.
fn assert_direct_scoring_matches_the_bus(cluster: &Cluster, scorer: &support::ServiceProcess) {
    use prospector_proto::v1::scorer_service_client::ScorerServiceClient;
    use prospector_proto::v1::{Cutout, Pixels, Score, ScoreCutoutsRequest};
    use prost::Message;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let jetstream = async_nats::jetstream::new(cluster.operator_client().await);
        let stream = jetstream
            .get_stream(stream_name(subjects::SCORES))
            .await
            .expect("scores stream");
        let stored = stream.get_raw_message(1).await.expect("first score");
        let stored = Score::decode(stored.payload).expect("a Score");
        let recon = stored
            .reconstruction
            .as_ref()
            .expect("bus scores carry reconstructions");
        assert_eq!((recon.width, recon.height), (64, 64));
        let cutout = Cutout {
            schema_version: stored.schema_version,
            source_id: stored.source_id.clone(),
            image_id: stored.image_id.clone(),
            name: stored.name.clone(),
            model_pixels: stored.model_pixels.clone(),
            ..Default::default()
        };
        let port = scorer.grpc.expect("the scorer's gRPC port");
        let mut client = ScorerServiceClient::connect(format!("http://127.0.0.1:{port}"))
            .await
            .expect("scorer gRPC");
        let request = |cutouts: Vec<Cutout>, token: Option<&str>| {
            let mut request = tonic::Request::new(ScoreCutoutsRequest {
                cutouts,
                include_reconstructions: true,
            });
            if let Some(token) = token {
                let value = format!("Bearer {token}").parse().expect("header value");
                request.metadata_mut().insert("authorization", value);
            }
            request
        };
        let refused = client
            .score_cutouts(request(vec![cutout.clone()], None))
            .await
            .expect_err("no token");
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);

        let direct = client
            .score_cutouts(request(vec![cutout.clone()], Some(support::TOKEN)))
            .await
            .expect("scored")
            .into_inner()
            .scores;
        assert_eq!(direct.len(), 1);
        let (direct, bus) = (&direct[0], stored.scores.expect("scores"));
        assert_eq!(direct.model_version, stored.model_version);
        assert_eq!(direct.source_id, stored.source_id);
        let got = direct.scores.expect("scores");
        assert!(
            (got.ncc - bus.ncc).abs() < SCORE_TOLERANCE,
            "{got:?} vs {bus:?}"
        );
        assert!(
            (got.anomaly - bus.anomaly).abs() < SCORE_TOLERANCE,
            "{got:?} vs {bus:?}"
        );
        assert!(direct.reconstruction.is_some());

        let mut bad = cutout.clone();
        bad.source_id = "odd-one".into();
        bad.model_pixels = Some(Pixels {
            width: 8,
            height: 8,
            ..stored.model_pixels.clone().expect("pixels")
        });
        let refused = client
            .score_cutouts(request(vec![cutout, bad], Some(support::TOKEN)))
            .await
            .expect_err("a malformed cutout");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(
            refused.message().contains("odd-one"),
            "{}",
            refused.message()
        );
    });
}

/// Every file of the bad-input corpus through the hook (`SubmitImage`): a file nothing
/// can be made of fails its image (exit 6) with a reason naming the file, leaves a dead
/// letter, and no service goes down; one with readable pixels completes.
fn assert_bad_inputs_fail_cleanly(
    cluster: &Cluster,
    token_args: &[&str],
    services: &[&support::ServiceProcess],
) {
    let corpus = write_corpus(&cluster.path("images/bad")).expect("corpus written");
    let dead_before = dead_letters(cluster);
    let mut failed = 0;
    for bad in &corpus {
        let output = finish(
            cluster.submit(&bad.path, &[&["--wait"], token_args].concat()),
            IMAGE_WITHIN,
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let what = format!(
            "{} ({}): {}",
            bad.path.display(),
            bad.fault,
            describe(&output)
        );
        assert!(!stderr.contains("panicked"), "{what}");
        match bad.expectation {
            Expectation::ReadsFine => assert_eq!(output.status.code(), Some(0), "{what}"),
            _ => {
                assert_eq!(output.status.code(), Some(6), "{what}");
                let name = bad.path.file_name().expect("name").to_string_lossy();
                assert!(stderr.contains(&*name), "the reason names the file: {what}");
                failed += 1;
            }
        }
    }
    assert!(
        dead_letters(cluster) >= dead_before + failed,
        "each failed file leaves a dead letter"
    );
    for service in services {
        let (status, _) = prospector_tests::http_get(&service.metrics_url("/healthz"));
        assert_eq!(
            status,
            200,
            "{} went down:\n{}",
            service.instance,
            service.log()
        );
    }
    eprintln!(
        "bad inputs: {} files, {failed} failed cleanly",
        corpus.len()
    );
}

fn dead_letters(cluster: &Cluster) -> u64 {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let jetstream = async_nats::jetstream::new(cluster.operator_client().await);
        let mut stream = jetstream
            .get_stream(stream_name(subjects::DEAD))
            .await
            .expect("dead-letter stream");
        stream.info().await.expect("stream info").state.messages
    })
}

/// Trains a second model (another seed, on one image's sources) into `out`.
fn train_second_model(embedded: &Path, out: &Path) {
    let output = run_cli(
        Command::new(cli())
            .arg("train")
            .arg("--cutouts")
            .arg(embedded.join("training/image-0/cutouts"))
            .arg("--out")
            .arg(out)
            .args(["--epochs", "1", "--seed", "7", "--device", "cpu"]),
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
}

/// The version a scorer reports in `prospector_model_info{version=...}`.
fn model_of(scorer: &support::ServiceProcess) -> Option<String> {
    let (_, body) = prospector_tests::http_get(&scorer.metrics_url("/metrics"));
    body.lines()
        .find(|l| l.starts_with("prospector_model_info{"))
        .and_then(|l| l.split("version=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

/// The version in a `model publish` message ("published model <version> from ...").
fn published_version(message: &str) -> String {
    message
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("no version in {message}"))
        .to_owned()
}

/// Polls `check` every 100 ms for up to a minute.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Columns of the catalogue CSV holding model scores (see prospector-ranking's
/// `CATALOGUE_CSV_HEADER`), and the first one, the rank.
const SCORE_COLUMNS: std::ops::Range<usize> = 10..15;
const ANOMALY_COLUMN: usize = 14;

/// How far a score may differ between the modes: float32 inference over batches of
/// other sizes and neighbours (the scorers batch whatever arrived) rounds differently in
/// the last place, e.g. a combined score of 0.388712 against 0.388713.
const SCORE_TOLERANCE: f64 = 1e-5;

/// Asserts the distributed catalogue of `image` is the embedded one in `embedded`, row
/// for row: the same sources with the same names, positions, fluxes, model version and
/// image, the same scores to [`SCORE_TOLERANCE`], and the same ranks except between
/// sources whose anomaly scores tie within it. Returns the number of sources.
fn assert_same_catalogue(cluster: &Cluster, image: &Path, embedded: &Path) -> usize {
    let stem = image.file_stem().expect("stem").to_string_lossy();
    let read = |path: PathBuf| -> Vec<Vec<String>> {
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{stem}: no catalogue {}: {e}", path.display()))
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect()
    };
    let expected = read(embedded.join(format!("catalogues/{stem}.csv")));
    let actual = read(cluster.catalogue(&sha256_hex(image)));
    let by_source = |rows: &[Vec<String>]| -> std::collections::BTreeMap<String, Vec<String>> {
        rows.iter().map(|r| (r[1].clone(), r.clone())).collect()
    };
    let (expected, actual) = (by_source(&expected), by_source(&actual));
    let ids =
        |m: &std::collections::BTreeMap<String, Vec<String>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(ids(&actual), ids(&expected), "{stem}: not the same sources");
    let score = |row: &[String], column: usize| -> f64 { row[column].parse().expect("a number") };
    for (id, e) in &expected {
        let a = &actual[id];
        for column in 1..e.len() {
            if SCORE_COLUMNS.contains(&column) {
                let (x, y) = (score(e, column), score(a, column));
                assert!(
                    (x - y).abs() <= SCORE_TOLERANCE * x.abs().max(1.0),
                    "{stem}: source {id}, column {column}: {x} embedded, {y} distributed"
                );
            } else {
                assert_eq!(a[column], e[column], "{stem}: source {id}, column {column}");
            }
        }
        let tied = expected.values().any(|other| {
            other[1] != *id
                && (score(other, ANOMALY_COLUMN) - score(e, ANOMALY_COLUMN)).abs()
                    <= SCORE_TOLERANCE
        });
        if !tied {
            assert_eq!(a[0], e[0], "{stem}: source {id} ranks differently");
        }
    }
    expected.len()
}

#[test]
fn a_killed_scorer_a_restarted_evaluator_and_a_new_model_lose_and_double_nothing() {
    let cluster = Cluster::new();
    let images = simulate(&cluster);
    let (embedded_a, embedded_b) = (cluster.path("embedded-a"), cluster.path("embedded-b"));
    run_embedded(&images[..1], &embedded_a);
    let model_b = cluster.path("model-b");
    train_second_model(&embedded_a, &model_b);
    let output = run_cli(
        Command::new(cli())
            .arg("run")
            .args(&images[1..])
            .arg("--out")
            .arg(&embedded_b)
            .arg("--model")
            .arg(&model_b),
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let version_a = published_version(&cluster.publish_model(&embedded_a.join("model")));

    let evaluator = cluster.start("evaluator", "evaluator");
    let _tiler = cluster.start("tiler", "tiler");
    let _extractor = cluster.start("extractor", "extractor");
    let [scorer_1, scorer_2] = [
        cluster.start("scorer", "scorer-1"),
        cluster.start("scorer", "scorer-2"),
    ];
    let token = cluster.path("token");
    let wait = [
        "--wait",
        "--token-file",
        token.to_str().expect("utf-8 path"),
    ];
    let first = finish(cluster.submit(&images[0], &wait), IMAGE_WITHIN);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));

    // A new version while the scorers run: both swap to it without a restart.
    let version_b = published_version(&cluster.publish_model(&model_b));
    assert_ne!(version_a, version_b);
    eventually("both scorers on the new model", || {
        [&scorer_1, &scorer_2]
            .iter()
            .all(|s| model_of(s).as_deref() == Some(version_b.as_str()))
    });

    // Kill one scorer once the next images' scores flow, restart the evaluator while
    // they are scored: the survivors finish everything.
    let before = scores_stored(&cluster);
    let waits: Vec<_> = images[1..]
        .iter()
        .map(|image| cluster.submit(image, &wait))
        .collect();
    eventually("scores of the next images", || {
        scores_stored(&cluster) > before
    });
    scorer_1.kill();
    evaluator.terminate();
    let evaluator = cluster.start("evaluator", "evaluator");
    for wait in waits {
        let output = finish(wait, IMAGE_WITHIN);
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    }

    // Nothing lost, nothing doubled, one version per source, recorded in the catalogue:
    // the first image as model A scores it alone, the others as model B does.
    let mut rows = assert_same_catalogue(&cluster, &images[0], &embedded_a);
    for image in &images[1..] {
        rows += assert_same_catalogue(&cluster, image, &embedded_b);
    }
    assert_eq!(scores_stored(&cluster), rows as u64);

    // A restarted evaluator rebuilds the same state from the streams alone.
    let catalogues = cluster.path("data/catalogues");
    let before: Vec<String> = images
        .iter()
        .map(|i| std::fs::read_to_string(cluster.catalogue(&sha256_hex(i))).expect("catalogue"))
        .collect();
    evaluator.terminate();
    std::fs::remove_dir_all(&catalogues).expect("catalogues removed");
    let _evaluator = cluster.start("evaluator", "evaluator");
    for (image, before) in images.iter().zip(before) {
        let path = cluster.catalogue(&sha256_hex(image));
        eventually("the catalogue rewritten", || path.is_file());
        assert_eq!(std::fs::read_to_string(&path).expect("catalogue"), before);
    }
}

#[test]
fn every_kind_of_service_killed_and_the_server_restarted_mid_run_lose_and_double_nothing() {
    let mut cluster = Cluster::new();
    let images = simulate(&cluster);
    let embedded = cluster.path("embedded");
    run_embedded(&images, &embedded);
    cluster.publish_model(&embedded.join("model"));
    let mut evaluator = cluster.start("evaluator", "evaluator");
    let mut tiler = cluster.start("tiler", "tiler");
    let mut extractor = cluster.start("extractor", "extractor");
    let mut scorer = cluster.start("scorer", "scorer");
    let token = cluster.path("token");
    let token_args = ["--token-file", token.to_str().expect("utf-8 path")];
    for image in &images {
        let output = finish(cluster.submit(image, &token_args), IMAGE_WITHIN);
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    }
    let complete = |cluster: &Cluster| {
        images
            .iter()
            .filter(|i| cluster.catalogue(&sha256_hex(i)).is_file())
            .count()
    };
    // One crash after another while the images are in flight: each process is SIGKILLed
    // (nothing flushed, nothing acknowledged) and started again, as Kubernetes would.
    for kind in ["extractor", "tiler", "nats-server", "scorer", "evaluator"] {
        eprintln!(
            "killing {kind} with {} of {} images complete",
            complete(&cluster),
            images.len()
        );
        match kind {
            "nats-server" => cluster.nats.restart(),
            "tiler" => {
                tiler.kill();
                tiler = cluster.start("tiler", "tiler");
            }
            "extractor" => {
                extractor.kill();
                extractor = cluster.start("extractor", "extractor");
            }
            "scorer" => {
                scorer.kill();
                scorer = cluster.start("scorer", "scorer");
            }
            _ => {
                evaluator.kill();
                evaluator = cluster.start("evaluator", "evaluator");
            }
        }
    }
    // The hook, called again for each image, waits until it is complete.
    for image in &images {
        let output = finish(
            cluster.submit(image, &[&["--wait"], &token_args[..]].concat()),
            IMAGE_WITHIN,
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}\ntiler:\n{}\nextractor:\n{}\nscorer:\n{}\nevaluator:\n{}",
            describe(&output),
            tiler.log(),
            extractor.log(),
            scorer.log(),
            evaluator.log()
        );
    }
    // The fault-free run's catalogue, row for row, and one stored score per source.
    let rows: usize = images
        .iter()
        .map(|image| assert_same_catalogue(&cluster, image, &embedded))
        .sum();
    assert_eq!(scores_stored(&cluster), rows as u64);
}

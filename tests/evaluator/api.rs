//! The evaluator's gRPC and HTTP API over a real bus, and its state across a restart.

use crate::support::*;
use prospector_bus::topology::buckets;
use prospector_proto::v1::evaluator_service_client::EvaluatorServiceClient;
use prospector_proto::v1::{
    GetMetricsRequest, ImageStatus, Label, LabelClass, QueryAnomaliesRequest,
    QueryAnomaliesResponse, Stage, SubmitLabelsRequest,
};
use prospector_tests::{http_get, http_get_raw, NatsServer};
use prost::Message;
use tonic::transport::Channel;
use tonic::Code;

const IMAGE: &str = "0f3a9c";

async fn client(setup: &EvaluatorSetup) -> EvaluatorServiceClient<Channel> {
    EvaluatorServiceClient::connect(setup.grpc_url())
        .await
        .expect("gRPC connection")
}

async fn query_all(client: &mut EvaluatorServiceClient<Channel>) -> QueryAnomaliesResponse {
    client
        .query_anomalies(QueryAnomaliesRequest {
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("query")
        .into_inner()
}

fn ids(response: &QueryAnomaliesResponse) -> Vec<String> {
    response
        .sources
        .iter()
        .map(|s| {
            s.score
                .as_ref()
                .map(|s| s.source_id.clone())
                .unwrap_or_default()
        })
        .collect()
}

fn labels_request(
    labels: &[(&str, LabelClass)],
    token: Option<&str>,
) -> tonic::Request<SubmitLabelsRequest> {
    let mut request = tonic::Request::new(SubmitLabelsRequest {
        labels: labels
            .iter()
            .map(|(id, class)| Label {
                source_id: (*id).into(),
                label: *class as i32,
                labeller: "ada".into(),
                ..Default::default()
            })
            .collect(),
    });
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranks_completes_labels_and_answers_the_same_after_a_restart() {
    let nats = NatsServer::start();
    let bus = bus(&nats.url()).await;
    let setup = EvaluatorSetup::new(nats.url());
    let evaluator = setup.start();

    // An image of two tiles owning 3 + 2 sources, scored as the scorer would publish.
    let anomalies = [0.31, 0.92, 0.55, 0.12, 0.78];
    let scores: Vec<_> = anomalies
        .iter()
        .enumerate()
        .map(|(i, a)| score(IMAGE, i, *a))
        .collect();
    publish(
        &bus,
        vec![
            plan(IMAGE, 2),
            extracted(IMAGE, 0, 2, 3),
            extracted(IMAGE, 1, 2, 2),
        ],
    )
    .await;
    publish(&bus, scores[..4].iter().map(score_message).collect()).await;
    // A redelivered score (new message id, so JetStream keeps it) carrying another value
    // must change nothing: the first score of a source stands.
    let mut repeat = scores[0].clone();
    repeat.scores.as_mut().expect("scores").anomaly = 0.99;
    publish(
        &bus,
        vec![score_message(&repeat).with_msg_id("redelivered-1")],
    )
    .await;
    publish(&bus, vec![score_message(&scores[4])]).await;

    let mut grpc = client(&setup).await;
    let ranked = eventually("five ranked sources", || {
        let mut grpc = grpc.clone();
        async move { Some(query_all(&mut grpc).await).filter(|r| r.total == 5) }
    })
    .await;
    let expected =
        ["src001", "src004", "src002", "src000", "src003"].map(|p| format!("{p}-{IMAGE}"));
    assert_eq!(
        ids(&ranked),
        expected,
        "most anomalous first; the repeat ignored"
    );
    assert_eq!(
        ranked.sources.iter().map(|s| s.rank).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );

    // Paging and filters.
    let page = grpc
        .query_anomalies(QueryAnomaliesRequest {
            image_id: IMAGE.into(),
            offset: 2,
            limit: 2,
            min_anomaly: Some(0.3),
            ..Default::default()
        })
        .await
        .expect("page")
        .into_inner();
    assert_eq!((page.total, ids(&page)), (4, expected[2..4].to_vec()));

    // Complete: the status in KV for the tiler, the ranked CSV on disk.
    let status_kv = bus.key_value(buckets::IMAGE_STATUS).await.expect("bucket");
    let status = eventually("the image's status to be complete", || {
        let kv = status_kv.clone();
        async move {
            let bytes = kv.get(IMAGE).await.ok()??;
            let status = ImageStatus::decode(bytes).ok()?;
            (status.stage() == Stage::Complete).then_some(status)
        }
    })
    .await;
    assert_eq!((status.tiles_done, status.tiles_total), (2, 2));
    assert_eq!((status.sources_found, status.sources_scored), (5, 5));
    let csv_path = setup
        .data_dir()
        .join("catalogues")
        .join(format!("{IMAGE}.csv"));
    assert_eq!(status.catalogue_path, csv_path.display().to_string());
    let csv = std::fs::read_to_string(&csv_path).expect("catalogue CSV written");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 6, "{csv}");
    for (row, id) in rows[1..].iter().zip(&expected) {
        assert!(row.contains(id.as_str()), "{row} should be {id}");
    }
    let (_, exposition) = http_get(&setup.metrics_url("/metrics"));
    assert!(
        exposition.contains("prospector_images_completed_total 1"),
        "{exposition}"
    );
    assert!(
        exposition.contains("prospector_sources_scored_total 5"),
        "{exposition}"
    );

    // Before any label the separation figures are undefined, not made up.
    let metrics = grpc
        .get_metrics(GetMetricsRequest {})
        .await
        .expect("metrics")
        .into_inner();
    assert_eq!((metrics.sources_scored, metrics.sources_labelled), (5, 0));
    assert!(metrics.auc.is_nan() && metrics.f2.is_nan());

    // Labels need the token.
    let labels = [
        (expected[0].as_str(), LabelClass::Exotic),
        (expected[1].as_str(), LabelClass::Exotic),
        (expected[2].as_str(), LabelClass::Typical),
        (expected[4].as_str(), LabelClass::Typical),
    ];
    let refused = grpc
        .submit_labels(labels_request(&labels, None))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let refused = grpc
        .submit_labels(labels_request(&labels, Some("guess")))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let unknown = grpc
        .submit_labels(labels_request(
            &[("no-such-source", LabelClass::Exotic)],
            Some(TOKEN),
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert!(unknown.message().contains("no-such-source"), "{unknown:?}");
    let unset = grpc
        .submit_labels(labels_request(
            &[(expected[3].as_str(), LabelClass::Unspecified)],
            Some(TOKEN),
        ))
        .await
        .unwrap_err();
    assert_eq!(unset.code(), Code::InvalidArgument);
    assert!(unset.message().contains(expected[3].as_str()), "{unset:?}");
    let accepted = grpc
        .submit_labels(labels_request(&labels, Some(TOKEN)))
        .await
        .expect("labels accepted")
        .into_inner()
        .accepted;
    assert_eq!(accepted, 4);

    let metrics = grpc
        .get_metrics(GetMetricsRequest {})
        .await
        .expect("metrics")
        .into_inner();
    assert_eq!((metrics.sources_labelled, metrics.exotic_labelled), (4, 2));
    assert_eq!(metrics.auc, 1.0, "both exotics outrank both typicals");
    assert_eq!(metrics.f2, 1.0);
    assert_eq!(metrics.typical_removed_at_95_exotic, 1.0);
    assert_eq!(metrics.model_versions, ["model-v1"]);
    let labels_kv = bus.key_value(buckets::LABELS).await.expect("labels bucket");
    let stored = Label::decode(
        labels_kv
            .get(&expected[0])
            .await
            .expect("kv")
            .expect("label stored"),
    )
    .expect("label decodes");
    assert_eq!(
        (stored.label(), stored.labeller.as_str()),
        (LabelClass::Exotic, "ada")
    );

    // The HTTP API answers from the same catalogue.
    let (status, body) = http_get(&setup.http_url("/api/anomalies?label=exotic&limit=10"));
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(page["total"], 2);
    assert_eq!(page["sources"][0]["source_id"], expected[0].as_str());
    assert_eq!(page["sources"][0]["labeller"], "ada");
    let png = http_get_raw(&setup.http_url(&format!("/api/sources/{}/residual.png", expected[0])));
    assert!(
        png.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&png[..40.min(png.len())])
    );
    assert!(png.windows(4).any(|w| w == b"\x89PNG"), "the body is a PNG");
    let (status, body) = http_get(&setup.http_url("/api/sources/no-such-source/input.png"));
    assert_eq!((status, body.contains("no-such-source")), (404, true));
    let (_, exposition) = http_get(&setup.metrics_url("/metrics"));
    assert!(
        exposition.contains("prospector_labelled_auc 1"),
        "{exposition}"
    );

    // Restart: the replay rebuilds the same answers, labels included.
    let before_query = query_all(&mut grpc).await;
    let before_metrics = grpc
        .get_metrics(GetMetricsRequest {})
        .await
        .expect("metrics")
        .into_inner();
    evaluator.terminate();
    let _evaluator = setup.start();
    let mut grpc = client(&setup).await;
    assert_eq!(query_all(&mut grpc).await, before_query);
    // The catalogue holds no pictures (they stay in the scores stream, read back by
    // sequence, which the replay found again).
    assert!(before_query.sources.iter().all(|s| {
        let score = s.score.as_ref().expect("score");
        score.model_pixels.is_none() && score.reconstruction.is_none()
    }));
    let png = http_get_raw(&setup.http_url(&format!("/api/sources/{}/input.png", expected[1])));
    assert!(
        png.starts_with(b"HTTP/1.1 200") && png.windows(4).any(|w| w == b"\x89PNG"),
        "{}",
        String::from_utf8_lossy(&png[..40.min(png.len())])
    );
    let after_metrics = grpc
        .get_metrics(GetMetricsRequest {})
        .await
        .expect("metrics")
        .into_inner();
    assert_eq!(after_metrics, before_metrics);
    let labelled = grpc
        .query_anomalies(QueryAnomaliesRequest {
            label: LabelClass::Exotic as i32,
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("query")
        .into_inner();
    assert_eq!(ids(&labelled), expected[..2].to_vec());
}

#[tokio::test]
async fn a_catalogue_that_cannot_be_written_is_reported_and_written_once_it_can() {
    let nats = NatsServer::start();
    let bus = bus(&nats.url()).await;
    let setup = EvaluatorSetup::new(nats.url());
    // A file where the catalogue folder should be: every write fails (as on a full or
    // read-only volume; permissions alone would not stop a test running as root).
    std::fs::create_dir_all(setup.data_dir()).unwrap();
    let blocker = setup.data_dir().join("catalogues");
    std::fs::write(&blocker, "not a folder").unwrap();
    let evaluator = setup.start();

    publish(&bus, vec![plan(IMAGE, 1), extracted(IMAGE, 0, 1, 2)]).await;
    publish(
        &bus,
        vec![
            score_message(&score(IMAGE, 0, 0.4)),
            score_message(&score(IMAGE, 1, 0.7)),
        ],
    )
    .await;
    eventually("the failed write in the log", || {
        let log = evaluator.log();
        async move {
            (log.contains("catalogue not written; will retry") && log.contains("catalogues"))
                .then_some(())
        }
    })
    .await;
    // Nothing is lost meanwhile: the ranking is served from memory.
    let mut grpc = client(&setup).await;
    assert_eq!(query_all(&mut grpc).await.total, 2);

    std::fs::remove_file(&blocker).unwrap();
    let csv_path = blocker.join(format!("{IMAGE}.csv"));
    let csv = eventually("the catalogue written on a retry", || {
        let path = csv_path.clone();
        async move { std::fs::read_to_string(path).ok() }
    })
    .await;
    assert_eq!(csv.lines().count(), 3, "{csv}");
}

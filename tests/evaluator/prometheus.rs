//! A real Prometheus scrapes the running evaluator, and what it stores agrees with what
//! the evaluator did: the target is up and the rate of scored sources comes back from
//! Prometheus's own query API.

use crate::support::*;
use prospector_tests::{NatsServer, Prometheus};

const IMAGE: &str = "5ca1ab1e";

#[tokio::test]
async fn prometheus_scrapes_the_evaluator_and_reads_back_its_scoring_rate() {
    let nats = NatsServer::start();
    let bus = bus(&nats.url()).await;
    let setup = EvaluatorSetup::new(nats.url());
    let _evaluator = setup.start();
    let prometheus = Prometheus::start(&[("evaluator", format!("127.0.0.1:{}", setup.metrics))]);
    // Polls until the query's first series satisfies `wanted`.
    let value_of = |promql: &'static str, wanted: fn(f64) -> bool| {
        let prometheus = &prometheus;
        eventually(promql, move || {
            let value = prometheus.query(promql).first().map(|(_, v)| *v);
            async move { value.filter(|&v| wanted(v)) }
        })
    };

    value_of("up{job=\"evaluator\"}", |v| v == 1.0).await;
    publish(&bus, vec![plan(IMAGE, 1), extracted(IMAGE, 0, 1, 6)]).await;
    let first: Vec<_> = (0..3)
        .map(|i| score_message(&score(IMAGE, i, 0.1 * i as f64)))
        .collect();
    publish(&bus, first).await;
    value_of("prospector_sources_scored_total", |v| v == 3.0).await;

    let more: Vec<_> = (3..6)
        .map(|i| score_message(&score(IMAGE, i, 0.1 * i as f64)))
        .collect();
    publish(&bus, more).await;
    // A rate computed by Prometheus from its own samples, not a figure the evaluator
    // reports: six sources scored within the window (extrapolated at its edges).
    value_of("increase(prospector_sources_scored_total[1m])", |v| {
        v >= 3.0
    })
    .await;
    value_of("prospector_images_completed_total", |v| v == 1.0).await;
}

//! `prospector-evaluator`: the ranked anomaly catalogue, its gRPC API and web console.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    prospector_service::service_main(
        "prospector-evaluator",
        "The Prospector evaluator: the ranked anomaly catalogue, its gRPC API and web console.",
        |config| prospector_evaluator::run(config, prospector_bus::shutdown_signal()),
    )
    .await
}

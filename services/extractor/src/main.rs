//! `prospector-extractor`: tiles in, cutouts out.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    prospector_service::service_main(
        "prospector-extractor",
        "The Prospector extractor: finds the sources of each tile and publishes their cutouts.",
        |config| prospector_extractor::run(config, prospector_bus::shutdown_signal()),
    )
    .await
}

//! `prospector-scorer`: cutouts in, VQ-VAE scores out.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    prospector_service::service_main(
        "prospector-scorer",
        "The Prospector scorer: one shard of the VQ-VAE scorers, batching cutouts and hot-swapping model versions.",
        |config| prospector_scorer::run(config, prospector_bus::shutdown_signal()),
    )
    .await
}

//! `prospector-tiler`: image submissions in, tiles out.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    prospector_service::service_main(
        "prospector-tiler",
        "The Prospector tiler: SubmitImage/GetImage/WatchImage, and images cut into tiles on the bus.",
        |config| prospector_tiler::run(config, prospector_bus::shutdown_signal()),
    )
    .await
}

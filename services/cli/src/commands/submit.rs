//! `prospector submit`: the hook imaging pipelines call after making an image. It asks
//! the tiler's `PipelineService` to process the image and, with `--wait`, follows it to
//! the end: exit 0 when complete, 6 with the reason when it failed (see `exit.rs`).

use crate::exit::{Exit, ExitContext};
use crate::CliError;
use anyhow::anyhow;
use clap::Args;
use prospector_proto::v1::pipeline_service_client::PipelineServiceClient;
use prospector_proto::v1::{ImageStatus, Stage, SubmitImageRequest, WatchImageRequest};
use std::path::PathBuf;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The FITS image, as a path the server can read under its input roots (a relative
    /// path is made absolute here first).
    image: PathBuf,
    /// Follow the image until it is complete (exit 0) or failed (exit 6).
    #[arg(long)]
    wait: bool,
    /// The tiler's gRPC address.
    #[arg(
        long,
        env = "PROSPECTOR_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,
    /// Bearer token the server requires (prefer --token-file or the environment: a
    /// command line is visible to other users of the machine).
    #[arg(long, env = "PROSPECTOR_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A file holding the bearer token.
    #[arg(long, conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// Survey and field names recorded with the image (field: the file name by default).
    #[arg(long, default_value = "")]
    survey: String,
    #[arg(long, default_value = "")]
    field: String,
}

/// How long connecting to the server may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: SubmitArgs) -> Result<(), CliError> {
    let token = match (&args.token, &args.token_file) {
        (Some(token), _) => Some(token.trim().to_owned()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| anyhow!("reading the token file {}: {e}", path.display()))
                .or_exit(Exit::BadInput)?
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    };
    let path = std::path::absolute(&args.image)
        .map_err(|e| anyhow!("{}: {e}", args.image.display()))
        .or_exit(Exit::BadInput)?;
    let runtime = tokio::runtime::Runtime::new().or_exit(Exit::Internal)?;
    runtime.block_on(submit(args, path, token))
}

async fn submit(args: SubmitArgs, path: PathBuf, token: Option<String>) -> Result<(), CliError> {
    let shown = path.display().to_string();
    let channel = connect(&args.server).await?;
    let mut client = PipelineServiceClient::new(channel);
    let mut request = tonic::Request::new(SubmitImageRequest {
        path: shown.clone(),
        survey: args.survey,
        field: args.field,
        options: None,
    });
    if let Some(token) = &token {
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| anyhow!("the token holds characters a header cannot carry"))
            .or_exit(Exit::BadInput)?;
        request.metadata_mut().insert("authorization", value);
    }
    let response = client
        .submit_image(request)
        .await
        .map_err(|s| refused(&shown, &args.server, s))?
        .into_inner();
    let image_id = response.image_id;
    let status = response.status.unwrap_or_default();
    println!(
        "{shown}: image {image_id} {} ({})",
        if response.newly_submitted {
            "submitted"
        } else {
            "already submitted: not scored again"
        },
        describe(&status)
    );
    if !args.wait {
        return Ok(());
    }
    let mut updates = client
        .watch_image(WatchImageRequest {
            image_id: image_id.clone(),
        })
        .await
        .map_err(|s| refused(&shown, &args.server, s))?
        .into_inner();
    while let Some(update) = updates
        .message()
        .await
        .map_err(|s| refused(&shown, &args.server, s))?
    {
        let status = update.status.unwrap_or_default();
        eprintln!("{shown}: {}", describe(&status));
        match status.stage() {
            Stage::Complete => {
                println!(
                    "{shown}: complete, {} sources scored{}",
                    status.sources_scored,
                    match status.catalogue_path.is_empty() {
                        true => String::new(),
                        false => format!("; catalogue {}", status.catalogue_path),
                    }
                );
                return Ok(());
            }
            Stage::Failed => {
                return Err(CliError::new(
                    Exit::PipelineFailed,
                    anyhow!("{shown} (image {image_id}) failed: {}", status.detail),
                ))
            }
            _ => {}
        }
    }
    Err(CliError::new(
        Exit::Unavailable,
        anyhow!(
            "{}: the server stopped reporting on image {image_id} before it finished",
            args.server
        ),
    ))
}

async fn connect(server: &str) -> Result<Channel, CliError> {
    let endpoint = Endpoint::from_shared(server.to_owned())
        .map_err(|e| anyhow!("--server {server}: not a URL: {e}"))
        .or_exit(Exit::BadInput)?
        .connect_timeout(CONNECT_TIMEOUT);
    endpoint
        .connect()
        .await
        .map_err(|e| anyhow!("cannot reach the server at {server}: {e}"))
        .or_exit(Exit::Unavailable)
}

/// The exit code and message of a refused call.
fn refused(image: &str, server: &str, status: tonic::Status) -> CliError {
    use tonic::Code;
    let exit = match status.code() {
        Code::InvalidArgument | Code::NotFound | Code::PermissionDenied => Exit::BadInput,
        Code::Unauthenticated | Code::Unavailable | Code::DeadlineExceeded => Exit::Unavailable,
        _ => Exit::Internal,
    };
    let what = match exit {
        Exit::BadInput => format!("{image}: refused by {server}"),
        _ => server.to_owned(),
    };
    CliError::new(exit, anyhow!("{what}: {}", status.message()))
}

/// "tiled, 3/9 tiles, 120/310 sources scored".
fn describe(status: &ImageStatus) -> String {
    let stage = status
        .stage()
        .as_str_name()
        .trim_start_matches("STAGE_")
        .to_lowercase();
    let mut text = stage;
    if status.tiles_total > 0 {
        text.push_str(&format!(
            ", {}/{} tiles",
            status.tiles_done, status.tiles_total
        ));
    }
    if status.sources_found > 0 {
        text.push_str(&format!(
            ", {}/{} sources scored",
            status.sources_scored, status.sources_found
        ));
    }
    text
}

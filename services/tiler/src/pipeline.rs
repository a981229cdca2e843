//! `PipelineService`: how imaging pipelines submit images and follow them.
//!
//! The image id is the SHA-256 of the file's bytes. `SubmitImage` registers it by
//! creating its key in the image-status KV bucket (which only one submission can do), so
//! the same bytes submitted again, by anyone and at any time, are answered with the
//! image's status and not scored again. The evaluator then keeps that key up to date;
//! `GetImage` reads it and `WatchImage` streams it until the image is complete or failed.

use crate::inputs::{InputError, InputRoots};
use async_nats::jetstream::kv::{self, CreateErrorKind, Operation};
use futures::StreamExt;
use prospector_bus::topology::{buckets, subjects};
use prospector_bus::{Bus, CancellationToken, NatsBus, Outgoing, TraceContext};
use prospector_proto::v1::pipeline_service_server::PipelineService;
use prospector_proto::v1::{
    GetImageRequest, GetImageResponse, ImageRef, ImageStatus, Stage, SubmitImageRequest,
    SubmitImageResponse, WatchImageRequest, WatchImageResponse,
};
use prospector_proto::SCHEMA_VERSION;
use prospector_service::grpc::authorization;
use prospector_service::ApiToken;
use prost::Message;
use std::path::Path;
use std::pin::Pin;
use tonic::{Request, Response, Status};
use tracing::Instrument;

/// Status updates buffered per `WatchImage` caller.
const WATCH_BUFFER: usize = 16;

/// Serves `PipelineService`.
#[derive(Debug, Clone)]
pub struct Pipeline {
    inputs: InputRoots,
    token: Option<ApiToken>,
    bus: NatsBus,
    status_kv: kv::Store,
    /// Cancelled when the service stops: open `WatchImage` streams end with UNAVAILABLE
    /// rather than holding the server's graceful shutdown open.
    stop: CancellationToken,
}

impl Pipeline {
    /// Without a token, `SubmitImage` is open (a laptop set-up; deployments set one).
    pub fn new(
        inputs: InputRoots,
        token: Option<ApiToken>,
        bus: NatsBus,
        status_kv: kv::Store,
        stop: CancellationToken,
    ) -> Self {
        Self {
            inputs,
            token,
            bus,
            status_kv,
            stop,
        }
    }

    /// The image's status as last written, or `None` for an image never submitted.
    async fn status(&self, image_id: &str) -> Result<Option<ImageStatus>, Status> {
        let value = self
            .status_kv
            .get(image_id)
            .await
            .map_err(|e| unavailable(&e))?;
        value
            .map(|bytes| {
                ImageStatus::decode(bytes).map_err(|e| {
                    Status::internal(format!("the status of image {image_id} is unreadable: {e}"))
                })
            })
            .transpose()
    }

    /// Registers the image; true when these bytes were never submitted before.
    async fn register(&self, image_id: &str) -> Result<bool, Status> {
        let submitted = ImageStatus {
            image_id: image_id.to_owned(),
            stage: Stage::Submitted as i32,
            ..Default::default()
        };
        match self
            .status_kv
            .create(image_id, submitted.encode_to_vec().into())
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == CreateErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(unavailable(&e)),
        }
    }
}

fn unavailable(error: &dyn std::fmt::Display) -> Status {
    Status::unavailable(format!(
        "the image-status bucket `{}` cannot be reached: {error}",
        buckets::IMAGE_STATUS
    ))
}

/// The gRPC status of a refused path: the caller's fault, said precisely.
fn refused(error: InputError) -> Status {
    let message = error.to_string();
    match error {
        InputError::Traversal(_) | InputError::OutsideRoots(_) | InputError::NoRoots => {
            Status::permission_denied(message)
        }
        InputError::Unreadable { .. } => Status::not_found(message),
        InputError::Empty | InputError::NotAFile(_) | InputError::TooLarge { .. } => {
            Status::invalid_argument(message)
        }
    }
}

/// An image id is 64 lower-case hex digits (also what keeps it a valid KV key).
fn checked_image_id(image_id: &str) -> Result<&str, Status> {
    let valid = image_id.len() == 64
        && image_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if valid {
        Ok(image_id)
    } else {
        Err(Status::invalid_argument(format!(
            "`{image_id}` is not an image id (the SHA-256 of the image's bytes, 64 hex digits)"
        )))
    }
}

fn is_finished(status: &ImageStatus) -> bool {
    matches!(status.stage(), Stage::Complete | Stage::Failed)
}

fn unix_millis_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

type WatchStream =
    Pin<Box<dyn futures::Stream<Item = Result<WatchImageResponse, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl PipelineService for Pipeline {
    async fn submit_image(
        &self,
        request: Request<SubmitImageRequest>,
    ) -> Result<Response<SubmitImageResponse>, Status> {
        if let Some(token) = &self.token {
            token
                .check(authorization(&request).as_deref())
                .map_err(Status::unauthenticated)?;
        }
        let request = request.into_inner();
        let (path, size_bytes) = self.inputs.resolve(&request.path).map_err(refused)?;
        let image_id = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || prospector_sources::pipeline::file_sha256(&path))
                .await
                .map_err(|e| Status::internal(format!("hashing stopped: {e}")))?
                .map_err(|e| Status::not_found(format!("{}: {e}", request.path)))?
        };
        let newly_submitted = self.register(&image_id).await?;
        let status = match newly_submitted {
            true => None,
            false => self.status(&image_id).await?,
        }
        .unwrap_or_else(|| ImageStatus {
            image_id: image_id.clone(),
            stage: Stage::Submitted as i32,
            ..Default::default()
        });
        // Published when new, and again while nothing downstream has seen the image (a
        // tiler stopped between registering and publishing): the message id makes a
        // repeat within the duplicate window a no-op, and a later one only re-tiles
        // what the evaluator already counts once.
        if status.stage() == Stage::Submitted {
            let field = match request.field.is_empty() {
                true => file_stem(&path),
                false => request.field,
            };
            let image = ImageRef {
                schema_version: SCHEMA_VERSION,
                image_id: image_id.clone(),
                uri: path.display().to_string(),
                survey: request.survey,
                field,
                options: request.options,
                size_bytes,
                submitted_unix_ms: unix_millis_now(),
            };
            // The submission is the root of the image's trace: every stage's span for its
            // tiles, cutouts and scores hangs below it.
            let span = tracing::info_span!("submit_image", image_id = %image_id);
            let trace = TraceContext::starting_at(&span);
            self.bus
                .publish(vec![
                    Outgoing::new(subjects::IMAGES, &image).with_traceparent(trace.to_header())
                ])
                .instrument(span)
                .await
                .map_err(|e| Status::unavailable(format!("image {image_id} not queued: {e}")))?;
        }
        tracing::info!(image_id, path = %path.display(), newly_submitted, "image submitted");
        Ok(Response::new(SubmitImageResponse {
            image_id,
            newly_submitted,
            status: Some(status),
        }))
    }

    async fn get_image(
        &self,
        request: Request<GetImageRequest>,
    ) -> Result<Response<GetImageResponse>, Status> {
        let image_id = checked_image_id(&request.get_ref().image_id)?;
        let status = self
            .status(image_id)
            .await?
            .ok_or_else(|| Status::not_found(format!("image {image_id} was never submitted")))?;
        Ok(Response::new(GetImageResponse {
            status: Some(status),
        }))
    }

    type WatchImageStream = WatchStream;

    async fn watch_image(
        &self,
        request: Request<WatchImageRequest>,
    ) -> Result<Response<Self::WatchImageStream>, Status> {
        let image_id = checked_image_id(&request.get_ref().image_id)?.to_owned();
        if self.status(&image_id).await?.is_none() {
            return Err(Status::not_found(format!(
                "image {image_id} was never submitted"
            )));
        }
        let mut watch = self
            .status_kv
            .watch_with_history(&image_id)
            .await
            .map_err(|e| unavailable(&e))?;
        let (sender, receiver) = tokio::sync::mpsc::channel(WATCH_BUFFER);
        let stop = self.stop.clone();
        tokio::spawn(async move {
            loop {
                let entry = tokio::select! {
                    _ = stop.cancelled() => {
                        let _ = sender.send(Err(Status::unavailable("the server is shutting down"))).await;
                        return;
                    }
                    entry = watch.next() => match entry {
                        Some(entry) => entry,
                        None => return,
                    },
                };
                let update = match entry {
                    Ok(entry) if entry.operation == Operation::Put => {
                        match ImageStatus::decode(entry.value) {
                            Ok(status) => Ok(status),
                            Err(e) => {
                                tracing::warn!(image_id, error = %e, "skipping an unreadable status");
                                continue;
                            }
                        }
                    }
                    Ok(_) => continue,
                    Err(e) => Err(unavailable(&e)),
                };
                let finished = update.as_ref().map_or(true, is_finished);
                let response = update.map(|status| WatchImageResponse {
                    status: Some(status),
                });
                // The caller hung up, or the image is finished: stop watching.
                if sender.send(response).await.is_err() || finished {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        )))
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

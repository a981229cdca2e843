//! Failing an image when a stage cannot process one of its messages.
//!
//! The runner dead-letters a message its stage rejects permanently (an unreadable image,
//! a corrupt tile), one that used up its deliveries, or one whose output the server
//! refuses; that image then can never complete. [`ReportFailures`] publishes a
//! `STAGE_FAILED` progress event with the same reason alongside the dead letter, which
//! the evaluator records, so the image's status (and `prospector submit --wait`) says it
//! failed and why instead of waiting for ever.

use crate::progress::progress;
use prospector_bus::topology::subjects;
use prospector_bus::{Incoming, Outgoing, Stage, StageError};
use prospector_proto::v1;

/// `stage`, with a failure event for the image of every message the runner dead-letters.
#[derive(Debug)]
pub struct ReportFailures<S> {
    stage: S,
}

impl<S: Stage> ReportFailures<S> {
    pub fn new(stage: S) -> Self {
        Self { stage }
    }
}

/// The failure event of image `image_id`.
pub fn failure_event(image_id: &str, reason: &str) -> v1::ProgressEvent {
    progress(image_id, v1::Stage::Failed, 0, 0, 0, reason.to_owned())
}

impl<S: Stage> Stage for ReportFailures<S> {
    type Input = S::Input;

    async fn handle(&self, input: Incoming<S::Input>) -> Result<Vec<Outgoing>, StageError> {
        self.stage.handle(input).await
    }

    async fn handle_batch(
        &self,
        batch: Vec<Incoming<S::Input>>,
    ) -> Vec<Result<Vec<Outgoing>, StageError>> {
        self.stage.handle_batch(batch).await
    }

    fn dead_lettered(&self, image_id: &str, reason: &str) -> Vec<Outgoing> {
        vec![Outgoing::new(
            subjects::PROGRESS,
            &failure_event(image_id, reason),
        )]
    }
}

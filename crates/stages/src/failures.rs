//! Failing an image when a stage cannot process one of its messages.
//!
//! The runner dead-letters a message its stage rejects permanently (an unreadable image,
//! a corrupt tile); that image then can never complete. [`ReportFailures`] also
//! publishes a `STAGE_FAILED` progress event with the same reason, which the evaluator
//! records, so the image's status (and `prospector submit --wait`) says it failed and why
//! instead of waiting for ever.

use crate::progress::progress;
use prospector_bus::topology::subjects;
use prospector_bus::{Bus, BusMessage, Incoming, Outgoing, Stage, StageError};
use prospector_proto::v1;

/// `stage`, with a failure event published for the image of every message it rejects
/// permanently (before the runner dead-letters it).
#[derive(Debug)]
pub struct ReportFailures<S, B> {
    stage: S,
    bus: B,
}

impl<S: Stage, B: Bus> ReportFailures<S, B> {
    pub fn new(stage: S, bus: B) -> Self {
        Self { stage, bus }
    }
}

/// The failure event of image `image_id`.
pub fn failure_event(image_id: &str, reason: &str) -> v1::ProgressEvent {
    progress(image_id, v1::Stage::Failed, 0, 0, 0, reason.to_owned())
}

impl<S: Stage, B: Bus> Stage for ReportFailures<S, B> {
    type Input = S::Input;

    async fn handle(&self, input: Incoming<S::Input>) -> Result<Vec<Outgoing>, StageError> {
        self.handle_batch(vec![input])
            .await
            .pop()
            .unwrap_or_else(|| Err(StageError::transient("not handled")))
    }

    async fn handle_batch(
        &self,
        batch: Vec<Incoming<S::Input>>,
    ) -> Vec<Result<Vec<Outgoing>, StageError>> {
        let images: Vec<String> = batch
            .iter()
            .map(|input| input.message.image_id().to_owned())
            .collect();
        let mut results = self.stage.handle_batch(batch).await;
        for (image_id, result) in images.iter().zip(results.iter_mut()) {
            let Err(StageError::Permanent(reason)) = result else {
                continue;
            };
            if image_id.is_empty() {
                continue;
            }
            let event = Outgoing::new(subjects::PROGRESS, &failure_event(image_id, reason));
            if let Err(e) = self.bus.publish(vec![event]).await {
                // Not dead-lettered yet: retry, so the failure is not lost with it.
                *result = Err(StageError::transient(format!(
                    "{reason}; and the failure event could not be published: {e}"
                )));
            }
        }
        results
    }
}

//! The console's pictures, read back from the scores stream. The catalogue keeps only
//! what ranks and describes a source (its pictures are 32 KiB a source, too much to hold
//! for a survey); the stream keeps every score whole, so a picture costs one stream read
//! when someone looks at it.

use async_nats::jetstream::{self, stream::Stream};
use prospector_bus::decode;
use prospector_bus::topology::{stream_name, subjects};
use prospector_proto::v1::Score;

/// Why a source's stored score could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// The stream no longer holds the message (its limits removed it, or it was purged).
    #[error("the score of `{source_id}` is no longer in stream {stream} at sequence {sequence}: {reason}")]
    Gone {
        source_id: String,
        stream: String,
        sequence: u64,
        reason: String,
    },
    #[error("cannot read stream {stream}: {reason}")]
    Unavailable { stream: String, reason: String },
}

/// Reads scores back from the scores stream by sequence.
#[derive(Debug, Clone)]
pub struct ScoreArchive {
    stream: Stream,
    name: String,
}

impl ScoreArchive {
    pub async fn open(jetstream: &jetstream::Context) -> Result<Self, PictureError> {
        let name = stream_name(subjects::SCORES);
        let stream = jetstream
            .get_stream(&name)
            .await
            .map_err(|e| PictureError::Unavailable {
                stream: name.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self { stream, name })
    }

    /// The whole score of `source_id` (pictures included) stored at `sequence`.
    pub async fn score(&self, source_id: &str, sequence: u64) -> Result<Score, PictureError> {
        let gone = |reason: String| PictureError::Gone {
            source_id: source_id.to_owned(),
            stream: self.name.clone(),
            sequence,
            reason,
        };
        let message = self
            .stream
            .get_raw_message(sequence)
            .await
            .map_err(|e| match e.kind() {
                jetstream::stream::RawMessageErrorKind::NoMessageFound => gone(e.to_string()),
                _ => PictureError::Unavailable {
                    stream: self.name.clone(),
                    reason: e.to_string(),
                },
            })?;
        let score: Score = decode(&message.payload).map_err(|e| gone(e.to_string()))?;
        // A stream recreated since the catalogue was built holds other scores at the
        // same sequences.
        if score.source_id != source_id {
            return Err(gone(format!("it now holds `{}`", score.source_id)));
        }
        Ok(score)
    }
}

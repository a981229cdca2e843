//! The protobuf messages that travel on the bus, what the runner needs to know about
//! each (schema version, image and source ids, a de-duplication key), and the
//! [`Outgoing`] envelope a stage returns.

use bytes::Bytes;
use prospector_proto::v1::{
    Cutout, DeadLetter, ImageRef, Label, ProgressEvent, Score, Tile, TilePlan,
};
use prospector_proto::SCHEMA_VERSION;

/// A protobuf message carried on a Prospector subject.
pub trait BusMessage: prost::Message + Default + Send + Sync + 'static {
    /// The `schema_version` field.
    fn schema_version(&self) -> u32;
    /// The image the message belongs to (empty where none, e.g. a label).
    fn image_id(&self) -> &str {
        ""
    }
    /// The source the message is about, where it is about one.
    fn source_id(&self) -> Option<&str> {
        None
    }
    /// A key identifying the message's content, stable across redeliveries and
    /// republishes: with the subject it forms the `Nats-Msg-Id`.
    fn dedup_key(&self) -> String;
}

/// Implements [`BusMessage`] from field names: the fields whose values, joined by `/`,
/// form the de-duplication key, and the image and source id fields where there are some.
macro_rules! bus_message {
    ($type:ty { key: [$($key:ident),+] $(, image: $image:ident)? $(, source: $source:ident)? }) => {
        impl BusMessage for $type {
            fn schema_version(&self) -> u32 {
                self.schema_version
            }
            $(fn image_id(&self) -> &str {
                &self.$image
            })?
            $(fn source_id(&self) -> Option<&str> {
                Some(&self.$source)
            })?
            fn dedup_key(&self) -> String {
                [$(self.$key.to_string()),+].join("/")
            }
        }
    };
}

bus_message!(ImageRef {
    key: [image_id],
    image: image_id
});
bus_message!(TilePlan {
    key: [image_id],
    image: image_id
});
bus_message!(Tile {
    key: [image_id, tile_index],
    image: image_id
});
bus_message!(Cutout {
    key: [source_id],
    image: image_id,
    source: source_id
});
// A new model version rescoring a source is a new score, not a duplicate.
bus_message!(Score {
    key: [source_id, model_version],
    image: image_id,
    source: source_id
});
bus_message!(ProgressEvent {
    key: [image_id, stage, tile_index],
    image: image_id
});
// Relabelling later is a new label; the same submission repeated is not.
bus_message!(Label {
    key: [source_id, labeller, at_unix_ms],
    source: source_id
});
bus_message!(DeadLetter {
    key: [service, original_subject, at_unix_ms]
});

/// Why a payload is not a message this build can process. Permanent: redelivering the
/// same bytes cannot help, so the runner dead-letters them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("undecodable protobuf ({type_name}): {message}")]
    Undecodable {
        type_name: &'static str,
        message: String,
    },
    #[error("schema_version is missing (0): not a message from a Prospector producer")]
    MissingSchemaVersion,
    #[error("schema_version {found} is newer than this build reads ({SCHEMA_VERSION}): upgrade this service")]
    FutureSchemaVersion { found: u32 },
}

/// Decodes a payload and checks its schema version.
pub fn decode<M: BusMessage>(payload: &[u8]) -> Result<M, DecodeError> {
    let message = M::decode(payload).map_err(|e| DecodeError::Undecodable {
        type_name: std::any::type_name::<M>()
            .rsplit("::")
            .next()
            .unwrap_or("message"),
        message: e.to_string(),
    })?;
    match message.schema_version() {
        0 => Err(DecodeError::MissingSchemaVersion),
        v if v > SCHEMA_VERSION => Err(DecodeError::FutureSchemaVersion { found: v }),
        _ => Ok(message),
    }
}

/// A message to publish: subject, encoded payload and the headers the runner writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub subject: String,
    pub payload: Bytes,
    /// `Nats-Msg-Id`: `<subject>/<dedup key>` unless set otherwise.
    pub msg_id: String,
    pub image_id: String,
    pub source_id: Option<String>,
    /// Set by the runner from the input's trace context when a stage leaves it empty.
    pub traceparent: Option<String>,
}

impl Outgoing {
    /// Encodes `message` for `subject` with its content-derived message id.
    pub fn new<M: BusMessage>(subject: impl Into<String>, message: &M) -> Self {
        let subject = subject.into();
        Self {
            msg_id: format!("{subject}/{}", message.dedup_key()),
            payload: Bytes::from(message.encode_to_vec()),
            image_id: message.image_id().to_owned(),
            source_id: message.source_id().map(str::to_owned),
            traceparent: None,
            subject,
        }
    }

    /// Replaces the message id (for a producer with its own idempotency key).
    pub fn with_msg_id(mut self, msg_id: impl Into<String>) -> Self {
        self.msg_id = msg_id.into();
        self
    }

    /// Sets the trace context (e.g. an ingest starting a new trace per submission).
    pub fn with_traceparent(mut self, traceparent: impl Into<String>) -> Self {
        self.traceparent = Some(traceparent.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn decode_rejects_garbage_missing_and_future_versions() {
        assert!(matches!(
            decode::<Cutout>(&[0xff, 0xff, 0xff]),
            Err(DecodeError::Undecodable { .. })
        ));
        assert_eq!(
            decode::<Cutout>(&[]),
            Err(DecodeError::MissingSchemaVersion)
        );
        let future = Cutout {
            schema_version: SCHEMA_VERSION + 1,
            ..Default::default()
        };
        assert_eq!(
            decode::<Cutout>(&future.encode_to_vec()),
            Err(DecodeError::FutureSchemaVersion {
                found: SCHEMA_VERSION + 1
            })
        );
        let current = Cutout {
            schema_version: SCHEMA_VERSION,
            source_id: "s".into(),
            ..Default::default()
        };
        assert_eq!(decode::<Cutout>(&current.encode_to_vec()), Ok(current));
    }

    #[test]
    fn message_ids_derive_from_content_not_from_time() {
        let score = |model: &str| Score {
            schema_version: SCHEMA_VERSION,
            source_id: "src".into(),
            image_id: "img".into(),
            model_version: model.into(),
            ..Default::default()
        };
        let a = Outgoing::new("prospector.scores", &score("m1"));
        assert_eq!(a.msg_id, "prospector.scores/src/m1");
        assert_eq!(a, Outgoing::new("prospector.scores", &score("m1")));
        assert_ne!(
            a.msg_id,
            Outgoing::new("prospector.scores", &score("m2")).msg_id
        );
        assert_eq!(a.source_id.as_deref(), Some("src"));
        assert_eq!(a.image_id, "img");
    }
}

//! NATS header names Prospector writes on every message.

/// JetStream's de-duplication key: a content-derived id, so a message republished after
/// a crash between publish and acknowledgement is dropped by the stream.
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";
/// W3C trace context (`00-<trace id>-<span id>-<flags>`).
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// The image a message belongs to (readable without decoding the payload).
pub const IMAGE_ID_HEADER: &str = "Prospector-Image-Id";
/// The source a message is about, where it is about one.
pub const SOURCE_ID_HEADER: &str = "Prospector-Source-Id";

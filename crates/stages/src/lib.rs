//! The pipeline's stages as [`prospector_bus::Stage`]s: the same code runs in the
//! services (over `NatsBus`) and in the embedded `prospector run` (over `InProcessBus`).
//!
//! - [`TilerStage`]: `ImageRef` -> a `TilePlan`, then `Tile`s (core + margin, pixels
//!   zstd-compressed, the whole image's background shipped with each tile);
//! - [`ExtractorStage`]: `Tile` -> one `Cutout` per island the tile's core owns, then a
//!   `ProgressEvent` (`STAGE_EXTRACTED`, `sources_owned`);
//! - [`ScorerStage`]: batches of `Cutout`s -> `Score`s through a [`CutoutModel`];
//! - [`ReportFailures`]: any of them, also failing the image of a message it rejects.
//!
//! Nothing here knows about NATS: the stages compute on decoded messages and return
//! the messages to publish. Bad input (an unreadable image, a tile whose pixels do not
//! match its shape) is a [`prospector_bus::StageError::Permanent`] naming the fault, so
//! the runner dead-letters it with that reason.

mod codec;
mod embedded;
mod extractor;
mod failures;
mod progress;
mod scorer;
mod tiler;
mod vqvae;

pub use codec::{
    decode_background, decode_pixels, encode_background, encode_pixels, wcs_from_header,
    wcs_header, CodecError, MAX_PIXELS,
};
pub use embedded::{run_embedded, EmbeddedError, Submitted};
pub use extractor::ExtractorStage;
pub use failures::{failure_event, ReportFailures};
pub use scorer::{CutoutModel, ModelError, ModelScores, ScorerStage};
pub use tiler::{tile_core_for_payload, TilerStage, MAX_TILE_PAYLOAD};
pub use vqvae::VqVaeModel;

//! The ranked anomaly catalogue, as the evaluator service and the embedded mode keep it.
//!
//! It is a pure state machine over the bus messages (`TilePlan`, `ProgressEvent`, `Score`,
//! `Label`): feed it the messages in any order, any number of times, and it holds the
//! same catalogue. That is what makes "at-least-once on the wire, exactly-once in the
//! results" hold, and what lets the evaluator rebuild its state after a restart by
//! replaying the durable streams.
//!
//! - Scores are de-duplicated by source id. A source scored twice (a redelivery, or a
//!   model hot-swap racing a redelivery) keeps its first score; the second is counted as a
//!   duplicate, and as a conflict when it came from another model version, so that "every
//!   source scored by exactly one version" can be checked rather than assumed.
//! - An image is complete when its plan is known, every tile has reported how many sources
//!   it owns, and that many distinct sources of the image have been scored.

mod catalogue;
mod progress;

pub use catalogue::{
    label_name, AnomalyQuery, Catalogue, RankedEntry, ScoreOutcome, CATALOGUE_CSV_HEADER,
};
pub use progress::{ImageProgress, ImageState};

//! The Prospector evaluator: keeps the ranked anomaly catalogue of a survey and serves it.
//!
//! - [`feed`] replays the history streams (plans, progress, scores, labels) from their
//!   first message with ordered consumers and then follows them live, so the catalogue is
//!   rebuilt exactly after a restart (the streams have limits retention: nothing is lost
//!   when a message is read);
//! - [`state`] applies those messages to a [`prospector_ranking::Catalogue`] and writes
//!   what changed: each image's `ImageStatus` to KV, its ranked CSV on completion;
//! - [`labels`] is the one path by which astronomers' labels enter (gRPC and HTTP alike);
//! - [`grpc`] serves `EvaluatorService`, [`http`] the web console and its JSON API, with
//!   the pictures [`pictures`] reads back from the scores stream (the catalogue keeps none).

pub mod feed;
pub mod grpc;
pub mod http;
pub mod labels;
pub mod live_metrics;
pub mod outputs;
pub mod pictures;
pub mod render;
pub mod service;
pub mod state;

pub use prospector_service::ServiceError;
pub use service::run;

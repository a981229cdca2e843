//! The Prospector tiler service.
//!
//! - [`inputs`] decides which files a submission may name: only under the configured
//!   input roots, no `..`, no symlink leading out, no file over the size limit;
//! - [`pipeline`] serves `PipelineService`: `SubmitImage` hashes the file (the image id),
//!   registers it once and publishes its `ImageRef`; `GetImage` and `WatchImage` read the
//!   status the evaluator keeps in the `prospector-image-status` KV bucket;
//! - [`service`] wires them to the tiler stage, which turns each `ImageRef` into a plan
//!   and tiles (and a failure event when the image cannot be read).

pub mod inputs;
pub mod pipeline;
pub mod service;

pub use service::run;

//! Protobuf messages and gRPC services of Prospector, generated from
//! `proto/prospector/v1/*.proto` (the contracts: read those files for the meaning
//! of every field).
//!
//! Bus messages carry a `schema_version`; [`SCHEMA_VERSION`] is the one this build
//! writes and the highest it reads.

/// Schema version written into every bus message by this build.
pub const SCHEMA_VERSION: u32 = 1;

pub mod v1 {
    #![allow(missing_debug_implementations, clippy::all)]
    tonic::include_proto!("prospector.v1");
}

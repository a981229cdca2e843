//! The evaluator as a real process against a real nats-server: messages published as the
//! scorer and extractor publish them, queried over real gRPC and HTTP, restarted, and
//! driven through its web console in Chromium.

mod api;
mod console;
mod prometheus;
mod support;

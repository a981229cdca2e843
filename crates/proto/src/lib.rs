//! Protobuf messages and gRPC services of Prospector (package prospector.v1).

//! Test harness: a real broker, topics, and the service binaries.

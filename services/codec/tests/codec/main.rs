//! Integration tests for wismo-codec, in one binary to keep link time down.

mod avro_behaviour;
mod evolution;
mod fast_path;
mod fixtures;
mod framing;
mod fuzz_seeds;
mod json;
mod no_panic;
mod roundtrip;
mod schemas;

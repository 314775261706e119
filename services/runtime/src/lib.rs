//! The thin shell every wismo service runs in.
//!
//! A service supplies a [`Processor`]: how to decode its input records, and its pure
//! decision functions. The shell does the rest, the same way for every service:
//! consume, decide, produce, keep per-key state in memory and in a compacted
//! changelog topic, fire durable timers, dead-letter bad input, commit offsets,
//! serve `/metrics`, `/healthz` and `/readyz`, and shut down cleanly on SIGTERM.
//!
//! Delivery guarantee: at least once. For each batch the outputs are produced and
//! acknowledged, then the changelog, then the input offsets are committed. A crash
//! anywhere replays the batch; the decision core gives every command a deterministic
//! id, so a replayed command carries the id of the first one. A transactional mode
//! for brokers that support it is available behind configuration.

mod clients;
pub mod config;
pub mod dead_letter;
mod engine;
mod http;
mod lookup;
pub mod metrics;
mod output;
mod processor;
mod rebalance;
pub mod restore;
mod shutdown;
mod store;
pub mod telemetry;

pub use config::{DeliveryMode, RuntimeConfig};
pub use engine::run;
pub use processor::{Decoded, InputRecord, OutRecord, Processor, Rejection, RejectionKind, Step};

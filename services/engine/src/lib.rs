//! wismo's stream-processing engine.
//!
//! A service supplies a [`Processor`]: its [`Topology`], how to decode its input
//! records, and its pure decision functions. The engine does the rest, the same way
//! for every service and on every transport: it forms tasks from the partitions it
//! owns, decides each task's records in time order across its inputs (waiting for
//! an input that is behind), fires timers at their deadlines on stream time, keeps
//! per-key state with a compacted changelog, stamps and sends outputs, sends
//! watermarks on internal topics, dead-letters bad input, and commits offsets with
//! a checkpoint of the task's time.
//!
//! The [`Transport`] is the only way out: Kafka in the services (`wismo-runtime`),
//! [`transport::memory`] in `replay`, the tests and the simulation. There is one
//! scheduler, so live and replay decide the same.

pub mod breaker;
pub mod changelog;
pub mod checkpoint;
pub mod config;
pub mod dead_letter;
mod engine;
pub mod metrics;
mod processor;
pub mod record;
pub mod store;
mod task;
pub mod transport;

pub use breaker::BreakerConfig;
pub use config::{DeliveryMode, EngineConfig};
pub use dead_letter::{DeadLetters, OwnedInput};
pub use engine::{Engine, EngineError};
pub use processor::{
    Decoded, ForwardOnly, Input, InputRecord, OutRecord, Processor, Rejection, RejectionKind, Step,
    Topology,
};
pub use task::TaskId;
pub use transport::{Transport, TransportError};

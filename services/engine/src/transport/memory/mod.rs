//! An in-memory log with Kafka's semantics where the engine relies on them:
//! partitions in offset order, consumer groups with committed offsets and
//! metadata, range assignment with revocation before reassignment, fencing of a
//! member that lost its partitions, and transactions that become visible at once
//! or not at all. `replay`, the scenario tests and the simulation run the engine
//! on it; the simulation also varies what a poll returns and pulls the plug at
//! chosen points ([`Faults`]).

mod log;
mod transport;

pub use log::MemoryLog;
pub use transport::{Faults, FetchPolicy, MemoryTransport};

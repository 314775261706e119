//! order-tracker: `orders` + the scans the scan-matcher routed → per-order state →
//! every command decided, to the outbox the dispatcher reads.

mod metrics;
mod processor;
mod records;

pub use processor::{OrderTracker, SERVICE};

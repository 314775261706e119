//! scan-matcher: `carrier-scans` (keyed by tracking number) + the shipments of
//! `orders` (re-keyed by tracking number through its own topic) → scans keyed by
//! order id for the order-tracker.

mod metrics;
mod processor;

pub use processor::{ScanMatcher, SERVICE};

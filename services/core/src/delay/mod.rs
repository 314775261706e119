//! Late and stuck deliveries.
mod policy;
pub use policy::{ApologyMode, DelayPolicy, Lane, Severity, ThresholdRule, Thresholds};

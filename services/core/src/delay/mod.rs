//! Late and stuck deliveries.
mod policy;
pub use policy::{DelayPolicy, Lane, Severity, ThresholdRule, Thresholds};

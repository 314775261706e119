//! dispatcher: every command the order-tracker decided, keyed by customer id (so
//! one recipient's commands meet in one place), through the per-recipient cap and
//! the global egress rate, onto the command topics the messaging services read.

mod metrics;
mod processor;

pub use processor::{Dispatcher, SERVICE};

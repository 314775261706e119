//! order-tracker: `orders` + scans routed by the scan-matcher → per-order state →
//! `notification-commands`, plus shipment registrations back to the matcher.

mod metrics;
mod processor;

use processor::OrderTracker;
use std::sync::Arc;
use wismo_config::{tracker_config, Env, Topics};
use wismo_core::clock::SystemClock;
use wismo_runtime::RuntimeConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    wismo_runtime::telemetry::init();
    let env = Env::from_process()?;
    let topics = Topics::from_env(&env);
    let runtime = RuntimeConfig::from_env("order-tracker", &topics.tracker_changelog, &env)?;
    let processor = OrderTracker::new(tracker_config(&env)?, topics, runtime.clone());
    wismo_runtime::run(processor, runtime, Arc::new(SystemClock)).await
}

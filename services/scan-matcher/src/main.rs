//! scan-matcher: `carrier-scans` (keyed by tracking number) + the shipments of
//! `orders` (re-keyed by tracking number through its own topic) → scans keyed by
//! order id for the order-tracker.

mod processor;

use processor::ScanMatcher;
use std::sync::Arc;
use wismo_config::{matcher_config, Env, Topics};
use wismo_core::clock::SystemClock;
use wismo_runtime::RuntimeConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    wismo_runtime::telemetry::init();
    let env = Env::from_process()?;
    let topics = Topics::from_env(&env);
    let runtime = RuntimeConfig::from_env("scan-matcher", &topics.matcher_changelog, &env)?;
    let processor = ScanMatcher::new(matcher_config(&env)?, topics, runtime.clone());
    wismo_runtime::run(processor, runtime, Arc::new(SystemClock)).await
}

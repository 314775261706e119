//! The order-tracker service; see the library for what it does.

use order_tracker::{OrderTracker, SERVICE};
use std::sync::Arc;
use wismo_config::{tracker_config, Env, Topics};
use wismo_core::clock::SystemClock;
use wismo_runtime::RuntimeConfig;

fn main() -> anyhow::Result<()> {
    wismo_runtime::telemetry::init();
    let env = Env::from_process()?;
    let topics = Topics::from_env(&env);
    let runtime = RuntimeConfig::from_env(SERVICE, &env)?;
    let processor = OrderTracker::new(tracker_config(&env)?, topics);
    env.reject_unknown()?;
    wismo_runtime::run(processor, runtime, Arc::new(SystemClock))
}

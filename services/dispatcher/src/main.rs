//! dispatcher: every command the order-tracker decided, keyed by customer id (so
//! one recipient's commands meet in one place), through the per-recipient cap and
//! the global egress rate, onto the command topics the messaging services read.

mod metrics;
mod processor;

use processor::Dispatcher;
use std::sync::Arc;
use wismo_config::{policy::policy_from_env, Env, Topics};
use wismo_core::clock::SystemClock;
use wismo_runtime::RuntimeConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    wismo_runtime::telemetry::init();
    let env = Env::from_process()?;
    let topics = Topics::from_env(&env);
    // Stateless: the changelog name is only a placeholder and is never written.
    let runtime = RuntimeConfig::from_env("dispatcher", "wismo-dispatcher-changelog", &env)?;
    let policy = policy_from_env(&env)?;
    let processor = Dispatcher::new(&policy.notifications, topics);
    wismo_runtime::run(processor, runtime, Arc::new(SystemClock)).await
}

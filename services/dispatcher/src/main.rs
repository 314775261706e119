//! The dispatcher service; see the library for what it does.

use dispatcher::{Dispatcher, SERVICE};
use std::sync::Arc;
use wismo_config::{policy::policy_from_env, Env, Topics};
use wismo_core::clock::SystemClock;
use wismo_runtime::RuntimeConfig;

fn main() -> anyhow::Result<()> {
    wismo_runtime::telemetry::init();
    let env = Env::from_process()?;
    let topics = Topics::from_env(&env);
    let runtime = RuntimeConfig::from_env(SERVICE, &env)?;
    let policy = policy_from_env(&env)?;
    let processor = Dispatcher::new(&policy.notifications, topics);
    env.reject_unknown()?;
    wismo_runtime::run(processor, runtime, Arc::new(SystemClock))
}

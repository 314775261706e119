//! The scan-matcher service; see the library for what it does.

use scan_matcher::{ScanMatcher, SERVICE};
use std::sync::Arc;
use wismo_config::{matcher_config, Env, Topics};
use wismo_core::clock::SystemClock;
use wismo_runtime::RuntimeConfig;

fn main() -> anyhow::Result<()> {
    wismo_runtime::telemetry::init();
    let env = Env::from_process()?;
    let topics = Topics::from_env(&env);
    let runtime = RuntimeConfig::from_env(SERVICE, &env)?;
    let processor = ScanMatcher::new(matcher_config(&env)?, topics);
    env.reject_unknown()?;
    wismo_runtime::run(processor, runtime, Arc::new(SystemClock))
}

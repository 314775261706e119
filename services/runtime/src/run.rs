//! Running a service: the engine on Kafka on this thread; HTTP (metrics, probes,
//! lookup) and the signal handler on a small tokio runtime beside it.

use crate::access::LookupAccess;
use crate::config::RuntimeConfig;
use crate::http::{self, Health};
use crate::kafka::KafkaTransport;
use crate::spill::SpillDir;
use crate::{lookup, shutdown};
use anyhow::Context;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wismo_core::clock::Clock;
use wismo_engine::{Engine, Processor};

/// Runs `processor` until SIGTERM, then commits and leaves the group. Returns an
/// error only for what a restart can fix (a topic missing, the broker refusing
/// this instance); bad records never stop it.
pub fn run<P: Processor>(
    processor: P,
    mut config: RuntimeConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    let spill = SpillDir::prepare(&config.spill_root, &config.service, &config.instance_id)?;
    config.engine.spill_dir = Some(spill.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the HTTP runtime")?;
    let health = Arc::new(Health::default());
    health.beat();
    let stop = Arc::new(AtomicBool::new(false));
    let (query_tx, queries) = lookup::channel();
    // `WISMO_LOOKUP=off` serves no lookup route at all.
    let route = processor
        .lookup_route()
        .filter(|_| config.lookup != LookupAccess::Off);
    {
        let _guard = runtime.enter();
        shutdown::on_signal(stop.clone());
        let lookup = lookup::Lookup {
            queries: query_tx,
            access: config.lookup.clone(),
        };
        let server = http::serve(config.http_addr, health.clone(), route.map(|r| (r, lookup)));
        runtime.spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "HTTP server stopped");
            }
        });
    }

    let transport = KafkaTransport::connect(&config)?;
    let mut engine = Engine::new(processor, transport, config.engine.clone(), clock)?;
    engine.start().context("starting")?;
    tracing::info!(service = %config.service, group = %config.group_id, lookup = config.lookup.mode(), "started");
    while !stop.load(Ordering::Relaxed) {
        match engine.poll_once(Duration::from_millis(100)) {
            Err(wismo_engine::EngineError::FailPoint(what)) => {
                // Dies as a real crash would: no flush, no commit, no unwinding.
                tracing::error!(%what, "failpoint: aborting");
                std::process::abort();
            }
            result => result?,
        };
        health.beat();
        health.ready.store(engine.ready(), Ordering::Relaxed);
        while let Ok(query) = queries.try_recv() {
            let answer = match engine.lookup(&query.key) {
                Some(state) => lookup::Answer::Found(state),
                None => lookup::Answer::NotHeld {
                    partitions: engine.owned_partitions(),
                },
            };
            // The asker may have given up; nothing to do then.
            let _ = query.reply.send(answer);
        }
    }
    health.ready.store(false, Ordering::Relaxed);
    engine.shutdown()?;
    drop(engine);
    drop(spill);
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

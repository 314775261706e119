//! SIGTERM / SIGINT → a flag the processing loop checks every round.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub(crate) fn on_signal(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested; committing and leaving the group");
        stop.store(true, Ordering::Relaxed);
    });
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the service");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

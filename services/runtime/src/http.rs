//! `/metrics`, `/healthz`, `/readyz`, and the state lookup where the service has one.

use axum::{extract::State, http::StatusCode, routing::get, Router};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

use crate::lookup;

/// What the probes report. Live: the processing loop has beaten recently.
/// Ready: started and not restoring state.
#[derive(Debug, Default)]
pub(crate) struct Health {
    pub started: AtomicBool,
    pub restoring: AtomicBool,
    pub last_beat_ms: AtomicI64,
}

impl Health {
    pub fn beat(&self) {
        self.last_beat_ms
            .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    fn live(&self) -> bool {
        let age = chrono::Utc::now().timestamp_millis() - self.last_beat_ms.load(Ordering::Relaxed);
        // A restore of a large partition may hold the loop; allow it a minute.
        age < 60_000 || self.restoring.load(Ordering::Relaxed)
    }

    fn ready(&self) -> bool {
        self.started.load(Ordering::Relaxed) && !self.restoring.load(Ordering::Relaxed)
    }
}

/// Serves the probes and metrics, and `GET /<route>/{key}` when `lookup` is given.
pub(crate) async fn serve(
    addr: SocketAddr,
    health: Arc<Health>,
    lookup: Option<(&'static str, mpsc::Sender<lookup::Query>)>,
) -> anyhow::Result<()> {
    let mut app = Router::new()
        .route("/metrics", get(|| async { crate::metrics::render() }))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(health);
    if let Some((route, queries)) = lookup {
        app = app.merge(
            Router::new()
                .route(&format!("/{route}/{{key}}"), get(lookup::handle))
                .with_state(queries),
        );
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "http listening");
    axum::serve(listener, app).await?;
    Ok(())
}

async fn healthz(State(h): State<Arc<Health>>) -> (StatusCode, &'static str) {
    if h.live() {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "processing loop stalled\n")
    }
}

async fn readyz(State(h): State<Arc<Health>>) -> (StatusCode, &'static str) {
    if h.ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "starting or restoring state\n",
        )
    }
}

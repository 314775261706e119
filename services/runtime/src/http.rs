//! `/metrics`, `/healthz`, `/readyz`, and the state lookup where the service has one.

use axum::{extract::State, http::StatusCode, routing::get, Router};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use crate::lookup;

/// What the probes report. Live: the processing loop has beaten recently (never
/// Kafka's reachability: a broker outage is waited out, not restarted).
/// Ready: in the group, with every owned partition's state restored.
#[derive(Debug, Default)]
pub(crate) struct Health {
    pub ready: AtomicBool,
    pub last_beat_ms: AtomicI64,
}

impl Health {
    pub fn beat(&self) {
        self.last_beat_ms
            .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    fn live(&self) -> bool {
        let age = chrono::Utc::now().timestamp_millis() - self.last_beat_ms.load(Ordering::Relaxed);
        // A flush waits out a broker outage up to the delivery timeout.
        age < 400_000
    }

    fn ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// Serves the probes and metrics, and `GET /<route>/{key}` when `lookup` is given
/// (behind its access check; the probes and metrics stay open).
pub(crate) async fn serve(
    addr: SocketAddr,
    health: Arc<Health>,
    lookup: Option<(&'static str, lookup::Lookup)>,
) -> anyhow::Result<()> {
    let mut app = Router::new()
        .route("/metrics", get(|| async { crate::metrics::render() }))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(health);
    if let Some((route, lookup)) = lookup {
        app = app.merge(
            Router::new()
                .route(&format!("/{route}/{{key}}"), get(lookup::handle))
                .with_state(lookup),
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

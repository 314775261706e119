//! What the scan-matcher refused, for dashboards (hold metrics: `wismo_engine::metrics::holds`).

use prometheus::{register_int_counter, IntCounter};
use std::sync::OnceLock;

pub struct MatcherMetrics {
    pub registration_conflicts: IntCounter,
    pub order_mismatches: IntCounter,
}

pub fn get() -> &'static MatcherMetrics {
    static M: OnceLock<MatcherMetrics> = OnceLock::new();
    const E: &str = "metric names are unique";
    M.get_or_init(|| MatcherMetrics {
        registration_conflicts: register_int_counter!(
            "wismo_registration_conflicts_total",
            "Shipment registrations refused because their tracking number belongs to another order."
        )
        .expect(E),
        order_mismatches: register_int_counter!(
            "wismo_scan_order_mismatches_total",
            "Scans refused because their order_id is not the registered order of their tracking number."
        )
        .expect(E),
    })
}

//! What the order-tracker decided, and what it refused, for dashboards.

use prometheus::{register_int_counter, register_int_counter_vec, IntCounter, IntCounterVec};
use std::sync::OnceLock;

pub struct TrackerMetrics {
    pub commands: IntCounterVec,
    pub suppressed: IntCounterVec,
    pub unmapped: IntCounterVec,
    pub apologies: IntCounterVec,
    pub reviews: IntCounter,
    pub incidents_opened: IntCounterVec,
    pub incidents_closed: IntCounterVec,
    pub deliveries: IntCounterVec,
    pub carrier_exceptions: IntCounterVec,
    pub held_back: IntCounterVec,
    pub carrier_other: IntCounter,
    pub shipments_refused: IntCounter,
    pub seen_dropped: IntCounter,
}

pub fn get() -> &'static TrackerMetrics {
    static M: OnceLock<TrackerMetrics> = OnceLock::new();
    M.get_or_init(|| {
        const M: &str = "metric names are unique";
        TrackerMetrics {
            commands: register_int_counter_vec!(
                "wismo_notification_commands_total",
                "Notification commands decided, by milestone and channel.",
                &["milestone", "channel"]
            )
            .expect(M),
            suppressed: register_int_counter_vec!(
                "wismo_notifications_suppressed_total",
                "Notifications and apologies decided but not sent, by milestone (or delay reason) and why.",
                &["milestone", "reason"]
            )
            .expect(M),
            reviews: register_int_counter!("wismo_review_request_commands_total", "Review requests decided.").expect(M),
            apologies: register_int_counter_vec!(
                "wismo_delay_apology_commands_total",
                "Delay apologies decided, by reason and severity.",
                &["reason", "severity"]
            )
            .expect(M),
            incidents_opened: register_int_counter_vec!(
                "wismo_incidents_opened_total",
                "Delay incidents opened, by reason and carrier.",
                &["reason", "carrier"]
            )
            .expect(M),
            incidents_closed: register_int_counter_vec!(
                "wismo_incidents_closed_total",
                "Delay incidents closed, by reason and carrier.",
                &["reason", "carrier"]
            )
            .expect(M),
            deliveries: register_int_counter_vec!(
                "wismo_deliveries_total",
                "Shipments delivered, by carrier and timing against the promise (on_time, late, no_promise).",
                &["carrier", "timing"]
            )
            .expect(M),
            carrier_exceptions: register_int_counter_vec!(
                "wismo_carrier_exceptions_total",
                "Shipments whose status became a carrier exception, by carrier and sub-status.",
                &["carrier", "sub_status"]
            )
            .expect(M),
            held_back: register_int_counter_vec!(
                "wismo_decisions_held_back_total",
                "Decisions that did not become a command, or became a deferred one, by outcome (suppressed, held, cancelled) and reason.",
                &["outcome", "reason"]
            )
            .expect(M),
            unmapped: register_int_counter_vec!(
                "wismo_unmapped_status_total",
                "Scans whose carrier code no mapping table knows, by carrier.",
                &["carrier"]
            )
            .expect(M),
            carrier_other: register_int_counter!(
                "wismo_carrier_other_total",
                "Observations labelled carrier=\"other\": their carrier has no mapping table and no policy entry."
            )
            .expect(M),
            shipments_refused: register_int_counter!(
                "wismo_shipments_refused_total",
                "Shipments sent to dead-letter because their order has the most shipments one order may have."
            )
            .expect(M),
            seen_dropped: register_int_counter!(
                "wismo_seen_scan_ids_dropped_total",
                "Scan ids a shipment stopped remembering to make room for newer ones (a resend of such a scan is applied again, changing nothing)."
            )
            .expect(M),
        }
    })
}

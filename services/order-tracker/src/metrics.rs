//! What the order-tracker decided, for dashboards.

use prometheus::{register_int_counter_vec, IntCounterVec};
use std::sync::OnceLock;

pub struct TrackerMetrics {
    pub commands: IntCounterVec,
    pub suppressed: IntCounterVec,
    pub unmapped: IntCounterVec,
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
                "Milestones decided but not sent, by milestone and reason.",
                &["milestone", "reason"]
            )
            .expect(M),
            unmapped: register_int_counter_vec!(
                "wismo_unmapped_status_total",
                "Scans whose carrier code no mapping table knows, by carrier.",
                &["carrier"]
            )
            .expect(M),
        }
    })
}

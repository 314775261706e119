//! What the dispatcher let through and what it held back.

use prometheus::{
    register_int_counter, register_int_counter_vec, register_int_gauge, IntCounter, IntCounterVec,
    IntGauge,
};
use std::sync::OnceLock;

pub struct DispatcherMetrics {
    pub dispatched: IntCounterVec,
    pub capped: IntCounterVec,
    pub cap_outcomes: IntCounterVec,
    pub egress_share: IntGauge,
    pub egress_waits: IntCounter,
}

pub fn get() -> &'static DispatcherMetrics {
    static M: OnceLock<DispatcherMetrics> = OnceLock::new();
    const E: &str = "metric names are unique";
    M.get_or_init(|| DispatcherMetrics {
        dispatched: register_int_counter_vec!(
            "wismo_commands_dispatched_total",
            "Commands sent on to their topic, by kind.",
            &["kind"]
        )
        .expect(E),
        capped: register_int_counter_vec!(
            "wismo_commands_capped_total",
            "Commands the per-recipient cap held back, by kind (they go out at the next allowed slot unless a newer one supersedes them).",
            &["kind"]
        )
        .expect(E),
        cap_outcomes: register_int_counter_vec!(
            "wismo_cap_outcomes_total",
            "What became of commands the per-recipient cap held: released (sent at a later slot), superseded (replaced by a newer one about the same order), overflow (dropped beyond the per-recipient bound), by kind.",
            &["kind", "outcome"]
        )
        .expect(E),
        egress_share: register_int_gauge!(
            "wismo_egress_share_per_second",
            "This instance's share of the global egress rate: the rate times the share of the outbox partitions it owns."
        )
        .expect(E),
        egress_waits: register_int_counter!(
            "wismo_egress_waits_total",
            "Times the global egress rate made the dispatcher wait."
        )
        .expect(E),
    })
}

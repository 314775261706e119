//! Prometheus metrics of the engine. Services register their own in the same
//! (default) registry, so `/metrics` shows both.

use prometheus::{
    register_histogram, register_histogram_vec, register_int_counter, register_int_counter_vec,
    register_int_gauge, Histogram, HistogramVec, IntCounter, IntCounterVec, IntGauge,
};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

pub struct EngineMetrics {
    pub consumed: IntCounterVec,
    pub produced: IntCounterVec,
    pub dead_letters: IntCounterVec,
    pub commit_seconds: Histogram,
    pub commits: IntCounter,
    pub aborts: IntCounterVec,
    pub idle_proceeds: IntCounter,
    pub upstream_timeouts: IntCounter,
    pub watermarks_sent: IntCounter,
    pub buffered_records: IntGauge,
    pub spilled_records: IntGauge,
    pub spilled_total: IntCounter,
    pub repeated_total: IntCounter,
    pub tasks_restoring: IntGauge,
    pub state_keys: IntGauge,
    pub states_decoded: IntCounter,
    pub state_keys_decoded: IntGauge,
    pub timers_open: IntGauge,
    pub timers_fired: IntCounter,
    /// Seconds between a timer's deadline and the moment it fired.
    pub timer_lag_seconds: Histogram,
    pub restore_seconds: Histogram,
    pub restored_keys: IntCounter,
    pub partitions_assigned: IntGauge,
    pub rebalances: IntCounterVec,
    pub commit_failures: IntCounter,
    pub crash_loops_broken: IntCounter,
    pub stage_seconds: HistogramVec,
    pub encode_failures: IntCounter,
    pub detection_lag_seconds: Histogram,
}

/// The process-wide metrics; registered on first use.
pub fn engine() -> &'static EngineMetrics {
    static METRICS: OnceLock<EngineMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        // Registration fails only on a duplicate name: a bug any test run catches.
        const M: &str = "metric names are unique";
        EngineMetrics {
            consumed: register_int_counter_vec!(
                "wismo_records_consumed_total",
                "Input records consumed.",
                &["topic"]
            )
            .expect(M),
            produced: register_int_counter_vec!(
                "wismo_records_produced_total",
                "Records produced and acknowledged.",
                &["topic"]
            )
            .expect(M),
            dead_letters: register_int_counter_vec!(
                "wismo_dead_letters_total",
                "Records sent to the dead-letter topic, by kind.",
                &["kind"]
            )
            .expect(M),
            commit_seconds: register_histogram!(
                "wismo_commit_seconds",
                "Time to commit: outputs acknowledged, changelog written, offsets committed.",
                vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0]
            )
            .expect(M),
            commits: register_int_counter!("wismo_commits_total", "Commits completed.").expect(M),
            aborts: register_int_counter_vec!(
                "wismo_aborts_total",
                "Times the tasks were rewound to their last commit, by cause.",
                &["cause"]
            )
            .expect(M),
            idle_proceeds: register_int_counter!(
                "wismo_task_idle_proceeds_total",
                "Records decided while an input of their task was empty and caught up (after the max task idle time)."
            )
            .expect(M),
            upstream_timeouts: register_int_counter!(
                "wismo_upstream_timeouts_total",
                "Writers of an internal input no longer waited for after their silence outlasted the upstream timeout."
            )
            .expect(M),
            watermarks_sent: register_int_counter!(
                "wismo_watermarks_sent_total",
                "Watermark records sent to internal topics."
            )
            .expect(M),
            buffered_records: register_int_gauge!(
                "wismo_buffered_records",
                "Records fetched and waiting to be decided."
            )
            .expect(M),
            spilled_records: register_int_gauge!(
                "wismo_spilled_records",
                "Records of internal inputs kept on local disk past WISMO_MAX_MERGED_RECORDS."
            )
            .expect(M),
            spilled_total: register_int_counter!(
                "wismo_spilled_records_total",
                "Records of internal inputs that went to local disk, waiting for another writer."
            )
            .expect(M),
            repeated_total: register_int_counter!(
                "wismo_repeated_records_total",
                "Records met again after a restart or rewind (at-least-once) and not decided twice: copies a writer sent again, and inputs a restored state already holds."
            )
            .expect(M),
            tasks_restoring: register_int_gauge!(
                "wismo_tasks_restoring",
                "Tasks whose state is being restored from the changelog."
            )
            .expect(M),
            state_keys: register_int_gauge!("wismo_state_keys", "Keys held in memory.").expect(M),
            state_keys_decoded: register_int_gauge!(
                "wismo_state_keys_decoded",
                "Keys whose state is held decoded; the others are held as their changelog bytes."
            )
            .expect(M),
            states_decoded: register_int_counter!(
                "wismo_states_decoded_total",
                "States read back from their bytes when a decision took them: restored, or kept as bytes past WISMO_MAX_DECODED_STATES."
            )
            .expect(M),
            timers_open: register_int_gauge!("wismo_timers_open", "Keys with an armed timer.")
                .expect(M),
            timers_fired: register_int_counter!("wismo_timers_fired_total", "Timers fired.")
                .expect(M),
            timer_lag_seconds: register_histogram!(
                "wismo_timer_lag_seconds",
                "Delay between a timer's deadline and its firing.",
                vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0]
            )
            .expect(M),
            restore_seconds: register_histogram!(
                "wismo_restore_seconds",
                "Time to restore one partition's state from its changelog."
            )
            .expect(M),
            restored_keys: register_int_counter!(
                "wismo_restored_keys_total",
                "Keys restored from changelogs."
            )
            .expect(M),
            partitions_assigned: register_int_gauge!(
                "wismo_partitions_assigned",
                "Input partitions this instance owns."
            )
            .expect(M),
            rebalances: register_int_counter_vec!(
                "wismo_rebalances_total",
                "Rebalance events.",
                &["kind"]
            )
            .expect(M),
            commit_failures: register_int_counter!(
                "wismo_commit_failures_total",
                "Offset commits that failed (the batch will be redelivered)."
            )
            .expect(M),
            crash_loops_broken: register_int_counter!(
                "wismo_crash_loops_broken_total",
                "Records or timers sent to dead-letter because the service crashed twice deciding them."
            )
            .expect(M),
            stage_seconds: register_histogram_vec!(
                "wismo_stage_seconds",
                "Time per stage of a commit.",
                &["stage"]
            )
            .expect(M),
            detection_lag_seconds: register_histogram!(
                "wismo_detection_lag_seconds",
                "Time to detect: from the instant a problem became detectable to its command being acknowledged on the output topic.",
                vec![0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 15.0, 60.0]
            )
            .expect(M),
            encode_failures: register_int_counter!(
                "wismo_encode_failures_total",
                "Outputs that failed to encode (a bug; see logs)."
            )
            .expect(M),
        }
    })
}

/// Bounds on what a service keeps for inputs it cannot decide yet. The
/// scan-matcher and the order-tracker share these names (one registry per
/// process; replay runs both in one).
pub struct HoldMetrics {
    pub limit_refusals: IntCounterVec,
    pub hold_refusals: IntCounterVec,
    pub held_scans: IntGauge,
    pub held_bytes: IntGauge,
}

/// The process-wide hold metrics; registered on first use.
pub fn holds() -> &'static HoldMetrics {
    static METRICS: OnceLock<HoldMetrics> = OnceLock::new();
    const M: &str = "metric names are unique";
    METRICS.get_or_init(|| HoldMetrics {
        limit_refusals: register_int_counter_vec!(
            "wismo_limit_refusals_total",
            "Input records sent to dead-letter for passing a configured bound, by bound.",
            &["limit"]
        )
        .expect(M),
        hold_refusals: register_int_counter_vec!(
            "wismo_hold_refusals_total",
            "Scans sent to dead-letter because a hold for scans not matched yet was full, by bound (key_count, key_bytes, total_count, total_bytes).",
            &["bound"]
        )
        .expect(M),
        held_scans: register_int_gauge!(
            "wismo_held_scans",
            "Scans held for a tracking number or shipment not known yet, all keys of this instance."
        )
        .expect(M),
        held_bytes: register_int_gauge!(
            "wismo_held_scan_bytes",
            "Bytes of those scans, as the hold bounds count them."
        )
        .expect(M),
    })
}

/// One counter of a per-topic family, looked up once per topic rather than once
/// per record (a label lookup hashes and locks).
#[derive(Default)]
pub struct TopicCounters(HashMap<Arc<str>, IntCounter>);

impl TopicCounters {
    pub fn inc(&mut self, family: &IntCounterVec, topic: &Arc<str>) {
        if let Some(c) = self.0.get(topic) {
            c.inc();
            return;
        }
        let c = family.with_label_values(&[topic]);
        c.inc();
        self.0.insert(topic.clone(), c);
    }
}

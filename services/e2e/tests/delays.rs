//! Late and stuck detection end to end through a real broker: durable timers survive
//! a SIGKILL of the order-tracker, every due timer fires after the restart, the
//! apologies on the topic are exactly what `replay` decides for the same records
//! (whole records), and detection lag while the service is up stays under a second.

mod common;

use anyhow::Context;
use common::{command_ids, not_picked_up_policy, now_ms, policy_file, replay_inputs};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use wismo_e2e::events::{labelled_orders, publish, scan};
use wismo_e2e::{metric, wait_until, Stage};

/// Thresholds of seconds, every day a business day, so the test runs any day.
const POLICY: &str = r#"
[notifications]
quiet_hours = { start = "00:00", end = "00:00" }
per_recipient_max = 1000

[delay]
lane_holidays = false
escalate_after = "6s"

[delay.calendars.default]
closed_weekdays = []

[[delay.thresholds]]
label_created = "6s"
in_transit = "6s"
presumed_lost = "15s"
"#;

/// Cumulative bucket counts of a histogram, by upper bound.
fn buckets(metrics: &str, name: &str) -> Vec<(f64, f64)> {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}_bucket{{")))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, l.rsplit(' ').next()?.parse().ok()?))
        })
        .collect()
}

/// The upper bound of the bucket holding the 99th percentile of what was observed
/// between two scrapes.
fn p99_between(before: &[(f64, f64)], after: &[(f64, f64)]) -> Option<(f64, f64)> {
    let delta: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, n)| {
            (
                *le,
                n - before
                    .iter()
                    .find(|(b, _)| b == le)
                    .map_or(0.0, |(_, m)| *m),
            )
        })
        .collect();
    let total = delta.last()?.1;
    let bound = delta.iter().find(|(_, n)| *n >= 0.99 * total)?.0;
    Some((bound, total))
}

/// Waits until the scan-matcher has routed `n` scans to the order-tracker's topic.
fn wait_until_routed(stage: &Stage, n: usize) -> anyhow::Result<()> {
    wait_until(
        "the matcher to route every scan",
        Duration::from_secs(60),
        || Ok((stage.read("wismo-scan-matcher-routed-scans", 0)?.len() >= n).then_some(())),
    )
}

/// Waits until every apology `replay` decides by `horizon` is on the topic, and
/// checks they are exactly those, whole record for whole record.
fn apologies_as_replay(
    stage: &Stage,
    env: &[(&str, &str)],
    horizon: i64,
) -> anyhow::Result<Vec<Value>> {
    let replayed = replay_inputs(stage, env, horizon, "delay-apology-commands")?;
    let want = command_ids(&replayed);
    let live = wait_until(
        "every apology replay decides",
        Duration::from_secs(90),
        || {
            let live = stage.read("delay-apology-commands", 0)?;
            Ok((command_ids(&live).len() >= want.len()).then_some(live))
        },
    )?;
    let by_id = |lines: &[Value]| -> BTreeMap<String, Value> {
        lines
            .iter()
            .map(|v| {
                (
                    v["command_id"].as_str().unwrap_or("?").to_string(),
                    v.clone(),
                )
            })
            .collect()
    };
    assert_eq!(by_id(&live), by_id(&replayed), "live and replay differ");
    // A repeat after the crash is the first record again.
    for v in &live {
        assert_eq!(
            Some(v),
            by_id(&replayed).get(v["command_id"].as_str().unwrap_or("?"))
        );
    }
    Ok(live)
}

#[test]
fn timers_survive_a_crash_and_match_replay() -> anyhow::Result<()> {
    let stage = Stage::new(2)?;
    let policy = policy_file(POLICY)?;
    let env = [
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_COALESCE_WINDOW", "1s"),
    ];
    let _matcher = stage.start("scan-matcher", &env)?;
    // Apologies leave through the dispatcher; time to detect is measured there.
    let dispatcher = stage.start("dispatcher", &env)?;
    let mut tracker = stage.start("order-tracker", &env)?;

    // Phase 1: six orders; three are picked up, three never are. The tracker
    // crashes before any deadline and comes back once the matcher (which does not
    // wait for it) has routed every scan.
    let t0 = now_ms();
    let mut lines = labelled_orders("o", 6, t0);
    for n in 1..=3 {
        lines.push(scan(&format!("o-{n}"), 2, "picked_up", t0 + 500));
    }
    publish(&stage, &lines)?;
    tracker.process.kill()?;
    wait_until_routed(&stage, 9)?;
    tracker = stage.start("order-tracker", &env)?;
    // The timers due while it was down fire once it has caught up.
    let phase1 = apologies_as_replay(&stage, &env, t0 + 40_000)?;
    assert!(
        !phase1.is_empty(),
        "no apology after the restart: {}",
        tracker.process.log_tail(30)
    );

    // Phase 2, while the tracker is up: detection lag is measured on these.
    let before = buckets(&dispatcher.metrics(), "wismo_detection_lag_seconds");
    let t2 = now_ms();
    publish(&stage, &labelled_orders("p", 8, t2))?;
    let all = apologies_as_replay(&stage, &env, t2 + 40_000)?;
    assert!(all.len() > phase1.len());
    let after = buckets(&dispatcher.metrics(), "wismo_detection_lag_seconds");
    let (p99, observed) =
        p99_between(&before, &after).context("no detection-lag histogram on /metrics")?;
    assert!(observed >= 8.0, "phase 2 detections observed: {observed}");
    assert!(
        p99 <= 1.0,
        "detection lag p99 bucket {p99}s; histogram {after:?}"
    );
    let m = tracker.metrics();
    assert!(
        metric(
            &m,
            "wismo_incidents_opened_total{carrier=\"generic\",reason=\"not_picked_up\"}"
        )
        .is_some_and(|v| v >= 8.0),
        "{m}"
    );
    Ok(())
}

/// Orders, shipments and scans arrive while the order-tracker is down, and it comes
/// back after the "not picked up" deadline. The scans were routed meanwhile, so the
/// parcels that were picked up get no apology: only the one never picked up does.
#[test]
fn scans_routed_during_a_tracker_outage_count_before_its_timers() -> anyhow::Result<()> {
    let stage = Stage::new(2)?;
    let policy = policy_file(&not_picked_up_policy("3s"))?;
    let env = [
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_COALESCE_WINDOW", "1s"),
    ];
    let _matcher = stage.start("scan-matcher", &env)?;
    let _dispatcher = stage.start("dispatcher", &env)?;

    let t0 = now_ms();
    let mut lines = labelled_orders("o", 3, t0);
    for n in 1..=2 {
        lines.push(scan(&format!("o-{n}"), 2, "picked_up", t0 + 500));
    }
    publish(&stage, &lines)?;
    // The tracker comes back once every scan is routed and the deadline has passed
    // (the outage must outlast it: waiting for time to pass is the point here).
    wait_until_routed(&stage, 5)?;
    let past_deadline = t0 + 4_000 - now_ms();
    std::thread::sleep(Duration::from_millis(past_deadline.max(0) as u64));

    let tracker = stage.start("order-tracker", &env)?;
    let apologies = apologies_as_replay(&stage, &env, t0 + 10_000)?;
    let decided: BTreeSet<String> = apologies
        .iter()
        .map(|v| format!("{} {}", v["order_id"], v["reason"]))
        .collect();
    assert_eq!(
        decided,
        BTreeSet::from([r#""o-3" "NOT_PICKED_UP""#.to_string()]),
        "{}",
        tracker.process.log_tail(30)
    );
    Ok(())
}

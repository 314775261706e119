//! Late and stuck detection end to end through a real broker: durable timers survive
//! a SIGKILL of the order-tracker, every due timer fires after the restart, the
//! distinct apologies on the topic are exactly what `replay` decides for the same
//! records, and detection lag while the service is up stays under a second.

mod common;

use anyhow::Context;
use common::{command_ids, not_picked_up_policy, now_ms, policy_file, replay_inputs};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use wismo_e2e::events::{labelled_orders, publish, scan};
use wismo_e2e::{metric, values, Stage};

/// Thresholds of seconds, every day a business day, so the test runs any day.
const POLICY: &str = r#"
[delay]
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

fn describe(lines: &[Value]) -> BTreeSet<String> {
    lines
        .iter()
        .map(|v| {
            format!(
                "{} {} {} stage {} at {}",
                v["incident_id"], v["reason"], v["command_id"], v["stage"], v["detectable_at"]
            )
        })
        .collect()
}

/// Waits until the scan-matcher has routed `n` scans to the order-tracker's topic.
fn wait_until_routed(stage: &Stage, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while values(&stage.wismoctl(&[
            "read",
            "wismo-scan-matcher-routed-scans",
            "--idle-secs",
            "1",
        ],
    )?)
    .len()
        < n
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the matcher never routed {n} scans"
        );
    }
    Ok(())
}

#[test]
fn timers_survive_a_crash_and_match_replay() -> anyhow::Result<()> {
    let stage = Stage::new(2)?;
    let policy = policy_file(POLICY)?;
    let env = [
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_COALESCE_WINDOW", "1s"),
        // A killed member's partitions move on after this, not after the default 45 s.
        ("WISMO_KAFKA_CONSUMER_SESSION_TIMEOUT_MS", "6000"),
        ("WISMO_KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS", "1000"),
    ];
    let _matcher = stage.start("scan-matcher", &env)?;
    // Apologies leave through the dispatcher; time to detect is measured there.
    let dispatcher = stage.start("dispatcher", &env)?;
    let mut tracker = stage.start("order-tracker", &env)?;

    // Phase 1: six orders; three are picked up, three never are.
    let t0 = now_ms();
    let mut lines = labelled_orders("o", 6, t0);
    for n in 1..=3 {
        lines.push(scan(&format!("o-{n}"), 2, "picked_up", t0 + 500));
    }
    publish(&stage, &lines)?;

    // Crash before any deadline, and come back once the matcher (which does not
    // wait for the tracker) has routed every scan, so the backlog is complete.
    std::thread::sleep(Duration::from_millis(1000));
    tracker.process.kill()?;
    wait_until_routed(&stage, 9)?;
    tracker = stage.start("order-tracker", &env)?;

    // The six first-stage apologies due while it was down fire once it has caught up.
    let caught_up = Instant::now() + Duration::from_secs(60);
    while command_ids(&values(&stage.wismoctl(&["read", "delay-apology-commands", "--idle-secs", "1"],
    )?))
    .len()
        < 6
    {
        anyhow::ensure!(
            Instant::now() < caught_up,
            "timers due during the crash never fired: {}",
            tracker.process.log_tail(30)
        );
    }

    // Phase 2, while the tracker is up: detection lag is measured on these.
    let before = buckets(&dispatcher.metrics(), "wismo_detection_lag_seconds");
    let t2 = now_ms();
    publish(&stage, &labelled_orders("p", 8, t2))?;

    // 6 orders × stuck stage 1 and 2, 3 × presumed lost, 8 × stuck stage 1 and 2;
    // wait until they are all there and nothing more arrives.
    let expected = 6 * 2 + 3 + 8 * 2;
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut live: Vec<Value>;
    loop {
        live = values(&stage.wismoctl(&["read", "delay-apology-commands", "--idle-secs", "2"],
        )?);
        if command_ids(&live).len() >= expected || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    std::thread::sleep(Duration::from_secs(3));
    live = values(&stage.wismoctl(&["read", "delay-apology-commands", "--idle-secs", "2"],
    )?);
    let horizon_end = now_ms();
    let after = buckets(&dispatcher.metrics(), "wismo_detection_lag_seconds");

    // Replay over exactly what was published, with the records' own timestamps.
    let replayed = replay_inputs(
        &stage,
        &[
            ("WISMO_POLICY_FILE", policy.as_str()),
            ("WISMO_COALESCE_WINDOW", "1s"),
        ],
        horizon_end,
        "delay-apology-commands",
    )?;
    let replay_ids = command_ids(&replayed);
    assert_eq!(
        replay_ids.len(),
        expected,
        "replay decided {:#?}",
        describe(&replayed)
    );
    assert_eq!(
        command_ids(&live),
        replay_ids,
        "live and replay differ\nlive: {:#?}\nreplay: {:#?}",
        describe(&live),
        describe(&replayed)
    );

    // Every record on the topic is one of those ids: a re-emission after the crash
    // carries the id of the first one.
    assert!(live.iter().all(|v| v["command_id"]
        .as_str()
        .is_some_and(|id| replay_ids.contains(id))));

    let (p99, observed) =
        p99_between(&before, &after).context("no detection-lag histogram on /metrics")?;
    assert!(observed >= 16.0, "phase 2 detections observed: {observed}");
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
    // The tracker comes back once every scan is routed and the deadline has passed.
    wait_until_routed(&stage, 5)?;
    let past_deadline = t0 + 4_000 - now_ms();
    std::thread::sleep(Duration::from_millis(past_deadline.max(0) as u64));

    let tracker = stage.start("order-tracker", &env)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut apologies = Vec::new();
    while apologies.is_empty() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "no apology for the parcel never picked up: {}",
            tracker.process.log_tail(30)
        );
        apologies = values(&stage.wismoctl(&["read", "delay-apology-commands", "--idle-secs", "1"],
        )?);
    }
    std::thread::sleep(Duration::from_secs(3));
    let apologies = values(&stage.wismoctl(&["read", "delay-apology-commands", "--idle-secs", "2"],
    )?);
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

//! Commands through crashes. While orders and scans stream in, the order-tracker
//! and the scan-matcher are killed (SIGKILL) several times mid-stream and come
//! back. In transactional mode a `read_committed` reader of the three command
//! topics sees every command exactly once; in at-least-once mode every command is
//! there and a repeat is the same record. Either way the commands are exactly
//! those `replay` decides for the same input, whole record for whole record.
//! And a producer that fails for good, or gets stuck in a call, mid-stream is
//! replaced without a restart.

mod common;

use common::{assert_same_commands, live_commands, now_ms, policy_file, replay_commands};
use std::time::Duration;
use wismo_e2e::events::{order, publish, scan, shipment};
use wismo_e2e::{wait_until, Service, Stage};

/// Never quiet, no cap in the way, and only "not picked up" due within the test.
const POLICY: &str = r#"
[notifications]
quiet_hours = { start = "00:00", end = "00:00" }
per_recipient_max = 1000
per_recipient_period = "1h"

[delay]
lane_holidays = false
escalate_after = "10m"

[delay.calendars.default]
closed_weekdays = []

[[delay.thresholds]]
label_created = "4s"
in_transit = "10m"
"#;

const WAVES: usize = 6;
const ORDERS_PER_WAVE: usize = 6;

/// Wave `w`: orders with a shipment and a label; most are picked up, some
/// delivered, a few never move (their apology comes from a timer).
fn wave(w: usize, at: i64) -> Vec<serde_json::Value> {
    let mut lines = Vec::new();
    for i in 0..ORDERS_PER_WAVE {
        let id = format!("w{w}-o{i}");
        lines.push(order(&id, &format!("c-{id}"), "UTC", Some(3), at));
        lines.push(shipment(&id, at));
        lines.push(scan(&id, 1, "label_created", at + 1));
        if i % 3 != 0 {
            lines.push(scan(&id, 2, "picked_up", at + 200));
        }
        if i % 3 == 1 {
            lines.push(scan(&id, 3, "delivered", at + 400));
        }
    }
    lines
}

fn start(stage: &Stage, name: &str, env: &[(&str, &str)]) -> anyhow::Result<Service> {
    // A stable instance id: the restarted instance fences its previous
    // transactions at once, as a pod of a StatefulSet would.
    let id = format!("{name}-1");
    let mut vars = env.to_vec();
    vars.push(("WISMO_INSTANCE_ID", &id));
    stage.start(name, &vars)
}

/// Waits until `topic` holds more than `n` records; returns how many.
fn grown(stage: &Stage, topic: &str, n: usize) -> anyhow::Result<usize> {
    wait_until(&format!("{topic} to grow"), Duration::from_secs(60), || {
        let now = stage.read(topic, 1)?.len();
        Ok((now > n).then_some(now))
    })
}

fn crash_and_compare(mode: &str) -> anyhow::Result<common::Commands> {
    let stage = Stage::new(2)?;
    let policy = policy_file(POLICY)?;
    let env = [
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_COALESCE_WINDOW", "1s"),
        ("WISMO_DELIVERY_MODE", mode),
        // `grown` counts the records on internal topics: none is purged here.
        ("WISMO_PURGE_INTERVAL", "0s"),
    ];
    let mut matcher = start(&stage, "scan-matcher", &env)?;
    let mut tracker = start(&stage, "order-tracker", &env)?;
    let _dispatcher = start(&stage, "dispatcher", &env)?;

    let mut routed = 0;
    let mut outbox = 0;
    for w in 0..WAVES {
        publish(&stage, &wave(w, now_ms()))?;
        // Kill one of them as soon as it has started on this wave's records.
        if w % 2 == 0 {
            outbox = grown(&stage, "wismo-order-tracker-outbox", outbox)?;
            tracker.process.kill()?;
            tracker = start(&stage, "order-tracker", &env)?;
        } else {
            routed = grown(&stage, "wismo-scan-matcher-routed-scans", routed)?;
            matcher.process.kill()?;
            matcher = start(&stage, "scan-matcher", &env)?;
        }
    }
    // Every deadline of the test (labels never picked up) passes within seconds;
    // compare once replay's commands are all there.
    let horizon = now_ms() + 30_000;
    let replayed = replay_commands(&stage, &env, horizon)?;
    assert!(
        replayed.len() >= WAVES * ORDERS_PER_WAVE * 2,
        "{replayed:#?}"
    );
    let transactional = mode == "transactional";
    let live = wait_until("every command", Duration::from_secs(120), || {
        let live = live_commands(&stage, transactional)?;
        Ok((live.distinct().len() >= replayed.distinct().len()).then_some(live))
    })?;
    assert_same_commands(&live, &replayed);
    drop((matcher, tracker));
    Ok(live)
}

#[test]
fn transactional_commands_survive_crashes_exactly_once() -> anyhow::Result<()> {
    let live = crash_and_compare("transactional")?;
    assert_eq!(live.duplicates(), 0, "a read_committed reader saw a repeat");
    Ok(())
}

#[test]
fn at_least_once_commands_survive_crashes_with_identical_repeats() -> anyhow::Result<()> {
    let live = crash_and_compare("at-least-once")?;
    eprintln!(
        "at-least-once: {} commands, {} repeated records",
        live.len(),
        live.duplicates()
    );
    Ok(())
}

/// librdkafka makes a fenced or invalid transactional state fatal for the
/// producer. Each service meets one mid-stream (a failpoint raises it while an
/// order is decided): it puts a new producer in its place under the same
/// transactional id, rewinds to its last commit and goes on, without exiting, and
/// a `read_committed` reader sees every command exactly once, as replay decides it.
#[test]
fn a_producer_that_fails_for_good_is_replaced_without_a_restart() -> anyhow::Result<()> {
    // The scan-matcher and the order-tracker read orders by order id, the
    // dispatcher commands by customer id.
    let keys = ["w1-o1", "w2-o2", "c-w3-o4"];
    replaced_without_a_restart(
        |service| vec![("WISMO_FAILPOINT_FATAL_KEY", keys[service])],
        "failpoint: the producer fails for good",
    )
}

/// librdkafka's `send_offsets_to_transaction` can block for good once the group
/// coordinator it knew went away (seen after a broker outage). Each service's
/// first one never returns here (a failpoint); each replaces its producer and
/// goes on as above.
#[test]
fn a_producer_stuck_in_a_call_is_replaced_without_a_restart() -> anyhow::Result<()> {
    replaced_without_a_restart(
        |_| vec![("WISMO_FAILPOINT_HANG_SEND_OFFSETS", "true")],
        "send_offsets_to_transaction did not return within",
    )
}

/// Runs the three services in transactional mode, each with its failpoint, and
/// checks that each replaced its producer (for the reason `why` names), none
/// exited, and the commands are replay's, each once.
fn replaced_without_a_restart(
    failpoint: impl Fn(usize) -> Vec<(&'static str, &'static str)>,
    why: &str,
) -> anyhow::Result<()> {
    let stage = Stage::new(2)?;
    let policy = policy_file(POLICY)?;
    let env = [
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_COALESCE_WINDOW", "1s"),
        ("WISMO_DELIVERY_MODE", "transactional"),
    ];
    let failing = |service: usize| [env.to_vec(), failpoint(service)].concat();
    let mut services = vec![
        start(&stage, "scan-matcher", &failing(0))?,
        start(&stage, "order-tracker", &failing(1))?,
        start(&stage, "dispatcher", &failing(2))?,
    ];
    for w in 0..WAVES {
        publish(&stage, &wave(w, now_ms()))?;
    }
    let horizon = now_ms() + 30_000;
    let replayed = replay_commands(&stage, &env, horizon)?;
    let live = wait_until("every command", Duration::from_secs(120), || {
        let live = live_commands(&stage, true)?;
        Ok((live.distinct().len() >= replayed.distinct().len()).then_some(live))
    })?;
    assert_same_commands(&live, &replayed);
    assert_eq!(live.duplicates(), 0, "a read_committed reader saw a repeat");
    for service in &mut services {
        let log = service.process.log_tail(100_000);
        assert!(service.process.is_running(), "{log}");
        assert!(
            log.contains("the producer failed for good and was replaced") && log.contains(why),
            "the failpoint did not fire: {log}"
        );
    }
    Ok(())
}

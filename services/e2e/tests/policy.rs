//! Notification policy end to end: all three command topics, the per-recipient cap
//! visible in the dispatcher's metrics, review requests on their durable timer, and
//! a restart of the order-tracker and the dispatcher that repeats no command and
//! keeps the cap's state (a recipient full before it is full after it).

mod common;

use common::{now_ms, policy_file};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use wismo_e2e::events::{order, publish, scan, shipment};
use wismo_e2e::{metric, Stage};

/// Never quiet and short review delays, so the test runs at any hour in seconds.
const POLICY: &str = r#"
[notifications]
quiet_hours = { start = "00:00", end = "00:00" }
per_recipient_max = 3
per_recipient_period = "1h"

[reviews]
default_delay = "3s"
late_extra = "2s"
fallback_after_fulfilled = "1h"
"#;

fn read(stage: &Stage, topic: &str) -> anyhow::Result<Vec<Value>> {
    stage.read(topic, 0)
}

#[test]
fn three_command_topics_a_cap_and_a_restart() -> anyhow::Result<()> {
    let stage = Stage::new(2)?;
    let policy = policy_file(POLICY)?;
    let env = [
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_COALESCE_WINDOW", "1s"),
    ];
    let _matcher = stage.start("scan-matcher", &env)?;
    let mut tracker = stage.start("order-tracker", &env)?;
    let mut dispatcher = stage.start("dispatcher", &env)?;

    // r-1 is delivered (a review follows), r-2 missed yesterday's promise (an
    // apology), and one customer's six orders make a storm the cap must stop.
    let t = now_ms();
    let mut lines = vec![
        order("r-1", "c-r1", "UTC", Some(2), t),
        shipment("r-1", t),
        scan("r-1", 1, "picked_up", t),
        scan("r-1", 2, "delivered", t + 1),
    ];
    lines.extend([
        order("r-2", "c-r2", "UTC", Some(-1), t),
        shipment("r-2", t),
        scan("r-2", 1, "picked_up", t),
    ]);
    for n in 1..=6 {
        lines.push(order(&format!("s-{n}"), "c-storm", "UTC", Some(5), t));
    }
    publish(&stage, &lines)?;

    let until = Instant::now() + Duration::from_secs(60);
    while read(&stage, "review-request-commands")?.is_empty() {
        anyhow::ensure!(
            Instant::now() < until,
            "no review request: {}",
            tracker.process.log_tail(30)
        );
    }
    let m = dispatcher.metrics();
    assert_eq!(
        metric(&m, "wismo_commands_capped_total{kind=\"notification\"}"),
        Some(3.0),
        "{m}"
    );

    // Restart both, cleanly, and carry on: r-3 is delivered after the restart.
    assert!(tracker.process.terminate()?.success());
    if std::env::var("WISMO_E2E_DEBUG").is_ok() {
        for line in stage
            .wismoctl(&["read", "wismo-order-tracker-changelog"])?
            .lines()
        {
            let v: Value = serde_json::from_str(line)?;
            if v["key"] == "r-2" {
                eprintln!(
                    "CHANGELOG {} {} sent={} pending={}",
                    v["partition"],
                    v["offset"],
                    v["value"]["shipments"]["TRK-r-2"]["milestones_sent"],
                    v["value"]["shipments"]["TRK-r-2"]["pending"]
                );
            }
        }
    }
    assert!(dispatcher.process.terminate()?.success());
    tracker = stage.start("order-tracker", &env)?;
    dispatcher = stage.start("dispatcher", &env)?;
    let t = now_ms();
    publish(
        &stage,
        &[
            order("r-3", "c-r3", "UTC", Some(2), t),
            shipment("r-3", t),
            scan("r-3", 1, "delivered", t),
            // The cap survives the restart: the storm's customer is still full.
            order("s-7", "c-storm", "UTC", Some(5), t),
        ],
    )?;
    let until = Instant::now() + Duration::from_secs(60);
    while read(&stage, "review-request-commands")?.len() < 2 {
        anyhow::ensure!(
            Instant::now() < until,
            "no review after the restart: {}",
            tracker.process.log_tail(30)
        );
    }
    wismo_e2e::wait_until(
        "s-7 held by the restored cap",
        Duration::from_secs(60),
        || {
            let m = dispatcher.metrics();
            Ok(
                metric(&m, "wismo_commands_capped_total{kind=\"notification\"}")
                    .is_some_and(|n| n >= 1.0)
                    .then_some(()),
            )
        },
    )?;

    let notifications = read(&stage, "notification-commands")?;
    let apologies = read(&stage, "delay-apology-commands")?;
    let reviews = read(&stage, "review-request-commands")?;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for c in notifications.iter().chain(&apologies).chain(&reviews) {
        *seen
            .entry(c["command_id"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    let detail: Vec<&Value> = notifications
        .iter()
        .chain(&apologies)
        .chain(&reviews)
        .filter(|c| {
            repeated
                .iter()
                .any(|(id, _)| c["command_id"] == id.as_str())
        })
        .collect();
    assert!(repeated.is_empty(), "commands sent twice: {detail:#?}");

    let by = |cmds: &[Value], field: &str| -> BTreeSet<String> {
        cmds.iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["order_id"].as_str().unwrap_or("?"),
                    c[field].as_str().unwrap_or("?")
                )
            })
            .collect()
    };
    assert_eq!(
        by(&reviews, "basis"),
        ["r-1 DELIVERED", "r-3 DELIVERED"].map(String::from).into()
    );
    assert_eq!(
        by(&apologies, "reason"),
        ["r-2 LATE"].map(String::from).into()
    );
    let storm = notifications
        .iter()
        .filter(|c| c["customer_id"] == "c-storm")
        .count();
    assert_eq!(
        storm, 3,
        "the cap lets three of the seven confirmations through, across the restart"
    );
    let others = by(
        &notifications
            .iter()
            .filter(|c| c["customer_id"] != "c-storm")
            .cloned()
            .collect::<Vec<_>>(),
        "milestone",
    );
    for expected in [
        "r-1 ORDER_CONFIRMED",
        "r-1 DELIVERED",
        "r-2 ORDER_CONFIRMED",
        "r-2 SHIPPED",
        "r-3 ORDER_CONFIRMED",
        "r-3 DELIVERED",
    ] {
        assert!(others.contains(expected), "missing {expected}: {others:?}");
    }
    assert!(reviews
        .iter()
        .all(|r| r["channel"] == "EMAIL" && r["template_key"] == "review_request"));
    let m = dispatcher.metrics();
    assert_eq!(
        metric(
            &m,
            "wismo_commands_dispatched_total{kind=\"review_request\"}"
        ),
        Some(1.0),
        "the restarted dispatcher sent r-3's: {m}"
    );
    Ok(())
}

/// The global egress rate is global: each dispatcher takes the share of the outbox
/// partitions it owns, and takes it again on every rebalance.
#[test]
fn dispatcher_replicas_share_the_egress_rate_by_partitions() -> anyhow::Result<()> {
    const RATE: f64 = 1000.0;
    let stage = Stage::new(4)?;
    let policy = policy_file(&format!("[notifications]\negress_per_second = {RATE}\n"))?;
    let env = [("WISMO_POLICY_FILE", policy.as_str())];
    let first = stage.start("dispatcher", &env)?;
    let share = |d: &wismo_e2e::Service| {
        metric(&d.metrics(), "wismo_egress_share_per_second").unwrap_or(-1.0)
    };
    wismo_e2e::wait_until("one replica owning it all", Duration::from_secs(60), || {
        Ok((share(&first) == RATE).then_some(()))
    })?;
    let mut second = stage.start("dispatcher", &env)?;
    wismo_e2e::wait_until("two replicas at half each", Duration::from_secs(60), || {
        let (a, b) = (share(&first), share(&second));
        Ok((a == RATE / 2.0 && b == RATE / 2.0).then_some(()))
    })?;
    assert!(second.process.terminate()?.success());
    wismo_e2e::wait_until(
        "the one left taking it all back",
        Duration::from_secs(60),
        || Ok((share(&first) == RATE).then_some(())),
    )?;
    Ok(())
}

//! The spine end to end, through a real Kafka-protocol broker over TCP: orders and
//! scans in (duplicates, out-of-order scans, a scan before its shipment, a split
//! shipment, a malformed record) → exactly the expected notification commands, the
//! malformed record on the dead-letter topic, the same ids `replay` decides, a clean
//! SIGTERM, and a restart that restores state from the changelog.

use anyhow::Context;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use wismo_e2e::{http_get, metric, values, Broker, Service, Stage};

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/sample/events.jsonl")
}

fn policy() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/sample/policy.toml")
        .to_string_lossy()
        .into_owned()
}

fn start(name: &str, stage: &Stage) -> anyhow::Result<Service> {
    stage.start(
        name,
        &[
            ("WISMO_COALESCE_WINDOW", "1s"),
            ("WISMO_POLICY_FILE", &policy()),
        ],
    )
}

fn summary(cmds: &[Value]) -> BTreeSet<String> {
    cmds.iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c["order_id"].as_str().unwrap_or("?"),
                c["shipment_id"].as_str().unwrap_or("-"),
                c["milestone"].as_str().unwrap_or("?"),
                c["channel"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

#[test]
fn orders_and_scans_in_exact_commands_out() -> anyhow::Result<()> {
    let stage = Stage::new(3)?;
    let matcher = start("scan-matcher", &stage)?;
    let _dispatcher = start("dispatcher", &stage)?;
    let mut tracker = start("order-tracker", &stage)?;

    let sample = sample();
    let sample = sample.to_str().context("sample path")?;
    let published = stage.wismoctl(&["publish", sample, "--shift-to-now", "--wave-gap", "4s"])?;
    let shift_ms: i64 = published
        .split_whitespace()
        .find_map(|w| w.strip_prefix("shift_ms="))
        .context("publish prints its shift")?
        .parse()?;
    let commands = values(&stage.wismoctl(&["read", "notification-commands", "--expect", "12"])?);

    let expected: BTreeSet<String> = [
        "o-1001 - ORDER_CONFIRMED EMAIL",
        "o-1002 - ORDER_CONFIRMED SMS",
        "o-1003 - ORDER_CONFIRMED PUSH",
        "o-1001 s-1001-1 SHIPPED EMAIL",
        "o-1002 s-1002-1 SHIPPED SMS",
        "o-1003 s-1003-1 SHIPPED PUSH",
        "o-1003 s-1003-2 SHIPPED PUSH",
        // Out for delivery and delivered arrived together: only delivered.
        "o-1001 s-1001-1 DELIVERED EMAIL",
        "o-1002 s-1002-1 DELIVERED SMS",
        "o-1003 s-1003-1 OUT_FOR_DELIVERY PUSH",
        "o-1003 s-1003-2 EXCEPTION PUSH",
        "o-1003 s-1003-1 DELIVERED PUSH",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        summary(&commands),
        expected,
        "commands: {commands:#?}\ntracker log: {}",
        tracker.process.log_tail(40)
    );
    assert_eq!(
        commands.len(),
        expected.len(),
        "a command was sent twice: {commands:#?}"
    );
    let live_ids: BTreeSet<String> = commands
        .iter()
        .filter_map(|c| c["command_id"].as_str().map(String::from))
        .collect();
    assert_eq!(live_ids.len(), commands.len(), "duplicate command ids");
    let split = commands
        .iter()
        .find(|c| c["shipment_id"] == "s-1003-1" && c["milestone"] == "DELIVERED")
        .context("split delivery")?;
    assert_eq!(split["variables"]["order_progress"], "partially_delivered");

    // `replay` over the same file, moved by the same shift, decides the same
    // commands: whole records, not just ids. But for their times: the waves come
    // seconds apart while their timestamps are hours apart, all behind the wall
    // clock, so each wave reaches services whose idle inputs have moved time on
    // to the wall clock. Such late records are decided as of their arrival
    // (docs/architecture.md, "Late records"), never earlier than replay decides.
    let text = std::fs::read_to_string(sample)?;
    let policy = policy();
    let env = wismo_config::Env::from_pairs([
        ("WISMO_COALESCE_WINDOW", "1s"),
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_TOPIC_PREFIX", stage.prefix.as_str()),
    ]);
    let replayed = replay::replay_file(
        &text,
        wismo_config::matcher_config(&env)?,
        wismo_config::tracker_config(&env)?,
        wismo_config::Topics::from_env(&env),
        replay::FileRun {
            horizon: chrono::Duration::hours(1),
            shift: chrono::Duration::milliseconds(shift_ms),
        },
    )?;
    let by_id = |cmds: Vec<Value>| -> std::collections::BTreeMap<String, Value> {
        cmds.into_iter()
            .map(|c| (c["command_id"].as_str().unwrap_or("?").to_string(), c))
            .collect()
    };
    let replayed = by_id(
        replayed
            .into_iter()
            .filter(|l| l["topic"] == stage.topic("notification-commands").as_str())
            .map(|mut l| l["value"].take())
            .collect(),
    );
    let times = ["decided_at", "send_at"];
    let untimed = |mut c: Value| {
        for t in times {
            c[t] = Value::Null;
        }
        c
    };
    let live = by_id(commands.clone());
    for (id, c) in &live {
        for t in times {
            let (at, replayed_at) = (c[t].as_i64(), replayed.get(id).and_then(|r| r[t].as_i64()));
            assert!(
                at >= replayed_at,
                "{id}: {t} live {at:?} is before replay's {replayed_at:?}"
            );
        }
    }
    let live: std::collections::BTreeMap<_, _> =
        live.into_iter().map(|(k, c)| (k, untimed(c))).collect();
    let replayed: std::collections::BTreeMap<_, _> =
        replayed.into_iter().map(|(k, c)| (k, untimed(c))).collect();
    let differing: Vec<String> = live
        .keys()
        .chain(replayed.keys())
        .filter(|k| live.get(*k) != replayed.get(*k))
        .map(|k| {
            format!(
                "{k}:\n  live:   {:?}\n  replay: {:?}",
                live.get(k),
                replayed.get(k)
            )
        })
        .collect();
    assert!(
        differing.is_empty(),
        "live and replay differ:\n{}",
        differing.join("\n")
    );

    // The malformed record is on the dead-letter topic with its reason and bytes.
    let dead = values(&stage.wismoctl(&["read", "dead-letter", "--expect", "1"])?);
    assert_eq!(dead.len(), 1, "dead letters: {dead:#?}");
    assert_eq!(
        dead[0]["source_topic"],
        stage.topic("carrier-scans").as_str()
    );
    assert_eq!(dead[0]["error_kind"], "decode");
    assert_eq!(dead[0]["service"], "scan-matcher");
    assert_eq!(dead[0]["original_key"], "BROKEN-1");
    assert!(dead[0]["original_value"]
        .as_str()
        .is_some_and(|v| v.contains("forgot the Avro framing")));
    assert!(
        dead[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("magic")),
        "reason: {}",
        dead[0]["reason"]
    );

    // Metrics show what happened.
    let (_, m) = http_get(matcher.http, "/metrics").context("matcher metrics")?;
    assert_eq!(
        metric(&m, "wismo_dead_letters_total{kind=\"decode\"}"),
        Some(1.0),
        "{m}"
    );
    let (_, t) = http_get(tracker.http, "/metrics").context("tracker metrics")?;
    assert_eq!(
        metric(&t, "wismo_unmapped_status_total{carrier=\"ups\"}"),
        Some(1.0),
        "{t}"
    );
    assert_eq!(
        metric(
            &t,
            "wismo_notification_commands_total{channel=\"push\",milestone=\"delivered\"}"
        ),
        Some(1.0),
        "{t}"
    );
    // The UPS parcel arrived two days before its promise: the on-time rate sees it.
    assert_eq!(
        metric(
            &t,
            "wismo_deliveries_total{carrier=\"ups\",timing=\"on_time\"}"
        ),
        Some(1.0),
        "{t}"
    );
    // Support looks an order up by id on the tracker, a parcel by number on the matcher.
    let (status, body) = http_get(tracker.http, "/orders/o-1001").context("lookup")?;
    assert_eq!(status, 200, "{body}");
    let state: Value = serde_json::from_str(&body)?;
    assert_eq!(state["order_id"], "o-1001");
    assert!(
        state["shipments"]["1Z999AA10123456784"]["delivered_at"].is_number(),
        "{state:#}"
    );
    let (status, body) = http_get(tracker.http, "/orders/no-such-order").context("lookup")?;
    assert_eq!(status, 404, "{body}");
    let (status, body) =
        http_get(matcher.http, "/tracking/1Z999AA10123456784").context("lookup")?;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("o-1001"), "{body}");
    assert_eq!(
        http_get(tracker.http, "/healthz").map(|(s, _)| s),
        Some(200)
    );

    // SIGTERM stops the tracker cleanly; a new one restores every order from the
    // changelog, sends nothing again, and carries on.
    let status = tracker.process.terminate()?;
    assert!(
        status.success(),
        "order-tracker exit on SIGTERM: {status:?}\n{}",
        tracker.process.log_tail(20)
    );
    tracker = start("order-tracker", &stage)?;
    let delivered = r#"{"topic":"carrier-scans","key":"9400111899223197428490","timestamp":"2026-03-05T10:00:00Z","value":{"scan_id":"usps-3","tracking_number":"9400111899223197428490","carrier":"usps","raw_status":"01","raw_status_detail":null,"description":"Delivered","occurred_at":1772704800000,"location":null,"carrier_edd":null,"order_id":null}}"#;
    let more = std::env::temp_dir().join(wismo_e2e::unique_name("wismo-more") + ".jsonl");
    std::fs::write(&more, format!("{delivered}\n"))?;
    stage.wismoctl(&["publish", more.to_str().context("path")?, "--shift-to-now"])?;
    let after = values(&stage.wismoctl(&["read", "notification-commands", "--expect", "13"])?);
    let new: Vec<&Value> = after
        .iter()
        .filter(|c| !live_ids.contains(c["command_id"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        after.len(),
        13,
        "after restart: {after:#?}\n{}",
        tracker.process.log_tail(30)
    );
    assert_eq!(new.len(), 1);
    let distinct: BTreeSet<&str> = after
        .iter()
        .filter_map(|c| c["command_id"].as_str())
        .collect();
    assert_eq!(
        distinct.len(),
        after.len(),
        "a command was repeated after the restart"
    );
    assert_eq!(new[0]["shipment_id"], "s-1003-2");
    assert_eq!(new[0]["milestone"], "DELIVERED");
    assert_eq!(new[0]["variables"]["order_progress"], "all_delivered");
    drop(matcher);
    Ok(())
}

/// A scan whose shipment never turns up is held for the hold window, then leaves for
/// the dead-letter topic with the reason, and the matcher counts it.
#[test]
fn a_scan_never_matched_leaves_for_dead_letter_with_its_reason() -> anyhow::Result<()> {
    let stage = Stage::new(2)?;
    let matcher = stage.start("scan-matcher", &[("WISMO_MATCHER_HOLD_WINDOW", "2s")])?;
    let now = chrono::Utc::now().timestamp_millis();
    wismo_e2e::events::publish(
        &stage,
        &[wismo_e2e::events::scan("nobody", 1, "picked_up", now)],
    )?;
    let dead = values(&stage.wismoctl(&["read", "dead-letter", "--expect", "1"])?);
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert_eq!(dead[0]["error_kind"], "unmatched");
    assert_eq!(
        dead[0]["source_topic"],
        stage.topic("carrier-scans").as_str()
    );
    assert!(
        dead[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("TRK-nobody") && r.contains("within 2s")),
        "{}",
        dead[0]["reason"]
    );
    assert_eq!(
        metric(
            &matcher.metrics(),
            "wismo_dead_letters_total{kind=\"unmatched\"}"
        ),
        Some(1.0)
    );
    Ok(())
}

/// Six orders `<prefix>-1..6`, each shipped and picked up: 12 notifications.
fn publish_picked_up(stage: &Stage, prefix: &str) -> anyhow::Result<()> {
    use wismo_e2e::events::{order, publish, scan, shipment};
    let now = chrono::Utc::now().timestamp_millis();
    let mut lines = Vec::new();
    for n in 1..=6 {
        let id = format!("{prefix}-{n}");
        lines.push(order(&id, &format!("c-{id}"), "UTC", None, now));
        lines.push(shipment(&id, now));
        lines.push(scan(&id, 1, "picked_up", now + 100));
    }
    publish(stage, &lines)
}

/// Scans usually outnumber orders, so `carrier-scans` may have more partitions than
/// `orders`: the scan-matcher only forwards `orders`, so the two need not match.
#[test]
fn scans_and_orders_may_have_their_own_partition_counts() -> anyhow::Result<()> {
    let stage = Stage::on(&Broker::shared()?, 2, 3)?;
    let env = [("WISMO_COALESCE_WINDOW", "1s")];
    let _matcher = stage.start("scan-matcher", &env)?;
    let _tracker = stage.start("order-tracker", &env)?;
    let _dispatcher = stage.start("dispatcher", &env)?;

    publish_picked_up(&stage, "o")?;
    let commands = values(&stage.wismoctl(&["read", "notification-commands", "--expect", "12"])?);
    let shipped: BTreeSet<&str> = commands
        .iter()
        .filter(|c| c["milestone"] == "SHIPPED")
        .filter_map(|c| c["order_id"].as_str())
        .collect();
    assert_eq!(shipped.len(), 6, "{commands:#?}");
    Ok(())
}

/// Each service deletes what it committed past on its internal inputs, as Kafka
/// Streams purges its repartition topics: on the real broker, every internal
/// topic's log start moves on once its records are decided.
#[test]
fn internal_topics_are_purged_once_decided() -> anyhow::Result<()> {
    let stage = Stage::new(2)?;
    let env = [
        ("WISMO_COALESCE_WINDOW", "1s"),
        ("WISMO_PURGE_INTERVAL", "1s"),
    ];
    let _matcher = stage.start("scan-matcher", &env)?;
    let _tracker = stage.start("order-tracker", &env)?;
    let _dispatcher = stage.start("dispatcher", &env)?;
    publish_picked_up(&stage, "p")?;
    values(&stage.wismoctl(&["read", "notification-commands", "--expect", "12"])?);
    for topic in [
        "wismo-scan-matcher-shipments",
        "wismo-scan-matcher-routed-scans",
        "wismo-order-tracker-outbox",
    ] {
        let name = stage.topic(topic);
        wismo_e2e::wait_until(
            &format!("{name} to be purged"),
            std::time::Duration::from_secs(60),
            || {
                let starts = wismo_e2e::kafka::log_starts(&stage.bootstrap, &name)?;
                Ok((starts.iter().sum::<i64>() > 0).then_some(()))
            },
        )?;
    }
    Ok(())
}

/// A decision that panics (a bug we have not found yet, here a failpoint) costs one
/// record: it goes to dead-letter with the reason, the service stays up, and the
/// partition goes on with the next records.
#[test]
fn a_record_whose_decision_panics_goes_to_dead_letter_and_the_partition_goes_on(
) -> anyhow::Result<()> {
    use wismo_e2e::events::{order, publish};
    let stage = Stage::new(1)?;
    let env = [("WISMO_COALESCE_WINDOW", "1s")];
    let _matcher = stage.start("scan-matcher", &env)?;
    let _dispatcher = stage.start("dispatcher", &env)?;
    let mut tracker = stage.start(
        "order-tracker",
        &[
            ("WISMO_COALESCE_WINDOW", "1s"),
            ("WISMO_FAILPOINT_PANIC_KEY", "o-poison"),
        ],
    )?;
    let now = chrono::Utc::now().timestamp_millis();
    publish(
        &stage,
        &[
            order("o-before", "c-1", "UTC", None, now),
            order("o-poison", "c-2", "UTC", None, now + 1),
            order("o-after", "c-3", "UTC", None, now + 2),
        ],
    )?;
    let dead = values(&stage.wismoctl(&["read", "dead-letter", "--expect", "1"])?);
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert_eq!(dead[0]["error_kind"], "processing");
    assert_eq!(dead[0]["original_key"], "o-poison");
    assert_eq!(dead[0]["service"], "order-tracker");
    let confirmed: BTreeSet<String> =
        values(&stage.wismoctl(&["read", "notification-commands", "--expect", "2"])?)
            .iter()
            .filter_map(|c| c["order_id"].as_str().map(String::from))
            .collect();
    assert_eq!(
        confirmed,
        BTreeSet::from(["o-after".to_string(), "o-before".to_string()])
    );
    assert!(
        tracker.process.is_running(),
        "{}",
        tracker.process.log_tail(20)
    );
    Ok(())
}

#[test]
fn a_record_that_crashes_the_service_goes_to_dead_letter_after_two_restarts_on_it(
) -> anyhow::Result<()> {
    use std::time::Duration;
    use wismo_e2e::events::{order, publish};
    let stage = Stage::new(1)?;
    let env = [("WISMO_COALESCE_WINDOW", "1s")];
    let _matcher = stage.start("scan-matcher", &env)?;
    let _dispatcher = stage.start("dispatcher", &env)?;
    let tracker_env = [
        ("WISMO_COALESCE_WINDOW", "1s"),
        ("WISMO_FAILPOINT_CRASH_KEY", "o-crash"),
    ];
    let tracker = stage.start("order-tracker", &tracker_env)?;
    let now = chrono::Utc::now().timestamp_millis();
    publish(
        &stage,
        &[
            order("o-before", "c-1", "UTC", None, now),
            order("o-crash", "c-2", "UTC", None, now + 1),
            order("o-after", "c-3", "UTC", None, now + 2),
        ],
    )?;
    // As Kubernetes would: each time it aborts, start it again, until the crash
    // loop is broken (the record is on dead-letter) and it stays up.
    let mut process = tracker.process;
    let mut restarts = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    loop {
        if let Some(status) = process.wait_timeout(Duration::from_secs(2))? {
            assert!(!status.success(), "{}", process.log_tail(20));
            restarts += 1;
            // Two crashes to turn careful (three if a commit fell between), two
            // on the record named.
            assert!(
                restarts <= 5,
                "the crash loop was not broken: {}",
                process.log_tail(30)
            );
            process = stage.spawn("order-tracker", &tracker_env)?;
            continue;
        }
        if !values(&stage.wismoctl(&["read", "dead-letter", "--idle-secs", "0"])?).is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            process.log_tail(30)
        );
    }
    assert!(restarts >= 4, "it restarted {restarts} times");
    let dead = values(&stage.wismoctl(&["read", "dead-letter", "--expect", "1"])?);
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert_eq!(dead[0]["error_kind"], "processing");
    assert_eq!(dead[0]["original_key"], "o-crash");
    assert!(
        dead[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("restarted twice")),
        "{dead:#?}"
    );
    let confirmed: BTreeSet<String> =
        values(&stage.wismoctl(&["read", "notification-commands", "--expect", "2"])?)
            .iter()
            .filter_map(|c| c["order_id"].as_str().map(String::from))
            .collect();
    assert_eq!(
        confirmed,
        BTreeSet::from(["o-after".to_string(), "o-before".to_string()])
    );
    assert!(process.is_running(), "{}", process.log_tail(20));
    Ok(())
}

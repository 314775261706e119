//! State is rebuilt from its changelog: a restart after the broker compacted the
//! changelog (old values of each order gone, tombstones applied) restores exactly
//! the state there was before, and decides on from it.

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use wismo_e2e::events::{order, publish, scan, shipment};
use wismo_e2e::{alter_topic_config, http_get, wait_until, Producer, Service, Stage};

const ORDERS: usize = 8;

fn lookups(tracker: &Service) -> anyhow::Result<BTreeMap<String, Value>> {
    (0..ORDERS)
        .map(|n| {
            let id = format!("o-{n}");
            let (status, body) = http_get(tracker.http, &format!("/orders/{id}"))
                .ok_or_else(|| anyhow::anyhow!("lookup of {id} failed"))?;
            anyhow::ensure!(status == 200, "{id}: {status} {body}");
            Ok((id, serde_json::from_str(&body)?))
        })
        .collect()
}

/// How many records the changelog holds, and how many it was ever written (its
/// end offset: compaction removes records, not offsets).
fn changelog_records(stage: &Stage) -> anyhow::Result<(usize, usize)> {
    let lines = stage.wismoctl(&["read", "wismo-order-tracker-changelog"])?;
    let offsets: Vec<i64> = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["offset"].as_i64())
        .collect();
    let end = offsets.iter().max().map_or(0, |o| *o as usize + 1);
    Ok((offsets.len(), end))
}

#[test]
fn state_restored_after_compaction_is_the_state_before_it() -> anyhow::Result<()> {
    let stage = Stage::new(1)?;
    let changelog = stage.topic("wismo-order-tracker-changelog");
    // Small segments and an eager cleaner, so compaction runs within the test
    // (the request replaces the topic's settings: compaction is named again).
    alter_topic_config(
        &stage.bootstrap,
        &changelog,
        &[
            ("cleanup.policy", "compact"),
            ("segment.ms", "200"),
            ("min.cleanable.dirty.ratio", "0.01"),
            ("delete.retention.ms", "100"),
        ],
    )?;
    let env = [("WISMO_COALESCE_WINDOW", "1s")];
    let _matcher = stage.start("scan-matcher", &env)?;
    let _dispatcher = stage.start("dispatcher", &env)?;
    let mut tracker = stage.start("order-tracker", &env)?;

    // Each order's state is written again as its parcel moves, wave by wave.
    let codes = [
        "label_created",
        "picked_up",
        "out_for_delivery",
        "delivered",
    ];
    let mut written = 0;
    for (step, code) in codes.iter().enumerate() {
        let at = chrono::Utc::now().timestamp_millis();
        let mut lines = Vec::new();
        for n in 0..ORDERS {
            let id = format!("o-{n}");
            if step == 0 {
                lines.push(order(&id, &format!("cust-{n}"), "UTC", Some(3), at));
                lines.push(shipment(&id, at));
            }
            lines.push(scan(&id, step as u32 + 1, code, at + 1));
        }
        publish(&stage, &lines)?;
        written = wait_until("the changelog to grow", Duration::from_secs(60), || {
            let (_, end) = changelog_records(&stage)?;
            Ok((end >= written + ORDERS).then_some(end))
        })?;
    }
    // Settled: every delivery announced (the coalescing timers have fired) and
    // the state the same on two reads in a row.
    wait_until("every delivery announced", Duration::from_secs(60), || {
        let lines = stage.wismoctl(&["read", "notification-commands", "--idle-secs", "0"])?;
        let delivered = wismo_e2e::values(&lines)
            .iter()
            .filter(|c| c["milestone"] == "DELIVERED")
            .count();
        Ok((delivered >= ORDERS).then_some(()))
    })?;
    let mut last = lookups(&tracker)?;
    let before = wait_until("the state to settle", Duration::from_secs(60), || {
        let now = lookups(&tracker)?;
        let settled = now == last;
        last = now;
        Ok(settled.then(|| last.clone()))
    })?;
    assert!(tracker.process.terminate()?.success());

    // The cleaner only takes closed segments: keep writing a probe (a tombstone for
    // a key no order has) until superseded values are gone.
    let probe = Producer::new(&stage.bootstrap)?;
    let compacted = wait_until("compaction", Duration::from_secs(120), || {
        probe.send(&changelog, Some(b"compaction-probe"), None, &[])?;
        let (held, _) = changelog_records(&stage)?;
        Ok((held < written).then_some(held))
    })?;
    eprintln!("changelog: {written} records before compaction, {compacted} after");

    tracker = stage.start("order-tracker", &env)?;
    let after = lookups(&tracker)?;
    assert_eq!(before, after, "the state restored after compaction differs");
    Ok(())
}

//! Scaling out and back in: a second order-tracker joins the group while timers are
//! armed, then the first one leaves. State and timers move with their partitions
//! (restored from the changelog on assignment), so every due timer fires, none is
//! lost, and the distinct apologies are exactly what `replay` decides.

mod common;

use anyhow::Context;
use common::{command_ids, not_picked_up_policy, now_ms, policy_file, replay_inputs};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use wismo_e2e::events::{labelled_orders, publish};
use wismo_e2e::{metric, wait_until, Stage};

/// Waits until the changelog holds the state of `n` orders.
fn wait_for_orders_in_changelog(stage: &Stage, n: usize) -> anyhow::Result<()> {
    wait_until("orders in the changelog", Duration::from_secs(60), || {
        let keys: BTreeSet<String> = stage
            .wismoctl(&["read", "wismo-order-tracker-changelog"])?
            .lines()
            .filter_map(|l| {
                serde_json::from_str::<Value>(l).ok()?["key"]
                    .as_str()
                    .map(String::from)
            })
            .collect();
        Ok((keys.len() >= n).then_some(()))
    })
}

#[test]
fn timers_move_with_their_partitions_when_trackers_join_and_leave() -> anyhow::Result<()> {
    let stage = Stage::new(4)?;
    let policy = policy_file(&not_picked_up_policy("8s"))?;
    let env = [
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_COALESCE_WINDOW", "1s"),
    ];
    let _matcher = stage.start("scan-matcher", &env)?;
    let _dispatcher = stage.start("dispatcher", &env)?;
    let mut first = stage.start("order-tracker", &env)?;

    // Wave a: armed on the first tracker alone (its state is in the changelog).
    publish(&stage, &labelled_orders("a", 12, now_ms()))?;
    wait_for_orders_in_changelog(&stage, 12)?;

    // A second tracker joins: some partitions, with their armed timers, move to it.
    let second = stage.start("order-tracker", &env)?;
    // Wave b: armed on whichever tracker owns each order now.
    publish(&stage, &labelled_orders("b", 12, now_ms()))?;
    wait_for_orders_in_changelog(&stage, 24)?;

    // The first leaves cleanly; the second owns everything and must fire the rest.
    let status = first.process.terminate()?;
    anyhow::ensure!(status.success(), "first tracker exit: {status:?}");

    let expected = 24;
    let replayed = replay_inputs(&stage, &env, now_ms() + 20_000, "delay-apology-commands")?;
    let live = wait_until("every apology", Duration::from_secs(90), || {
        let live = stage.read("delay-apology-commands", 0)?;
        Ok((command_ids(&live).len() >= command_ids(&replayed).len()).then_some(live))
    })
    .with_context(|| second.process.log_tail(40))?;

    // One apology per order, however often a handover made it repeat, and each
    // the very record replay decides.
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
    let want = by_id(&replayed);
    assert_eq!(want.len(), expected, "{want:#?}");
    assert_eq!(by_id(&live), want);
    assert!(live
        .iter()
        .all(|v| want.get(v["command_id"].as_str().unwrap_or("?")) == Some(v)));

    // The second tracker really took partitions over: it restored state on assignment.
    let m = second.metrics();
    assert!(
        metric(&m, "wismo_restored_keys_total").is_some_and(|n| n > 0.0),
        "{m}"
    );
    // Four partitions of each of its two inputs.
    assert_eq!(metric(&m, "wismo_partitions_assigned"), Some(8.0), "{m}");
    Ok(())
}

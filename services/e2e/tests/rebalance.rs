//! Scaling out and back in: a second order-tracker joins the group while timers are
//! armed, then the first one leaves. State and timers move with their partitions
//! (restored from the changelog on assignment), so every due timer fires, none is
//! lost, and the distinct apologies are exactly what `replay` decides.

mod common;

use common::{command_ids, not_picked_up_policy, now_ms, policy_file, replay_inputs};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use wismo_e2e::events::{labelled_orders, publish};
use wismo_e2e::{metric, values, Stage};

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

    // Wave a: armed on the first tracker alone.
    publish(&stage, &labelled_orders("a", 12, now_ms()))?;
    std::thread::sleep(Duration::from_secs(2));

    // A second tracker joins: some partitions, with their armed timers, move to it.
    let second = stage.start("order-tracker", &env)?;
    // Wave b: armed on whichever tracker owns each order now.
    publish(&stage, &labelled_orders("b", 12, now_ms()))?;
    std::thread::sleep(Duration::from_secs(2));

    // The first leaves cleanly; the second owns everything and must fire the rest.
    let status = first.process.terminate()?;
    anyhow::ensure!(status.success(), "first tracker exit: {status:?}");

    let expected = 24;
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut live: Vec<Value>;
    loop {
        live = values(&stage.wismoctl(&["read", "delay-apology-commands", "--idle-secs", "2"],
        )?);
        if command_ids(&live).len() >= expected {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} of {expected} apologies: {}",
            command_ids(&live).len(),
            second.process.log_tail(40)
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    std::thread::sleep(Duration::from_secs(3));
    live = values(&stage.wismoctl(&["read", "delay-apology-commands", "--idle-secs", "2"],
    )?);

    // One apology per order, however often a handover made it repeat.
    let mut per_order: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for v in &live {
        per_order
            .entry(v["order_id"].as_str().unwrap_or("?").to_string())
            .or_default()
            .insert(v["command_id"].as_str().unwrap_or("?").to_string());
    }
    assert_eq!(per_order.len(), expected, "{per_order:#?}");
    assert!(
        per_order.values().all(|ids| ids.len() == 1),
        "{per_order:#?}"
    );

    let replayed = replay_inputs(&stage, &env, now_ms(), "delay-apology-commands")?;
    assert_eq!(command_ids(&live), command_ids(&replayed));

    // The second tracker really took partitions over: it restored state on assignment.
    let m = second.metrics();
    assert!(
        metric(&m, "wismo_restored_keys_total").is_some_and(|n| n > 0.0),
        "{m}"
    );
    assert_eq!(metric(&m, "wismo_partitions_assigned"), Some(4.0), "{m}");
    Ok(())
}

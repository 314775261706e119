//! The reference for what the services should decide: the same events through
//! `replay` (the same engine and services on the in-memory log, the same policy),
//! run on to a given instant.

use super::commands::Commands;
use crate::gen;
use replay::{Input, Replay};
use wismo_core::model::Timestamp;

/// What replay decided for the backlog.
#[derive(Debug, Default)]
pub struct Replayed {
    pub commands: Commands,
    pub dead_letters: u64,
    /// Scans the matcher routes to the tracker (the staged runs wait for them).
    pub routed: u64,
}

/// Feeds `events` (sorted by arrival) and runs the clock on to `until`, under the
/// policy file `policy` (as the services read it).
pub fn replay(
    mut events: Vec<(Timestamp, Input)>,
    until: Timestamp,
    policy: &std::path::Path,
) -> anyhow::Result<Replayed> {
    events.sort_by_key(|(at, _)| *at);
    let start = events
        .first()
        .map_or(until, |(at, _)| *at - chrono::Duration::minutes(1));
    let env =
        wismo_config::Env::from_pairs([("WISMO_POLICY_FILE", policy.to_string_lossy().as_ref())]);
    let (matcher, _) = gen::configs();
    let tracker = wismo_config::tracker_config(&env)?;
    let topics = wismo_config::Topics::from_env(&env);
    let mut replay = Replay::new(matcher, tracker, topics.clone(), start)?;
    for (at, input) in &events {
        replay.feed_input(*at, input);
    }
    let mut replayed = Replayed::default();
    for line in replay.finish(until)? {
        let topic = line["topic"].as_str().unwrap_or_default();
        if topic == topics.dead_letter {
            replayed.dead_letters += 1;
        } else {
            replayed.commands.add(topic, line["value"].clone());
        }
    }
    replayed.routed = replay
        .cluster()
        .log
        .records(&topics.routed_scans)
        .iter()
        .filter(|r| r.watermark.is_none())
        .count() as u64;
    Ok(replayed)
}

//! The ground truth: exactly the records on the input topics, with their own
//! timestamps, through `replay` (the same engine and services on an in-memory
//! log, the same policy and settings), run on to the cut.

use super::watch::read_topic;
use anyhow::Context;
use rdkafka::Message;
use replay::{Input, Replay};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use wismo_codec::{subjects, Codec};
use wismo_config::Topics;

/// What replay decides, by `(command topic index, command id)`.
pub struct Truth {
    pub commands: BTreeMap<(usize, String), Value>,
    pub dead_letters: usize,
    /// Input records replayed.
    pub inputs: usize,
    /// Timestamps of the input records: a command decided at none of them was
    /// decided by a timer.
    pub input_times: BTreeSet<i64>,
}

/// Every record of `topic` as `(timestamp, input)`.
fn read_inputs(bootstrap: &str, topic: &str, scans: bool) -> anyhow::Result<Vec<(i64, Input)>> {
    let codec = Codec::default();
    let mut out = Vec::new();
    read_topic(bootstrap, topic, |m| {
        let ts = m
            .timestamp()
            .to_millis()
            .context("an input without a timestamp")?;
        let payload = m.payload().unwrap_or_default();
        out.push((
            ts,
            if scans {
                Input::Scan(codec.decode(subjects::CARRIER_SCAN, payload)?)
            } else {
                Input::Order(codec.decode(subjects::ORDER_EVENT, payload)?)
            },
        ));
        Ok(())
    })?;
    Ok(out)
}

/// Replays the inputs under `env` (the services' settings) until `cut` (epoch ms).
pub fn replay(
    bootstrap: &str,
    topics: &Topics,
    env: &wismo_config::Env,
    cut: i64,
) -> anyhow::Result<Truth> {
    let mut inputs = read_inputs(bootstrap, &topics.orders, false)?;
    inputs.extend(read_inputs(bootstrap, &topics.carrier_scans, true)?);
    inputs.sort_by_key(|(ts, _)| *ts);
    let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    let start = inputs.first().map_or(cut, |(ts, _)| *ts) - 60_000;
    let matcher = wismo_config::matcher_config(env)?;
    let tracker = wismo_config::tracker_config(env)?;
    let mut replay = Replay::new(matcher, tracker, topics.clone(), at(start))?;
    for (ts, input) in &inputs {
        replay.feed_input(at(*ts), input);
    }
    let mut truth = Truth {
        commands: BTreeMap::new(),
        dead_letters: 0,
        inputs: inputs.len(),
        input_times: inputs.iter().map(|(ts, _)| *ts).collect(),
    };
    for line in replay.finish(at(cut))? {
        let topic = line["topic"].as_str().unwrap_or_default();
        if topic == topics.dead_letter {
            truth.dead_letters += 1;
            continue;
        }
        let index = crate::throughput::commands::COMMAND_TOPICS
            .iter()
            .position(|t| topics.resolve(t) == topic)
            .with_context(|| format!("replay wrote to {topic}"))?;
        let value = line["value"].clone();
        let id = value["command_id"].as_str().unwrap_or("?").to_string();
        truth.commands.insert((index, id), value);
    }
    Ok(truth)
}

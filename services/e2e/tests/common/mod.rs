//! Helpers shared by the e2e tests that compare a live run with `replay`.
#![allow(dead_code)]

use anyhow::Context;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use wismo_e2e::Stage;

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The distinct command ids among command records.
pub fn command_ids(lines: &[Value]) -> BTreeSet<String> {
    lines
        .iter()
        .filter_map(|v| v["command_id"].as_str().map(String::from))
        .collect()
}

/// What `replay` decides for exactly the records on the input topics, with their own
/// timestamps and the services' `env`, run on until `horizon_end` (epoch ms): the
/// values of the records it would put on `topic`.
pub fn replay_inputs(
    stage: &Stage,
    env: &[(&str, &str)],
    horizon_end: i64,
    topic: &str,
) -> anyhow::Result<Vec<Value>> {
    let mut input = String::new();
    for source in ["orders", "carrier-scans"] {
        for line in stage
            .wismoctl(&["read", source, "--idle-secs", "2"])?
            .lines()
        {
            let v: Value = serde_json::from_str(line)?;
            input.push_str(
                &json!({"topic": v["topic"], "key": v["key"], "timestamp": v["timestamp"], "value": v["value"]})
                    .to_string(),
            );
            input.push('\n');
        }
    }
    let last = input
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["timestamp"].as_i64())
        .max()
        .context("no input")?;
    let mut cfg = wismo_config::Env::from_pairs(env.iter().copied());
    cfg.set("WISMO_TOPIC_PREFIX", stage.prefix.as_str());
    let replayed = replay::replay_file(
        &input,
        wismo_config::matcher_config(&cfg)?,
        wismo_config::tracker_config(&cfg)?,
        wismo_config::Topics::from_env(&cfg),
        chrono::Duration::milliseconds(horizon_end - last),
    )?;
    Ok(replayed
        .into_iter()
        .filter(|l| l["topic"] == stage.topic(topic).as_str())
        .map(|mut l| l["value"].take())
        .collect())
}

/// Writes `text` to a fresh policy file and returns its path.
pub fn policy_file(text: &str) -> anyhow::Result<String> {
    let path = std::env::temp_dir().join(wismo_e2e::unique_name("wismo-policy") + ".toml");
    std::fs::write(&path, text)?;
    Ok(path.to_str().context("policy path")?.to_string())
}

/// A policy under which only "not picked up" fires within a test: `label_created`
/// after the label (every day a business day), nothing else for ten minutes.
pub fn not_picked_up_policy(label_created: &str) -> String {
    format!(
        r#"
[delay]
escalate_after = "10m"

[delay.calendars.default]
closed_weekdays = []

[[delay.thresholds]]
label_created = "{label_created}"
in_transit = "10m"
"#
    )
}

//! Helpers shared by the e2e tests that compare a live run with `replay`.
#![allow(dead_code)]

use anyhow::Context;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use wismo_e2e::Stage;

/// The command topics, by their default names.
pub const COMMAND_TOPICS: [&str; 3] = [
    "notification-commands",
    "delay-apology-commands",
    "review-request-commands",
];

/// Commands by `(topic, command id)`, every copy as read from its topic.
#[derive(Debug, Default)]
pub struct Commands(pub BTreeMap<(String, String), Vec<Value>>);

impl Commands {
    pub fn distinct(&self) -> BTreeMap<(String, String), Value> {
        self.0
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.first()?.clone())))
            .collect()
    }

    /// How many records repeat one already on the topic.
    pub fn duplicates(&self) -> usize {
        self.0.values().map(|v| v.len() - 1).sum()
    }

    /// Commands whose copies are not all the same record.
    pub fn differing_copies(&self) -> Vec<&(String, String)> {
        self.0
            .iter()
            .filter(|(_, v)| v.windows(2).any(|w| w[0] != w[1]))
            .map(|(k, _)| k)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn add(&mut self, topic: &str, value: Value) {
        let id = value["command_id"].as_str().unwrap_or("?").to_string();
        self.0
            .entry((topic.to_string(), id))
            .or_default()
            .push(value);
    }
}

/// Every command on the stage's three command topics.
pub fn live_commands(stage: &Stage, read_committed: bool) -> anyhow::Result<Commands> {
    let mut out = Commands::default();
    for topic in COMMAND_TOPICS {
        let mut args = vec!["read", topic, "--idle-secs", "1"];
        if read_committed {
            args.push("--read-committed");
        }
        for v in wismo_e2e::values(&stage.wismoctl(&args)?) {
            out.add(topic, v);
        }
    }
    Ok(out)
}

/// What `replay` decides on the three command topics for exactly the records on
/// the input topics, run on until `horizon_end` (epoch ms).
pub fn replay_commands(
    stage: &Stage,
    env: &[(&str, &str)],
    horizon_end: i64,
) -> anyhow::Result<Commands> {
    let mut out = Commands::default();
    for topic in COMMAND_TOPICS {
        for v in replay_inputs(stage, env, horizon_end, topic)? {
            out.add(topic, v);
        }
    }
    Ok(out)
}

/// The command's times: a record that reached a service after its inputs had
/// moved time on to the wall clock (a slow fetch, a loaded machine) is late and
/// decided as of its arrival (docs/architecture.md, "Late records").
const TIMES: [&str; 3] = ["decided_at", "send_at", "detectable_at"];

/// How much later than replay a live command may be decided: arrival latency.
const LATE_BY_AT_MOST_MS: i64 = 60_000;

/// The same decision: the same record, or one decided a little later.
fn same_decision(live: &Value, replayed: &Value) -> bool {
    let untimed = |v: &Value| {
        let mut v = v.clone();
        for t in TIMES {
            v[t] = Value::Null;
        }
        v
    };
    untimed(live) == untimed(replayed)
        && TIMES
            .iter()
            .all(|t| match (live[*t].as_i64(), replayed[*t].as_i64()) {
                (Some(l), Some(r)) => (0..=LATE_BY_AT_MOST_MS).contains(&(l - r)),
                (l, r) => l == r,
            })
}

/// Live equals replay, whole record for whole record (times as
/// [`same_decision`] allows): every command replay decides is there, nothing
/// else is, and every copy of one command is the very same record.
pub fn assert_same_commands(live: &Commands, replayed: &Commands) {
    let (want, have) = (replayed.distinct(), live.distinct());
    let lost: Vec<_> = want.keys().filter(|k| !have.contains_key(*k)).collect();
    let extra: Vec<_> = have.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "lost {lost:#?}\nextra {extra:#?}"
    );
    for (k, v) in &want {
        assert!(
            same_decision(&have[k], v),
            "{k:?}: live and replay decided different records\nlive:   {}\nreplay: {v}",
            have[k]
        );
    }
    let differing = live.differing_copies();
    assert!(differing.is_empty(), "copies differ: {differing:?}");
}

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
    if let Ok(path) = std::env::var("WISMO_E2E_DUMP") {
        std::fs::write(path, &input)?;
    }
    let mut cfg = wismo_config::Env::from_pairs(env.iter().copied());
    cfg.set("WISMO_TOPIC_PREFIX", stage.prefix.as_str());
    let replayed = replay::replay_file(
        &input,
        wismo_config::matcher_config(&cfg)?,
        wismo_config::tracker_config(&cfg)?,
        wismo_config::Topics::from_env(&cfg),
        replay::FileRun {
            horizon: chrono::Duration::milliseconds(horizon_end - last),
            shift: chrono::Duration::zero(),
        },
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
[notifications]
quiet_hours = {{ start = "00:00", end = "00:00" }}
per_recipient_max = 1000

[delay]
lane_holidays = false
escalate_after = "10m"

[delay.calendars.default]
closed_weekdays = []

[[delay.thresholds]]
label_created = "{label_created}"
in_transit = "10m"
"#
    )
}

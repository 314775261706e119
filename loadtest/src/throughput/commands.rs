//! Commands as they reach their topics, by default topic name and command id, and
//! the comparison of a live run with replay.

use rdkafka::Message;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use wismo_config::Topics;

/// The command topics by their default names.
pub const COMMAND_TOPICS: [&str; 3] = [
    "notification-commands",
    "delay-apology-commands",
    "review-request-commands",
];

/// Every copy of every command, by `(default topic name, command id)`.
#[derive(Debug, Default)]
pub struct Commands(pub BTreeMap<(String, String), Vec<Value>>);

impl Commands {
    pub fn add(&mut self, topic: &str, value: Value) {
        let id = value["command_id"].as_str().unwrap_or("?").to_string();
        let topic = COMMAND_TOPICS
            .iter()
            .find(|t| topic.ends_with(**t))
            .map_or(topic, |t| t);
        self.0
            .entry((topic.to_string(), id))
            .or_default()
            .push(value);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// One copy each of the commands decided by `cut` (epoch ms).
    fn until(&self, cut: i64) -> BTreeMap<&(String, String), &Value> {
        self.0
            .iter()
            .filter_map(|(k, copies)| Some((k, copies.first()?)))
            .filter(|(_, v)| v["decided_at"].as_i64().is_some_and(|d| d <= cut))
            .collect()
    }
}

/// How a live run compares with replay over the commands both decided by `cut`.
#[derive(Debug, Clone, Copy)]
pub struct Comparison {
    pub live: usize,
    pub replay: usize,
    pub equal: bool,
}

pub fn compare(live: &Commands, replayed: &Commands, cut: i64) -> Comparison {
    let (l, r) = (live.until(cut), replayed.until(cut));
    let copies_agree = live.0.values().all(|c| c.windows(2).all(|w| w[0] == w[1]));
    let equal = l == r && copies_agree;
    if !equal {
        let (lk, rk): (BTreeSet<_>, BTreeSet<_>) = (l.keys().collect(), r.keys().collect());
        let only_live: Vec<_> = lk.difference(&rk).take(5).collect();
        let only_replay: Vec<_> = rk.difference(&lk).take(5).collect();
        let differing: Vec<_> = l
            .iter()
            .filter(|(k, v)| r.get(*k).is_some_and(|rv| rv != *v))
            .take(3)
            .map(|(k, v)| format!("{k:?}\n  live:   {v}\n  replay: {}", r[k]))
            .collect();
        eprintln!(
            "live and replay differ: only live {only_live:?}, only replay {only_replay:?}, \
             differing {differing:#?}, copies agree {copies_agree}"
        );
    }
    Comparison {
        live: l.len(),
        replay: r.len(),
        equal,
    }
}

/// Every record on the three command topics of `topics`, read to their end.
pub fn read(bootstrap: &str, topics: &Topics) -> anyhow::Result<Commands> {
    let mut out = Commands::default();
    for name in COMMAND_TOPICS {
        let topic = topics.resolve(name);
        crate::topic::read_topic(bootstrap, topic, |m| {
            if let Some(payload) = m.payload() {
                out.add(name, replay::render::value(topics, topic, payload));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

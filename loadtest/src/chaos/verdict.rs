//! The commands on the topics against replay's, whole records, and what the
//! arrival times say: time to detect, and how long outputs were held up by each
//! fault.

use super::truth::Truth;
use super::watch::Record;
use crate::throughput::commands::COMMAND_TOPICS;
use serde_json::Value;
use std::collections::BTreeMap;
use wismo_config::Topics;

type Key = (usize, String);

/// Percentiles of a list of seconds.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Stats {
    fn of(mut v: Vec<f64>) -> Option<Stats> {
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Some(Stats {
            n: v.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: v[v.len() - 1],
        })
    }
}

#[derive(Debug, Default)]
pub struct Verdict {
    /// Commands replay decides by the cut.
    pub expected: usize,
    /// Distinct commands on the topics decided by the cut.
    pub on_topics: usize,
    pub lost: Vec<Key>,
    /// Same id, a record different from replay's, or copies that are not the
    /// same bytes.
    pub mismatched: Vec<Key>,
    /// Copies of copies differing in bytes (counted in `mismatched` too).
    pub differing_copies: Vec<Key>,
    /// On the topics by the cut, unknown to replay.
    pub extra: Vec<Key>,
    /// Records that repeat an id already on its topic.
    pub dup: usize,
    /// Ids with more than one record.
    pub dup_ids: usize,
    /// Repeats of commands decided by a timer (a delay apology, a review request,
    /// a coalesced milestone), and timer-decided commands replay never decided.
    pub timers_twice: usize,
    pub timer_extra: usize,
    /// Delay apologies: first arrival on the topic minus `detectable_at`.
    pub detect: Option<Stats>,
    /// The apology detected last, and its seconds.
    pub slowest_detect: Option<(String, f64)>,
    /// Every command: first arrival minus `decided_at`.
    pub latency: Option<Stats>,
    /// `(decided_at, first arrival)` of every command, for the recoveries.
    arrivals: Vec<(i64, i64)>,
}

/// A command record as replay prints it.
pub fn render(topics: &Topics) -> impl Fn(&Record) -> Value + '_ {
    |r| replay::render::value(topics, topics.resolve(COMMAND_TOPICS[r.topic]), &r.payload)
}

/// Compares the final read `live` with `truth` up to `cut`; `seen` is what the
/// watcher saw arrive, for the times.
pub fn judge(
    truth: &Truth,
    render: impl Fn(&Record) -> Value,
    live: &[Record],
    seen: &[Record],
    cut: i64,
) -> Verdict {
    let mut copies: BTreeMap<Key, Vec<&Record>> = BTreeMap::new();
    for r in live {
        copies.entry((r.topic, r.id.clone())).or_default().push(r);
    }
    let mut first: BTreeMap<Key, i64> = BTreeMap::new();
    for r in seen {
        let at = first.entry((r.topic, r.id.clone())).or_insert(r.arrived);
        *at = (*at).min(r.arrived);
    }
    let decided = |v: &Value| v["decided_at"].as_i64().unwrap_or(i64::MAX);
    let timer = |decided_at: i64| !truth.input_times.contains(&decided_at);
    let mut v = Verdict::default();
    for (key, want) in &truth.commands {
        if decided(want) > cut {
            continue;
        }
        v.expected += 1;
        let Some(records) = copies.get(key) else {
            v.lost.push(key.clone());
            continue;
        };
        if &render(records[0]) != want {
            v.mismatched.push(key.clone());
        }
    }
    for (key, records) in &copies {
        let head = records[0];
        if records.len() > 1 {
            v.dup += records.len() - 1;
            v.dup_ids += 1;
            if timer(head.decided_at) {
                v.timers_twice += records.len() - 1;
            }
            let same = |r: &&Record| r.key == head.key && r.payload == head.payload;
            if !records.iter().all(same) {
                v.differing_copies.push(key.clone());
                if !v.mismatched.contains(key) {
                    v.mismatched.push(key.clone());
                }
            }
        }
        if head.decided_at > cut {
            continue;
        }
        v.on_topics += 1;
        if !truth.commands.contains_key(key) {
            v.extra.push(key.clone());
            if timer(head.decided_at) {
                v.timer_extra += 1;
            }
        }
    }
    let mut detect = Vec::new();
    let mut latency = Vec::new();
    for (key, records) in &copies {
        let Some(&arrived) = first.get(key) else {
            continue;
        };
        let head = records[0];
        latency.push((arrived - head.decided_at) as f64 / 1000.0);
        v.arrivals.push((head.decided_at, arrived));
        if let Some(d) = head.detectable_at.filter(|_| head.decided_at <= cut) {
            let secs = (arrived - d) as f64 / 1000.0;
            if v.slowest_detect.as_ref().is_none_or(|(_, s)| secs > *s) {
                v.slowest_detect = Some((key.1.clone(), secs));
            }
            detect.push(secs);
        }
    }
    v.detect = Stats::of(detect);
    v.latency = Stats::of(latency);
    v
}

impl Verdict {
    /// Seconds from a fault's end until the last command decided between its
    /// begin and a second after its end was on its topic (epoch ms): how long
    /// the fault held outputs up.
    pub fn outputs_recovered(&self, begin: i64, end: i64) -> Option<f64> {
        (self.arrivals.iter())
            .filter(|(d, _)| (begin..=end + 1_000).contains(d))
            .map(|(_, a)| a)
            .max()
            .map(|a| ((a - end) as f64 / 1000.0).max(0.0))
    }

    /// Whether the delivery mode's promise held.
    pub fn passed(&self, transactional: bool) -> bool {
        self.lost.is_empty()
            && self.mismatched.is_empty()
            && self.extra.is_empty()
            && (!transactional || self.dup == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(topic: usize, value: Value, arrived: i64) -> Record {
        Record {
            topic,
            partition: 0,
            offset: 0,
            key: Some(b"o-1".to_vec()),
            payload: value.to_string().into_bytes(),
            id: value["command_id"].as_str().unwrap_or("?").into(),
            decided_at: value["decided_at"].as_i64().unwrap_or(0),
            detectable_at: value["detectable_at"].as_i64(),
            arrived,
        }
    }

    #[test]
    fn losses_repeats_mismatches_and_extras_are_counted() {
        let a = json!({"command_id": "a", "decided_at": 100});
        let b = json!({"command_id": "b", "decided_at": 150, "detectable_at": 140});
        let d = json!({"command_id": "d", "decided_at": 170, "send_at": 1});
        let late = json!({"command_id": "e", "decided_at": 20_000});
        let truth = Truth {
            commands: BTreeMap::from([
                ((0, "a".into()), a.clone()),
                ((1, "b".into()), b.clone()),
                ((0, "d".into()), d.clone()),
                ((0, "e".into()), late),
            ]),
            dead_letters: 0,
            inputs: 1,
            input_times: [100].into(),
        };
        let c1 = json!({"command_id": "c", "decided_at": 160});
        let c2 = json!({"command_id": "c", "decided_at": 160, "x": 1});
        let live = vec![
            record(0, a.clone(), 1_000),
            record(0, a, 2_000),
            record(1, b, 1_140),
            record(2, c1, 1_200),
            record(2, c2, 1_300),
            record(
                0,
                json!({"command_id": "d", "decided_at": 170, "send_at": 2}),
                900,
            ),
        ];
        let parse = |r: &Record| serde_json::from_slice(&r.payload).unwrap_or(Value::Null);
        let v = judge(&truth, parse, &live, &live, 10_000);
        assert_eq!(v.expected, 3, "e is decided after the cut");
        assert!(v.lost.is_empty());
        assert_eq!(v.dup, 2);
        assert_eq!(v.dup_ids, 2);
        assert_eq!(v.differing_copies, vec![(2, "c".to_string())]);
        assert_eq!(
            v.mismatched,
            vec![(0, "d".to_string()), (2, "c".to_string())]
        );
        assert_eq!(v.extra, vec![(2, "c".to_string())]);
        // a was decided at an input's time, c by a timer.
        assert_eq!((v.timers_twice, v.timer_extra), (1, 1));
        assert_eq!(v.slowest_detect, Some(("b".to_string(), 1.0)));
        assert!(!v.passed(false));
        assert_eq!(v.outputs_recovered(90, 120), Some(1.08));

        let lost = judge(&truth, parse, &live[..2], &live[..2], 10_000);
        assert_eq!(lost.lost.len(), 2);
        assert!(!lost.passed(false));
        let repeats_only = judge(&truth, parse, &live[..3], &live[..3], 120);
        assert!(repeats_only.passed(false), "{repeats_only:?}");
        assert!(
            !repeats_only.passed(true),
            "a repeat fails transactional mode"
        );
    }
}

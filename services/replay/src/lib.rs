//! `replay`: wismo over a JSON-lines file of input events, on a virtual clock.
//!
//! The three services run as they do on Kafka, each an engine (`wismo-engine`) on
//! an in-memory log holding every topic, internal ones included ([`cluster`]), so
//! what replay prints is what the services send.
//!
//! Input, one record per line:
//! `{"topic": "orders", "key": "o-1", "timestamp": "2026-03-02T09:00:00Z", "value": {…}}`
//! where `value` is the record in its Avro schema's JSON shape (field names as in
//! `schemas/`, optional fields as the value or `null`, enums as their symbol,
//! timestamps as epoch milliseconds, dates as days since the epoch). A line may give
//! `"value_raw": "…"` instead, standing for bytes that are not a record at all.
//! `timestamp` is the record's broker timestamp: when it arrived.
//!
//! Output, one line per command or dead letter, in time order:
//! `{"topic": "notification-commands", "key": "o-1", "value": {…}}`.

pub mod cluster;
pub mod event_file;
pub mod explain;
pub mod render;

use cluster::{Cluster, Settings};
use event_file::EventLine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use wismo_codec::{subjects, Codec};
use wismo_config::Topics;
use wismo_core::clock::VirtualClock;
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::{CarrierScan, OrderEvent, Timestamp};
use wismo_core::tracker::TrackerConfig;
use wismo_engine::record::TopicPartition;
use wismo_engine::EngineConfig;

/// The engine settings replay runs with: every writer runs in the same process,
/// so none is ever given up on.
pub fn engine_config() -> EngineConfig {
    EngineConfig {
        upstream_timeout: None,
        ..EngineConfig::default()
    }
}

/// An input record, as a shop or a carrier sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Order(OrderEvent),
    Scan(CarrierScan),
}

impl Input {
    /// Its topic, key and Avro bytes.
    pub fn record(&self, topics: &Topics) -> (String, String, Vec<u8>) {
        let codec = Codec::default();
        match self {
            Input::Order(e) => (
                topics.orders.clone(),
                e.order_id.clone(),
                codec.encode(subjects::ORDER_EVENT, e).unwrap_or_default(),
            ),
            Input::Scan(s) => (
                topics.carrier_scans.clone(),
                s.tracking_number.clone(),
                codec.encode(subjects::CARRIER_SCAN, s).unwrap_or_default(),
            ),
        }
    }
}

pub struct Replay {
    cluster: Cluster,
    clock: Arc<VirtualClock>,
    topics: Topics,
    /// How far each output partition has been printed.
    printed: HashMap<TopicPartition, i64>,
}

impl Replay {
    pub fn new(
        matcher: MatcherConfig,
        tracker: TrackerConfig,
        topics: Topics,
        start: Timestamp,
    ) -> anyhow::Result<Self> {
        let clock = Arc::new(VirtualClock::new(start));
        let settings = Settings {
            matcher,
            tracker,
            topics: topics.clone(),
            engine: engine_config(),
            partitions: 1,
            scan_partitions: 1,
        };
        let mut cluster = Cluster::new(settings, clock.clone());
        cluster.start_all()?;
        Ok(Replay {
            cluster,
            clock,
            topics,
            printed: HashMap::new(),
        })
    }

    /// Publishes one line onto its input topic, its times moved by `shift` (as
    /// `wismoctl publish --shift-to-now` moves them). A record that does not fit
    /// its schema is published as its JSON text, as a broken publisher would, and
    /// reaches dead-letter the way it would live.
    pub fn feed(&mut self, line: &EventLine, shift: chrono::Duration) {
        let topic = self.topics.resolve(&line.topic).to_string();
        let payload = line
            .payload(&self.topics, shift)
            .unwrap_or_else(|_| match &line.value {
                event_file::LineValue::Record(v) => v.to_string().into_bytes(),
                event_file::LineValue::Raw(s) => s.clone().into_bytes(),
            });
        self.cluster.publish(
            &topic,
            line.key.as_deref(),
            payload,
            (line.timestamp + shift).timestamp_millis(),
        );
    }

    /// Publishes one input that arrived at `at`.
    pub fn feed_input(&mut self, at: Timestamp, input: &Input) {
        let (topic, key, payload) = input.record(&self.topics);
        self.cluster
            .publish(&topic, Some(&key), payload, at.timestamp_millis());
    }

    /// Runs the virtual clock to `t`, deciding everything fed and firing every
    /// timer due by then; returns the outputs decided since the last call.
    pub fn finish(&mut self, t: Timestamp) -> anyhow::Result<Vec<Value>> {
        let idle = chrono::Duration::from_std(self.cluster.settings.engine.max_task_idle)
            .unwrap_or_default();
        self.clock.advance_to(t + idle);
        self.cluster.run_until_quiet()?;
        Ok(self.collect())
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// What `--explain` prints: the states the order-tracker and the dispatcher
    /// kept for every order and recipient seen, and the dead letters in `lines`.
    pub fn explain(&self, lines: &[Value]) -> explain::Explanation {
        let keys = |topic: &str| -> std::collections::BTreeSet<String> {
            self.cluster
                .log
                .records(topic)
                .into_iter()
                .filter_map(|r| r.key.map(|k| String::from_utf8_lossy(&k).into_owned()))
                .collect()
        };
        let states = |service, topic: &str| -> Vec<Value> {
            keys(topic)
                .iter()
                .filter_map(|k| self.cluster.lookup(service, k))
                .collect()
        };
        explain::Explanation::from_parts(
            &states(cluster::Service::OrderTracker, &self.topics.orders),
            &states(cluster::Service::Dispatcher, &self.topics.outbox),
            lines,
        )
    }

    fn collect(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        let outputs = [
            &self.topics.notifications,
            &self.topics.delay_apologies,
            &self.topics.review_requests,
            &self.topics.dead_letter,
        ];
        for (rank, topic) in outputs.into_iter().enumerate() {
            for record in self.cluster.log.records(topic) {
                let tp = record.topic_partition();
                let seen = self.printed.entry(tp).or_insert(0);
                if record.offset < *seen {
                    continue;
                }
                *seen = record.offset + 1;
                let value = record
                    .value
                    .as_deref()
                    .map(|v| render::value(&self.topics, topic, v))
                    .unwrap_or(Value::Null);
                let key = record.key.map(|k| String::from_utf8_lossy(&k).into_owned());
                out.push((
                    (record.timestamp, rank, record.partition, record.offset),
                    json!({ "topic": topic, "key": key, "value": value }),
                ));
            }
        }
        out.sort_by_key(|a| a.0);
        out.into_iter().map(|(_, v)| v).collect()
    }
}

/// How to run an event file: how far past its last event to run the clock
/// (firing timers), and how far to move every time in it.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileRun {
    pub horizon: chrono::Duration,
    pub shift: chrono::Duration,
}

fn run_file(
    text: &str,
    matcher: MatcherConfig,
    tracker: TrackerConfig,
    topics: Topics,
    run: FileRun,
) -> anyhow::Result<(Replay, Vec<Value>)> {
    let lines = event_file::parse(text)?;
    let start = lines.first().map(|(_, l)| l.timestamp).unwrap_or_default() + run.shift;
    let end = lines
        .iter()
        .map(|(_, l)| l.timestamp + run.shift)
        .max()
        .unwrap_or(start);
    let mut replay = Replay::new(matcher, tracker, topics, start)?;
    for (_, line) in &lines {
        replay.feed(line, run.shift);
    }
    let out = replay.finish(end + run.horizon)?;
    Ok((replay, out))
}

/// Like [`replay_file`], with what `--explain` prints.
pub fn explain_file(
    text: &str,
    matcher: MatcherConfig,
    tracker: TrackerConfig,
    topics: Topics,
    run: FileRun,
) -> anyhow::Result<(Vec<Value>, explain::Explanation)> {
    let (replay, out) = run_file(text, matcher, tracker, topics, run)?;
    let explanation = replay.explain(&out);
    Ok((out, explanation))
}

/// Reads, replays and returns every output line for a whole event file.
pub fn replay_file(
    text: &str,
    matcher: MatcherConfig,
    tracker: TrackerConfig,
    topics: Topics,
    run: FileRun,
) -> anyhow::Result<Vec<Value>> {
    Ok(run_file(text, matcher, tracker, topics, run)?.1)
}

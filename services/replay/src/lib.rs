//! `replay`: the decision pipeline over a JSON-lines event file, on a virtual clock.
//!
//! Input, one record per line:
//! `{"topic": "orders", "key": "o-1", "timestamp": "2026-03-02T09:00:00Z", "value": {…}}`
//! where `value` is the record in its Avro schema's JSON shape (field names as in
//! `schemas/`, optional fields as the value or `null`, enums as their symbol,
//! timestamps as epoch milliseconds, dates as days since the epoch). A line may give
//! `"value_raw": "…"` instead, standing for bytes that are not a record at all.
//! `timestamp` is the record's arrival time: the virtual clock.
//!
//! Output, one line per command or dead letter:
//! `{"topic": "notification-commands", "key": "o-1", "value": {…}}`.

pub mod event_file;

use event_file::{EventLine, LineValue};
use serde_json::{json, Value};
use wismo_codec::{subjects, Codec, DeadLetter};
use wismo_config::Topics;
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::{CarrierScan, OrderEvent, Origin, Timestamp};
use wismo_core::pipeline::{Emitted, Pipeline, PipelineInput};
use wismo_core::tracker::TrackerConfig;

pub struct Replay {
    pipeline: Pipeline,
    topics: Topics,
    out: Vec<Value>,
}

impl Replay {
    pub fn new(
        matcher: MatcherConfig,
        tracker: TrackerConfig,
        topics: Topics,
        start: Timestamp,
    ) -> Self {
        Replay {
            pipeline: Pipeline::new(matcher, tracker, start),
            topics,
            out: Vec::new(),
        }
    }

    /// Feeds one line (`line_no` names it in dead letters, as the offset would live).
    pub fn feed(&mut self, line_no: usize, line: &EventLine) {
        let origin = Origin {
            topic: line.topic.clone(),
            partition: 0,
            offset: line_no as i64,
        };
        match self.decode(line) {
            Ok(input) => self.pipeline.feed(line.timestamp, input, origin),
            Err((kind, reason)) => {
                self.pipeline.advance_to(line.timestamp);
                let raw = match &line.value {
                    LineValue::Record(v) => v.to_string().into_bytes(),
                    LineValue::Raw(s) => s.clone().into_bytes(),
                };
                let letter = DeadLetter {
                    reason,
                    error_kind: kind.into(),
                    source_topic: origin.topic,
                    source_partition: origin.partition,
                    source_offset: origin.offset,
                    original_key: line.key.as_ref().map(|k| k.clone().into_bytes()),
                    original_value: Some(raw),
                    service: "replay".into(),
                    failed_at: self.pipeline.now(),
                };
                self.out.push(self.dead_letter_line(&letter));
            }
        }
        self.collect();
    }

    /// Runs the virtual clock to `t`, firing every timer due by then.
    pub fn finish(&mut self, t: Timestamp) -> Vec<Value> {
        self.pipeline.advance_to(t);
        self.collect();
        std::mem::take(&mut self.out)
    }

    pub fn now(&self) -> Timestamp {
        self.pipeline.now()
    }

    fn decode(&self, line: &EventLine) -> Result<PipelineInput, (&'static str, String)> {
        let LineValue::Record(value) = &line.value else {
            return Err(("decode", "value is not a record of any wismo schema".into()));
        };
        let catalog = Codec::default();
        let topic = self.topics.resolve(&line.topic);
        if topic == self.topics.orders {
            let event: OrderEvent = catalog
                .decode_json(subjects::ORDER_EVENT, value)
                .map_err(|e| ("decode", e.to_string()))?;
            event.validate().map_err(|e| ("invalid", e.to_string()))?;
            Ok(PipelineInput::Order(event))
        } else if topic == self.topics.carrier_scans {
            let scan: CarrierScan = catalog
                .decode_json(subjects::CARRIER_SCAN, value)
                .map_err(|e| ("decode", e.to_string()))?;
            scan.validate().map_err(|e| ("invalid", e.to_string()))?;
            Ok(PipelineInput::Scan(scan))
        } else {
            Err((
                "decode",
                format!("topic `{}` is not an input topic", line.topic),
            ))
        }
    }

    fn collect(&mut self) {
        for e in self.pipeline.drain() {
            match e {
                Emitted::Notification(cmd) => self.out.push(json!({
                    "topic": self.topics.notifications,
                    "key": cmd.order_id,
                    "value": cmd_json(&cmd),
                })),
                Emitted::DeadLetter {
                    scan,
                    origin,
                    reason,
                } => {
                    let value = Codec::default()
                        .encode_json(subjects::CARRIER_SCAN, &scan)
                        .map(|v| v.to_string().into_bytes())
                        .unwrap_or_default();
                    let letter = DeadLetter {
                        reason,
                        error_kind: wismo_codec::dead_letter_kind::UNMATCHED.into(),
                        source_topic: origin.topic,
                        source_partition: origin.partition,
                        source_offset: origin.offset,
                        original_key: Some(scan.tracking_number.into_bytes()),
                        original_value: Some(value),
                        service: "replay".into(),
                        failed_at: self.pipeline.now(),
                    };
                    let line = self.dead_letter_line(&letter);
                    self.out.push(line);
                }
                Emitted::DelayApology(cmd) => self.out.push(json!({
                    "topic": self.topics.delay_apologies,
                    "key": cmd.order_id,
                    "value": Codec::default()
                        .encode_json(subjects::DELAY_APOLOGY_COMMAND, &cmd)
                        .unwrap_or_else(|e| json!({ "error": e.to_string() })),
                })),
                Emitted::ReviewRequest(cmd) => self.out.push(json!({
                    "topic": self.topics.review_requests,
                    "key": cmd.order_id,
                    "value": Codec::default()
                        .encode_json(subjects::REVIEW_REQUEST_COMMAND, &cmd)
                        .unwrap_or_else(|e| json!({ "error": e.to_string() })),
                })),
                // Shown so a dry run of a policy reveals what its cap would drop.
                Emitted::Capped {
                    kind,
                    command_id,
                    customer_id,
                } => self.out.push(json!({
                    "topic": "capped",
                    "key": customer_id,
                    "value": { "kind": kind, "command_id": command_id, "customer_id": customer_id },
                })),
                Emitted::Suppressed { .. } => {}
            }
        }
    }

    fn dead_letter_line(&self, letter: &DeadLetter) -> Value {
        json!({
            "topic": self.topics.dead_letter,
            "key": letter.source_topic,
            "value": {
                "reason": letter.reason,
                "error_kind": letter.error_kind,
                "source_topic": letter.source_topic,
                "source_partition": letter.source_partition,
                "source_offset": letter.source_offset,
                "original_value": letter.original_value.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
                "failed_at": letter.failed_at.timestamp_millis(),
            }
        })
    }
}

fn cmd_json(cmd: &wismo_core::model::NotificationCommand) -> Value {
    Codec::default()
        .encode_json(subjects::NOTIFICATION_COMMAND, cmd)
        .unwrap_or_else(|e| json!({ "error": e.to_string() }))
}

/// Reads, replays and returns every output line for a whole event file.
pub fn replay_file(
    text: &str,
    matcher: MatcherConfig,
    tracker: TrackerConfig,
    topics: Topics,
    horizon: chrono::Duration,
) -> anyhow::Result<Vec<Value>> {
    let lines = event_file::parse(text)?;
    let start = lines.first().map(|(_, l)| l.timestamp).unwrap_or_default();
    let end = lines
        .iter()
        .map(|(_, l)| l.timestamp)
        .max()
        .unwrap_or(start);
    let mut replay = Replay::new(matcher, tracker, topics, start);
    for (n, line) in &lines {
        replay.feed(*n, line);
    }
    Ok(replay.finish(end + horizon))
}

//! Reading what the services wrote while the flood runs: every dead letter, and
//! the decisions that show a valid order was decided.

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use wismo_codec::{subjects, Codec, DeadLetter};
use wismo_core::model::{Milestone, NotificationCommand, RoutedScan, ShipmentRegistered};
use wismo_core::quote::MAX_REASON_CHARS;

/// One topic read from its beginning, on and on.
pub struct Tail {
    consumer: BaseConsumer,
}

impl Tail {
    pub fn new(bootstrap: &str, topic: &str) -> anyhow::Result<Tail> {
        let consumer: BaseConsumer = wismo_e2e::client_config(bootstrap)
            .set("group.id", wismo_e2e::unique_name("flood-read"))
            .set("enable.auto.commit", "false")
            .set("fetch.message.max.bytes", "2000000")
            .create()
            .context("creating a reader")?;
        let n = wismo_e2e::wait_for_topic(bootstrap, topic, Duration::from_secs(30))?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..n {
            tpl.add_partition_offset(topic, i32::try_from(p)?, Offset::Beginning)?;
        }
        consumer.assign(&tpl)?;
        Ok(Tail { consumer })
    }

    /// Every record that arrived since the last call: (partition, offset, value),
    /// watermark records left out.
    pub fn poll(&self) -> anyhow::Result<Vec<(i32, i64, Vec<u8>)>> {
        let mut out = Vec::new();
        while let Some(m) = self.consumer.poll(Duration::from_millis(20)) {
            let m = m.context("reading")?;
            let watermark = m.headers().is_some_and(|h| {
                h.iter()
                    .any(|h| h.key == wismo_engine::record::headers::WATERMARK)
            });
            if let (false, Some(v)) = (watermark, m.payload()) {
                out.push((m.partition(), m.offset(), v.to_vec()));
            }
            if out.len() >= 100_000 {
                break;
            }
        }
        Ok(out)
    }
}

/// What the dead-letter topic holds so far.
#[derive(Default)]
pub struct Letters {
    /// Distinct letters by the record they are for: (topic, partition, offset).
    pub by_source: BTreeMap<(String, i32, i64), DeadLetter>,
    /// Copies of a letter already seen (a rewind after a panic decides again).
    pub repeats: usize,
    /// Letters whose reason is too long, spans lines, or quotes what it must not.
    pub unsafe_reasons: Vec<String>,
}

/// Runs of one character the hostile records are made of: a reason that holds
/// one quotes an untrusted value beyond its prefix.
const LONG_RUNS: [&str; 3] = [
    "rrrrrrrrrrrrrrrrrrrrrrrrr",
    "ddddddddddddddddddddddddd",
    "hhhhhhhhhhhhhhhhhhhhhhhhh",
];

impl Letters {
    pub fn add(&mut self, value: &[u8]) -> anyhow::Result<()> {
        let d: DeadLetter = Codec::default().decode(subjects::DEAD_LETTER, value)?;
        let r = &d.reason;
        let bad = r.chars().count() > MAX_REASON_CHARS + 1
            || r.contains('\n')
            || r.contains("@example.com")
            || r.contains("janet.")
            || LONG_RUNS.iter().any(|run| r.contains(run));
        if bad {
            self.unsafe_reasons.push(r.chars().take(120).collect());
        }
        let key = (d.source_topic.clone(), d.source_partition, d.source_offset);
        if self.by_source.insert(key, d).is_some() {
            self.repeats += 1;
        }
        Ok(())
    }

    /// The orders whose registration of a number another order owns was refused.
    /// By content, not by source: a rewind of the scan-matcher's forwarding writes
    /// a registration again, at a new offset, and it is refused again.
    pub fn refused_registrations(&self, topic: &str) -> BTreeSet<String> {
        self.by_source
            .iter()
            .filter(|((t, _, _), _)| t == topic)
            .filter_map(|(_, d)| {
                let v = d.original_value.as_deref()?;
                let reg: ShipmentRegistered = Codec::default()
                    .decode(subjects::SHIPMENT_REGISTERED, v)
                    .ok()?;
                Some(reg.order_id)
            })
            .collect()
    }

    /// Letters for the registrations topic that repeat one already counted.
    pub fn repeated_registrations(&self, topic: &str) -> usize {
        let letters = self.by_source.keys().filter(|(t, _, _)| t == topic).count();
        letters - self.refused_registrations(topic).len()
    }
}

/// What shows that valid orders were decided.
#[derive(Default)]
pub struct Decisions {
    /// Order ids told their order was confirmed, and told it was delivered.
    pub confirmed: BTreeSet<String>,
    pub delivered: BTreeSet<String>,
    /// (order id, scan id) of every routed scan.
    pub routed: BTreeSet<(String, String)>,
}

impl Decisions {
    pub fn add_command(&mut self, value: &[u8]) -> anyhow::Result<()> {
        let c: NotificationCommand =
            Codec::default().decode(subjects::NOTIFICATION_COMMAND, value)?;
        match c.milestone {
            Milestone::OrderConfirmed => self.confirmed.insert(c.order_id),
            Milestone::Delivered => self.delivered.insert(c.order_id),
            _ => false,
        };
        Ok(())
    }

    pub fn add_routed(&mut self, value: &[u8]) -> anyhow::Result<()> {
        let r: RoutedScan = Codec::default().decode(subjects::ROUTED_SCAN, value)?;
        self.routed.insert((r.order_id, r.scan.scan_id));
        Ok(())
    }
}

/// Peak resident set of a process (`VmHWM`), in MiB.
pub fn peak_rss_mb(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no VmHWM in /proc/{pid}/status"))?;
    Ok(kb / 1024.0)
}

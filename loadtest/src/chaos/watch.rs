//! What reaches the command topics and when: a `read_committed` reader that tails
//! them through the whole run (through the broker outages too) and notes each
//! record's arrival, and the consumer groups' committed offsets.

use crate::throughput::commands::COMMAND_TOPICS;
pub use crate::topic::read_topic;
use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wismo_config::Topics;

/// One command record as read from its topic.
#[derive(Debug, Clone)]
pub struct Record {
    /// Index into [`COMMAND_TOPICS`].
    pub topic: usize,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub id: String,
    pub decided_at: i64,
    /// Delay apologies only.
    pub detectable_at: Option<i64>,
    /// Wall clock (epoch ms) when the reader got it.
    pub arrived: i64,
}

/// A reader of every command topic from its start, for the watcher.
fn tail(bootstrap: &str, topics: &Topics) -> anyhow::Result<BaseConsumer> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", wismo_e2e::unique_name("chaos-watch"))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .context("creating a command reader")?;
    let mut tpl = TopicPartitionList::new();
    for name in COMMAND_TOPICS {
        let topic = topics.resolve(name);
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(30))?;
        for t in md.topics() {
            for p in t.partitions() {
                tpl.add_partition_offset(topic, p.id(), Offset::Beginning)?;
            }
        }
    }
    consumer.assign(&tpl)?;
    Ok(consumer)
}

fn record(topics: &Topics, m: &BorrowedMessage<'_>) -> Option<Record> {
    let topic = COMMAND_TOPICS
        .iter()
        .position(|t| topics.resolve(t) == m.topic())?;
    let payload = m.payload()?.to_vec();
    let value = replay::render::value(topics, m.topic(), &payload);
    Some(Record {
        topic,
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(<[u8]>::to_vec),
        id: value["command_id"].as_str().unwrap_or("?").to_string(),
        decided_at: value["decided_at"].as_i64().unwrap_or(i64::MIN),
        detectable_at: value["detectable_at"].as_i64(),
        payload,
        arrived: chrono::Utc::now().timestamp_millis(),
    })
}

/// Tails the command topics from their start until stopped.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Record>>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Watcher {
    pub fn start(bootstrap: &str, topics: &Topics) -> anyhow::Result<Watcher> {
        let consumer = tail(bootstrap, topics)?;
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop2, seen2, topics) = (stop.clone(), seen.clone(), topics.clone());
        let thread = std::thread::Builder::new()
            .name("chaos-watch".into())
            .spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    match consumer.poll(Duration::from_millis(100)) {
                        None => {}
                        // The broker going away is expected; librdkafka reconnects.
                        Some(Err(_)) => {}
                        Some(Ok(m)) => {
                            if let Some(r) = record(&topics, &m) {
                                seen2.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                            }
                        }
                    }
                }
                Ok(())
            })?;
        Ok(Watcher {
            stop,
            seen,
            thread: Some(thread),
        })
    }

    /// The `(topic, command id)`s seen so far.
    pub fn ids(&self) -> HashSet<(usize, String)> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.iter().map(|r| (r.topic, r.id.clone())).collect()
    }

    /// How many records it has seen.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Every record seen, in arrival order.
    pub fn stop(mut self) -> anyhow::Result<Vec<Record>> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join()
                .map_err(|_| anyhow::anyhow!("the watcher panicked"))??;
        }
        let seen = std::mem::take(&mut *self.seen.lock().unwrap_or_else(|e| e.into_inner()));
        Ok(seen)
    }
}

/// Every record on the command topics, read afresh to their end.
pub fn read_all(bootstrap: &str, topics: &Topics) -> anyhow::Result<Vec<Record>> {
    let mut out = Vec::new();
    for name in COMMAND_TOPICS {
        read_topic(bootstrap, topics.resolve(name), |m| {
            out.extend(record(topics, m));
            Ok(())
        })?;
    }
    Ok(out)
}

/// How many records `topic` holds.
pub fn count(bootstrap: &str, topic: &str) -> anyhow::Result<usize> {
    let mut n = 0;
    read_topic(bootstrap, topic, |_| {
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// Each consumer group and the input topics it reads.
pub struct Groups(pub Vec<(String, Vec<String>)>);

impl Groups {
    pub fn of(prefix: &str, topics: &Topics) -> Groups {
        let group = |s: &str| format!("{prefix}wismo-{s}");
        Groups(vec![
            (
                group("scan-matcher"),
                vec![
                    topics.orders.clone(),
                    topics.carrier_scans.clone(),
                    topics.shipment_registrations.clone(),
                ],
            ),
            (
                group("order-tracker"),
                vec![topics.orders.clone(), topics.routed_scans.clone()],
            ),
            (group("dispatcher"), vec![topics.outbox.clone()]),
        ])
    }

    /// The end offset of every input partition now. Right after the broker is
    /// back its partitions may have no leader yet: asked again for a minute.
    pub fn ends(&self, bootstrap: &str) -> anyhow::Result<BTreeMap<(String, i32), i64>> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.ends_once(bootstrap) {
                Ok(ends) => return Ok(ends),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(250)),
            }
        }
    }

    fn ends_once(&self, bootstrap: &str) -> anyhow::Result<BTreeMap<(String, i32), i64>> {
        let client: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .create()?;
        let mut ends = BTreeMap::new();
        for topic in self.0.iter().flat_map(|(_, t)| t).collect::<BTreeSet<_>>() {
            let md = client.fetch_metadata(Some(topic), Duration::from_secs(10))?;
            for t in md.topics() {
                for p in t.partitions() {
                    let (_, high) =
                        client.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
                    ends.insert((topic.clone(), p.id()), high);
                }
            }
        }
        Ok(ends)
    }

    /// Whether every group has committed, on every partition it reads, at least
    /// as far as `ends` (or the partition was empty there).
    pub fn reached(
        &self,
        bootstrap: &str,
        ends: &BTreeMap<(String, i32), i64>,
    ) -> anyhow::Result<bool> {
        for (group, inputs) in &self.0 {
            let client: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", bootstrap)
                .set("group.id", group)
                .set("enable.auto.commit", "false")
                .create()?;
            let mut tpl = TopicPartitionList::new();
            for ((topic, partition), _) in ends.iter().filter(|((t, _), _)| inputs.contains(t)) {
                tpl.add_partition(topic, *partition);
            }
            let committed = client.committed_offsets(tpl, Duration::from_secs(10))?;
            for e in committed.elements() {
                let end = ends[&(e.topic().to_string(), e.partition())];
                let at = match e.offset() {
                    Offset::Offset(o) => o,
                    _ => 0,
                };
                if at < end {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

//! Blocking Kafka client helpers for tests (topics, produce, consume).
//!
//! Everything here is synchronous (rdkafka's own background threads do the
//! I/O), so it can be called from plain `#[test]` functions as well as from
//! inside a tokio runtime; in a `#[tokio::test]` these calls block the
//! current worker thread while they run, which is fine for a test driver.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use rdkafka::{
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    config::ClientConfig,
    consumer::{BaseConsumer, CommitMode, Consumer},
    message::{Header, Headers, Message, OwnedHeaders},
    metadata::Metadata,
    producer::{FutureProducer, FutureRecord},
    types::RDKafkaErrorCode,
    Offset, TopicPartitionList,
};

use crate::util::unique_name;

/// Time without new records after which [`consume_all`] considers a topic
/// drained (once the expected count is reached).
pub const QUIET_PERIOD: Duration = Duration::from_secs(2);

/// `(key, payload, partition, offset)` as returned by [`consume_all`].
pub type KeyPayload = (Option<Vec<u8>>, Vec<u8>, i32, i64);

/// A record read back by [`consume_records`] / [`consume_group`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    pub key: Option<Vec<u8>>,
    /// `None` for a tombstone (null value).
    pub payload: Option<Vec<u8>>,
    pub partition: i32,
    pub offset: i64,
    /// Headers in order; a header with a null value has `None`.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// Record timestamp in epoch millis, if any.
    pub timestamp_ms: Option<i64>,
}

impl ConsumedRecord {
    /// The value of the first header named `key`.
    pub fn header(&self, key: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// A base client config pointing at `bootstrap`.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("socket.timeout.ms", "10000")
        .set("topic.metadata.refresh.interval.ms", "1000");
    config
}

/// One metadata request (all topics if `topic` is `None`).
pub fn fetch_metadata(
    bootstrap: &str,
    topic: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<Metadata> {
    let consumer: BaseConsumer = client_config(bootstrap)
        .create()
        .context("creating metadata client")?;
    consumer
        .fetch_metadata(topic, timeout)
        .with_context(|| format!("metadata request to {bootstrap}"))
}

/// Each partition's first offset still held (0 until records are deleted).
pub fn log_starts(bootstrap: &str, topic: &str) -> anyhow::Result<Vec<i64>> {
    let consumer: BaseConsumer = client_config(bootstrap)
        .create()
        .context("creating offsets client")?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut starts = Vec::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            let (low, _) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
            starts.push(low);
        }
    }
    Ok(starts)
}

/// Partition count of `topic`, or `None` while it doesn't exist (yet).
pub fn partition_count(bootstrap: &str, topic: &str) -> anyhow::Result<Option<usize>> {
    let metadata = fetch_metadata(bootstrap, None, Duration::from_secs(5))?;
    Ok(metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map(|t| t.partitions().len())
        .filter(|&n| n > 0))
}

/// Waits until `topic` exists with at least one partition; returns the count.
pub fn wait_for_topic(bootstrap: &str, topic: &str, timeout: Duration) -> anyhow::Result<usize> {
    crate::util::wait_until(&format!("topic {topic} on {bootstrap}"), timeout, || {
        // Transient metadata errors just mean "not yet".
        Ok(partition_count(bootstrap, topic).ok().flatten())
    })
}

/// Creates topics with replication factor 1 (`cleanup.policy=compact` with
/// `compacted`). An already existing topic is not an error. Returns once
/// metadata shows every topic.
pub fn create_topics(
    bootstrap: &str,
    topics: &[(&str, i32)],
    compacted: bool,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap)
        .create()
        .context("creating admin client")?;
    let opts = AdminOptions::new()
        .request_timeout(Some(Duration::from_secs(15)))
        .operation_timeout(Some(Duration::from_secs(15)));
    let results =
        futures::executor::block_on(admin.create_topics(&new_topics(topics, compacted), &opts))
            .context("CreateTopics request")?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => bail!("creating topic {name}: {code}"),
        }
    }
    for (name, _) in topics {
        wait_for_topic(bootstrap, name, Duration::from_secs(15))?;
    }
    Ok(())
}

fn new_topics<'a>(topics: &[(&'a str, i32)], compacted: bool) -> Vec<NewTopic<'a>> {
    topics
        .iter()
        .map(|&(name, partitions)| {
            let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
            if compacted {
                topic.set("cleanup.policy", "compact")
            } else {
                topic
            }
        })
        .collect()
}

/// A reusable blocking producer (`acks=all`). Keyed records use the Java
/// client's partitioner (murmur2), as wismo's producers and 3PLs do, so equal
/// keys land on equal partitions.
pub struct Producer {
    inner: FutureProducer,
}

impl Producer {
    pub fn new(bootstrap: &str) -> anyhow::Result<Self> {
        let inner = client_config(bootstrap)
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "0")
            .set("message.timeout.ms", "15000")
            .create()
            .context("creating producer")?;
        Ok(Self { inner })
    }

    /// Sends one record and waits for the ack; returns (partition, offset).
    /// `payload: None` produces a tombstone.
    pub fn send(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: &[(&str, &[u8])],
    ) -> anyhow::Result<(i32, i64)> {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(payload) = payload {
            record = record.payload(payload);
        }
        if !headers.is_empty() {
            let mut owned = OwnedHeaders::new_with_capacity(headers.len());
            for (key, value) in headers {
                owned = owned.insert(Header {
                    key,
                    value: Some(*value),
                });
            }
            record = record.headers(owned);
        }
        let delivery = self
            .inner
            .send_result(record)
            .map_err(|(err, _)| err)
            .with_context(|| format!("enqueueing record for {topic}"))?;
        let delivered = futures::executor::block_on(delivery)
            .map_err(|_| anyhow!("producer dropped the delivery report"))?
            .map_err(|(err, _)| err)
            .with_context(|| format!("producing to {topic}"))?;
        Ok((delivered.partition, delivered.offset))
    }
}

/// Produces one keyed record to `topic`; returns (partition, offset).
/// Creates a producer per call; use [`Producer`] for many records.
pub fn produce(
    bootstrap: &str,
    topic: &str,
    key: impl AsRef<[u8]>,
    payload: impl AsRef<[u8]>,
) -> anyhow::Result<(i32, i64)> {
    Producer::new(bootstrap)?.send(topic, Some(key.as_ref()), Some(payload.as_ref()), &[])
}

/// Produces one record without a key; returns (partition, offset).
pub fn produce_unkeyed(
    bootstrap: &str,
    topic: &str,
    payload: impl AsRef<[u8]>,
) -> anyhow::Result<(i32, i64)> {
    Producer::new(bootstrap)?.send(topic, None, Some(payload.as_ref()), &[])
}

/// Reads `topic` from the beginning of every partition (fresh consumer
/// group, nothing committed) until at least `expected_min_count` records
/// arrived and the topic then stayed quiet for [`QUIET_PERIOD`], or until
/// `timeout`. Returns `(key, payload, partition, offset)` in arrival order
/// (ordered within a partition); a tombstone's payload is an empty vec.
///
/// Never fails on timeout: compare the returned length with what you expect.
pub fn consume_all(
    bootstrap: &str,
    topic: &str,
    expected_min_count: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<KeyPayload>> {
    Ok(
        consume_records(bootstrap, topic, expected_min_count, timeout)?
            .into_iter()
            .map(|r| (r.key, r.payload.unwrap_or_default(), r.partition, r.offset))
            .collect(),
    )
}

/// Like [`consume_all`], returning full [`ConsumedRecord`]s (headers,
/// timestamps, tombstones as `payload: None`).
///
/// Partitions are assigned explicitly (all of them, from the earliest
/// offset) rather than via a group subscription, so there is no rebalance
/// delay; the group id is fresh and nothing is committed.
pub fn consume_records(
    bootstrap: &str,
    topic: &str,
    expected_min_count: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<ConsumedRecord>> {
    let started = Instant::now();
    let partitions = wait_for_topic(bootstrap, topic, timeout)?;
    let consumer: BaseConsumer = consumer_config(bootstrap, &unique_name("wismo-e2e-read"))
        .set("enable.auto.commit", "false")
        .create()
        .context("creating consumer")?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        let partition = i32::try_from(partition)?;
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer
        .assign(&assignment)
        .context("assigning partitions")?;
    let remaining = timeout.saturating_sub(started.elapsed());
    poll_until_quiet(&consumer, expected_min_count, remaining)
}

/// Reads `topic` as member of consumer group `group` (subscribe, committed
/// offsets honoured, `auto.offset.reset=earliest`), with the same stop rule
/// as [`consume_all`]. Commits the consumed offsets synchronously before
/// returning, so a later call with the same group continues after them.
pub fn consume_group(
    bootstrap: &str,
    topic: &str,
    group: &str,
    expected_min_count: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<ConsumedRecord>> {
    let consumer: BaseConsumer = consumer_config(bootstrap, group)
        .set("enable.auto.commit", "false")
        .create()
        .context("creating group consumer")?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let records = poll_until_quiet(&consumer, expected_min_count, timeout)?;
    if !records.is_empty() {
        let mut offsets = TopicPartitionList::new();
        let mut last = std::collections::BTreeMap::new();
        for record in &records {
            let entry = last.entry(record.partition).or_insert(record.offset);
            *entry = (*entry).max(record.offset);
        }
        for (partition, offset) in last {
            offsets.add_partition_offset(topic, partition, Offset::Offset(offset + 1))?;
        }
        consumer
            .commit(&offsets, CommitMode::Sync)
            .context("committing consumed offsets")?;
    }
    consumer.unsubscribe();
    Ok(records)
}

fn consumer_config(bootstrap: &str, group: &str) -> ClientConfig {
    let mut config = client_config(bootstrap);
    config
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .set("fetch.wait.max.ms", "100");
    config
}

fn poll_until_quiet(
    consumer: &BaseConsumer,
    expected_min_count: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<ConsumedRecord>> {
    let deadline = Instant::now() + timeout;
    let mut last_activity = Instant::now();
    let mut records = Vec::new();
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        if records.len() >= expected_min_count && now.duration_since(last_activity) >= QUIET_PERIOD
        {
            break;
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(message)) => {
                last_activity = Instant::now();
                let headers = message
                    .headers()
                    .map(|headers| {
                        headers
                            .iter()
                            .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                            .collect()
                    })
                    .unwrap_or_default();
                records.push(ConsumedRecord {
                    key: message.key().map(<[u8]>::to_vec),
                    payload: message.payload().map(<[u8]>::to_vec),
                    partition: message.partition(),
                    offset: message.offset(),
                    headers,
                    timestamp_ms: message.timestamp().to_millis(),
                });
            }
            // Transient (e.g. leader not yet known); keep polling until the deadline.
            Some(Err(err)) => eprintln!("[wismo-e2e] consumer error (continuing): {err}"),
        }
    }
    Ok(records)
}

/// Sets topic configs (`segment.ms`, `min.cleanable.dirty.ratio`, ...) on `topic`.
/// The request replaces every setting of the topic: name all that matter.
pub fn alter_topic_config(
    bootstrap: &str,
    topic: &str,
    configs: &[(&str, &str)],
) -> anyhow::Result<()> {
    use rdkafka::admin::{AlterConfig, ResourceSpecifier};
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap)
        .create()
        .context("creating admin client")?;
    let mut change = AlterConfig::new(ResourceSpecifier::Topic(topic));
    for (k, v) in configs {
        change = change.set(k, v);
    }
    let results = futures::executor::block_on(admin.alter_configs(
        &[change],
        &AdminOptions::new().request_timeout(Some(Duration::from_secs(15))),
    ))
    .context("AlterConfigs request")?;
    for r in results {
        r.map_err(|(resource, code)| anyhow!("altering {resource:?}: {code}"))?;
    }
    Ok(())
}

//! The baseline: a plain consume-and-produce of the same input records on the
//! same broker, shaped like the engine's loop without decoding, deciding or state.
//!
//! One consumer (a new group, subscribed to both input topics) and one idempotent
//! producer with the engine's settings. Every record is produced unchanged to a
//! scratch topic as it arrives; every commit interval (100 ms, the engine's
//! default) the producer is flushed and the offsets committed.

use crate::measure::cpu_seconds;
use crate::produce::await_acks;
use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The engine's default `WISMO_COMMIT_INTERVAL`.
const COMMIT_INTERVAL: Duration = Duration::from_millis(100);

/// One timed passthrough.
#[derive(Debug, Clone, Copy)]
pub struct RawRun {
    /// From creating the clients until the last batch is acked and committed.
    pub wall: f64,
    /// From creating the clients until the first record arrived.
    pub first_record: f64,
    /// This process's CPU seconds meanwhile (every thread, librdkafka's too).
    pub cpu: f64,
}

/// Passes `expected` records from `inputs` through to `scratch`. `extra` are
/// librdkafka properties set on the consumer.
pub fn passthrough(
    bootstrap: &str,
    inputs: &[&str],
    scratch: &str,
    expected: u64,
    extra: &[(&str, &str)],
    timeout: Duration,
) -> anyhow::Result<RawRun> {
    let (started, cpu0) = (Instant::now(), cpu_seconds());
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", wismo_e2e::unique_name("loadtest-raw"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // The services' group protocol (KIP-848), so both start alike.
        .set("group.protocol", "consumer")
        .set("enable.partition.eof", "false");
    for (key, value) in extra {
        config.set(*key, *value);
    }
    let consumer: BaseConsumer = config.create().context("creating raw consumer")?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("partitioner", "murmur2_random")
        .create()
        .context("creating raw producer")?;
    consumer.subscribe(inputs).context("subscribing")?;

    let deadline = started + timeout;
    let mut first_record = None;
    let mut through = 0u64;
    let mut in_flight: Vec<DeliveryFuture> = Vec::new();
    let mut offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let mut last_commit = Instant::now();
    loop {
        anyhow::ensure!(
            Instant::now() < deadline,
            "raw passthrough moved {through} of {expected} records within {timeout:?}"
        );
        if let Some(m) = consumer.poll(Duration::from_millis(10)) {
            let m = m.context("raw consume")?;
            first_record.get_or_insert_with(|| started.elapsed().as_secs_f64());
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(scratch);
            if let Some(key) = m.key() {
                record = record.key(key);
            }
            if let Some(payload) = m.payload() {
                record = record.payload(payload);
            }
            if let Some(ts) = m.timestamp().to_millis() {
                record = record.timestamp(ts);
            }
            let delivery = producer
                .send_result(record)
                .map_err(|(e, _)| e)
                .context("raw produce")?;
            in_flight.push(delivery);
            let next = offsets
                .entry((m.topic().to_string(), m.partition()))
                .or_insert(0);
            *next = (*next).max(m.offset() + 1);
            through += 1;
        }
        let done = through >= expected;
        if done || last_commit.elapsed() >= COMMIT_INTERVAL {
            await_acks(&mut in_flight)?;
            let mut tpl = TopicPartitionList::new();
            for ((topic, partition), offset) in &offsets {
                tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
            }
            if tpl.count() > 0 {
                consumer
                    .commit(&tpl, CommitMode::Sync)
                    .context("raw commit")?;
            }
            last_commit = Instant::now();
        }
        if done {
            break;
        }
    }
    anyhow::ensure!(
        through == expected,
        "raw passthrough saw {through} records, {expected} were produced (a redelivery?)"
    );
    Ok(RawRun {
        wall: started.elapsed().as_secs_f64(),
        first_record: first_record.unwrap_or_default(),
        cpu: cpu_seconds() - cpu0,
    })
}

//! The baseline: a plain consume-and-produce of the same input records on the
//! same broker, shaped like the shell's loop without decoding, deciding or state.
//!
//! One consumer (a new group, subscribed to both input topics, the shell's client
//! settings) and one producer. Per batch: wait for a record, take what else comes
//! within 5 ms up to 500 (the shell's defaults), produce each key and value
//! unchanged to a scratch topic, await every ack, commit the offsets.

use crate::measure::cpu_seconds;
use crate::produce::await_acks;
use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The shell's defaults (`WISMO_BATCH_MAX`, `WISMO_BATCH_LINGER_MS`).
const BATCH_MAX: usize = 500;
const BATCH_LINGER: Duration = Duration::from_millis(5);

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
        .set("partition.assignment.strategy", "range")
        .set("enable.partition.eof", "false");
    for (key, value) in extra {
        config.set(*key, *value);
    }
    let consumer: BaseConsumer = config.create().context("creating raw consumer")?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("partitioner", "murmur2_random")
        .create()
        .context("creating raw producer")?;
    consumer.subscribe(inputs).context("subscribing")?;

    let deadline = started + timeout;
    let mut first_record = None;
    let mut through = 0u64;
    let mut batch: Vec<OwnedMessage> = Vec::with_capacity(BATCH_MAX);
    let mut in_flight: Vec<DeliveryFuture> = Vec::with_capacity(BATCH_MAX);
    while through < expected {
        anyhow::ensure!(
            Instant::now() < deadline,
            "raw passthrough moved {through} of {expected} records within {timeout:?}"
        );
        batch.clear();
        match consumer.poll(Duration::from_millis(100)) {
            None => continue,
            Some(m) => batch.push(m.context("raw consume")?.detach()),
        }
        first_record.get_or_insert_with(|| started.elapsed().as_secs_f64());
        while batch.len() < BATCH_MAX {
            match consumer.poll(BATCH_LINGER) {
                None => break,
                Some(m) => batch.push(m.context("raw consume")?.detach()),
            }
        }
        let mut offsets: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for m in &batch {
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
            let next = offsets.entry((m.topic(), m.partition())).or_insert(0);
            *next = (*next).max(m.offset() + 1);
        }
        await_acks(&mut in_flight)?;
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in offsets {
            tpl.add_partition_offset(topic, partition, Offset::Offset(offset))?;
        }
        consumer
            .commit(&tpl, CommitMode::Sync)
            .context("raw commit")?;
        through += batch.len() as u64;
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

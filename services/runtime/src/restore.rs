//! Rebuilding one partition's state from the service's compacted changelog topic.

use crate::config::{DeliveryMode, RuntimeConfig};
use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Reads changelog partition `partition` from its start to its end and returns the
/// last state written for every key (tombstones delete). The end is what the
/// broker reports as the partition's end when the read gets there (the high
/// watermark, or under `read_committed` the last stable offset), so records
/// written meanwhile, compacted gaps and transaction markers need no special case.
pub fn restore_partition<S: DeserializeOwned>(
    config: &RuntimeConfig,
    partition: i32,
) -> anyhow::Result<HashMap<String, S>> {
    let started = Instant::now();
    let topic = config.changelog_topic.as_str();
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.bootstrap_servers)
        .set("group.id", format!("{}-restore", config.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true");
    if config.delivery == DeliveryMode::Transactional {
        // Changelog writes of an aborted transaction never happened.
        client.set("isolation.level", "read_committed");
    }
    // Security and tuning overrides apply to the restore consumer as to the others.
    crate::clients::apply_overrides(&mut client, config, "consumer.");
    let consumer: BaseConsumer = client.create().context("creating restore consumer")?;
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, Duration::from_secs(10))
        .with_context(|| format!("reading watermarks of changelog {topic}/{partition}"))?;
    let mut states = HashMap::new();
    if high <= low {
        return Ok(states);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Beginning)?;
    consumer.assign(&tpl)?;

    let mut skipped = 0u64;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        anyhow::ensure!(
            Instant::now() < deadline,
            "restore of {topic}/{partition} did not reach its end within 10 minutes"
        );
        let Some(result) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let msg = match result {
            Err(KafkaError::PartitionEOF(_)) => break,
            other => other.with_context(|| format!("reading changelog {topic}/{partition}"))?,
        };
        let key = msg.key().map(|k| String::from_utf8_lossy(k).into_owned());
        if let Some(key) = key {
            match msg.payload() {
                None => {
                    states.remove(&key);
                }
                Some(bytes) => match serde_json::from_slice::<S>(bytes) {
                    Ok(state) => {
                        states.insert(key, state);
                    }
                    Err(e) => {
                        skipped += 1;
                        tracing::error!(%topic, partition, offset = msg.offset(), error = %e, "changelog entry does not decode; skipped");
                    }
                },
            }
        }
    }
    let m = crate::metrics::runtime();
    m.restore_seconds.observe(started.elapsed().as_secs_f64());
    m.restored_keys.inc_by(states.len() as u64);
    tracing::info!(%topic, partition, keys = states.len(), skipped, ms = started.elapsed().as_millis() as u64, "state restored");
    Ok(states)
}

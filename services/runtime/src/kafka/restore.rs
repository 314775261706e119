//! Reading a changelog partition to its end on a thread of its own, so a long
//! restore never holds up the consumer's poll.

use super::clients;
use crate::config::RuntimeConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{Message, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};
use wismo_engine::record::TopicPartition;
use wismo_engine::transport::{ChangelogEntry, TransportError};

pub(crate) type Finished = (TopicPartition, Result<Vec<ChangelogEntry>, TransportError>);

pub(crate) fn spawn(config: RuntimeConfig, tp: TopicPartition, done: Sender<Finished>) {
    let name = format!("restore-{}", tp.partition);
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let result = read(&config, &tp).map_err(|e| TransportError::Failed(format!("{e:#}")));
        let _ = done.send((tp, result));
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a restore thread");
    }
}

/// Every key's last value in a changelog partition (what a restore loads).
pub fn read(config: &RuntimeConfig, tp: &TopicPartition) -> anyhow::Result<Vec<ChangelogEntry>> {
    let started = Instant::now();
    let consumer: BaseConsumer = clients::restore_consumer(config)
        .create()
        .map_err(super::refusal::redacted)?;
    let (low, high) = super::retry::riding_out("reading the changelog's offsets", || {
        consumer.fetch_watermarks(&tp.topic, tp.partition, Duration::from_secs(30))
    })?;
    let mut last: HashMap<String, (Vec<u8>, i64)> = HashMap::new();
    if high > low {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Beginning)?;
        consumer.assign(&tpl)?;
        loop {
            let Some(result) = consumer.poll(Duration::from_millis(500)) else {
                anyhow::ensure!(
                    started.elapsed() < Duration::from_secs(3600),
                    "restore of {tp} did not reach its end within an hour"
                );
                continue;
            };
            let msg = match result {
                // The end: the high watermark, or the last stable offset under
                // read_committed; markers and compacted gaps need no special case.
                Err(KafkaError::PartitionEOF(_)) => break,
                // librdkafka reconnects by itself; the restore goes on then.
                Err(e) if super::retry::is_transient(&e) => {
                    tracing::warn!(%tp, error = %e, "restore waits for the broker");
                    continue;
                }
                other => other?,
            };
            let at_end = msg.offset().saturating_add(1) >= high;
            if let Some(key) = msg.key() {
                let key = String::from_utf8_lossy(key).into_owned();
                match msg.payload() {
                    None => {
                        last.remove(&key);
                    }
                    Some(v) => {
                        last.insert(key, (v.to_vec(), msg.offset()));
                    }
                }
            }
            // The last record before the high watermark read at the start: done,
            // without the empty fetch that tells the end (the broker holds it).
            if at_end {
                break;
            }
        }
    }
    tracing::debug!(%tp, keys = last.len(), ms = started.elapsed().as_millis() as u64, "changelog read");
    Ok(last
        .into_iter()
        .map(|(key, (value, offset))| ChangelogEntry { key, value, offset })
        .collect())
}

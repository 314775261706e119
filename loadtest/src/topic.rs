//! A run's topics: every one created with `wismoctl`, and each read from its start
//! to its end, as the measurements do after a run.

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Reads `topic` (an actual name) from its start to its end, committed records
/// only, handing each to `each`.
pub fn read_topic(
    bootstrap: &str,
    topic: &str,
    mut each: impl FnMut(&BorrowedMessage<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", wismo_e2e::unique_name("chaos-read"))
        .set("enable.partition.eof", "true")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .context("creating a reader")?;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(30))?;
    let mut tpl = TopicPartitionList::new();
    for t in md.topics() {
        for p in t.partitions() {
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)?;
        }
    }
    let partitions = tpl.count();
    consumer.assign(&tpl)?;
    // The end-of-partition event names the partition, not the topic: one topic
    // per reader.
    let mut ended = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while ended.len() < partitions {
        anyhow::ensure!(Instant::now() < deadline, "reading {topic} took too long");
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                ended.insert(p);
            }
            Some(Err(e)) => return Err(e).with_context(|| format!("reading {topic}")),
            Some(Ok(m)) => {
                ended.remove(&m.partition());
                each(&m)?;
            }
        }
    }
    Ok(())
}

/// Creates every topic of the deployment `env` names (its prefix), each with
/// `partitions` partitions, the scans' topic included.
pub fn create_all(
    bootstrap: &str,
    env: &[(String, String)],
    partitions: impl std::fmt::Display,
) -> anyhow::Result<()> {
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let partitions = partitions.to_string();
    let args = [
        "create-topics",
        "--partitions",
        &partitions,
        "--scan-partitions",
        &partitions,
    ];
    wismo_e2e::wismoctl_with(bootstrap, &vars, &args)?;
    Ok(())
}

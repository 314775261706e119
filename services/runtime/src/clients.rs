//! Creating the Kafka clients, and checking the topics before the loop starts.

use crate::config::{DeliveryMode, RuntimeConfig};
use crate::rebalance::{RebalanceContext, RebalanceLog};
use anyhow::Context;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::FutureProducer;
use rdkafka::ClientConfig;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn consumer(
    config: &RuntimeConfig,
    log: Arc<RebalanceLog>,
) -> anyhow::Result<StreamConsumer<RebalanceContext>> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.bootstrap_servers)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // Range assignment gives co-partitioned topics the same partition numbers,
        // which per-key state across two input topics depends on.
        .set("partition.assignment.strategy", "range")
        .set("enable.partition.eof", "false");
    if config.delivery == DeliveryMode::Transactional {
        c.set("isolation.level", "read_committed");
    }
    apply_overrides(&mut c, config, "consumer.");
    c.create_with_context(RebalanceContext::new(log))
        .context("creating consumer")
}

pub(crate) fn producer(config: &RuntimeConfig) -> anyhow::Result<FutureProducer> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.bootstrap_servers)
        .set("acks", "all")
        .set("linger.ms", "5")
        // Java's default partitioner, so records we key land where a 3PL's Java
        // producer puts the same key: co-partitioning holds across clients.
        .set("partitioner", "murmur2_random");
    if config.delivery == DeliveryMode::Transactional {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        c.set("transactional.id", format!("{}-{host}", config.group_id));
    }
    apply_overrides(&mut c, config, "producer.");
    c.create().context("creating producer")
}

/// `WISMO_KAFKA_X` applies to both clients; `WISMO_KAFKA_CONSUMER_X` / `_PRODUCER_X` to one.
pub(crate) fn apply_overrides(c: &mut ClientConfig, config: &RuntimeConfig, own: &str) {
    for (k, v) in &config.kafka_overrides {
        if let Some(rest) = k.strip_prefix(own) {
            c.set(rest, v);
        } else if !k.starts_with("consumer.") && !k.starts_with("producer.") {
            c.set(k, v);
        }
    }
}

/// Every input topic and the changelog must exist, and all but the forward-only
/// inputs with the same partition count.
pub(crate) fn check_partitions(
    consumer: &StreamConsumer<RebalanceContext>,
    inputs: &[String],
    forward_only: &BTreeSet<String>,
    config: &RuntimeConfig,
    stateful: bool,
) -> anyhow::Result<()> {
    let mut counts = Vec::new();
    let changelog = stateful.then_some(&config.changelog_topic);
    for topic in inputs.iter().chain(changelog) {
        let md = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(15))
            .with_context(|| format!("reading metadata of topic {topic}"))?;
        let n = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map_or(0, |t| t.partitions().len());
        anyhow::ensure!(
            n > 0,
            "topic {topic} does not exist; create it before starting {}",
            config.service
        );
        if !forward_only.contains(topic) {
            counts.push((topic.clone(), n));
        }
    }
    let first = counts.first().map_or(0, |(_, n)| *n);
    anyhow::ensure!(
        counts.iter().all(|(_, n)| *n == first),
        "topics must be co-partitioned (same partition count): {counts:?}"
    );
    Ok(())
}

//! The librdkafka settings of wismo's consumer, producer and restore consumer.

use crate::config::RuntimeConfig;
use rdkafka::ClientConfig;
use wismo_engine::DeliveryMode;

/// `WISMO_KAFKA_X` applies to every client; `WISMO_KAFKA_CONSUMER_X` /
/// `_PRODUCER_X` to one kind.
pub(crate) fn apply_overrides(c: &mut ClientConfig, config: &RuntimeConfig, own: &str) {
    for (k, v) in &config.kafka_overrides {
        if let Some(rest) = k.strip_prefix(own) {
            c.set(rest, v);
        } else if !k.starts_with("consumer.") && !k.starts_with("producer.") {
            c.set(k, v);
        }
    }
}

pub(crate) fn consumer(config: &RuntimeConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.bootstrap_servers)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        // KIP-848: the broker assigns incrementally, so a partition that stays
        // is never revoked (nor restored again), and its range assignor gives
        // co-partitioned topics the same partition numbers.
        .set("group.protocol", "consumer")
        .set("group.remote.assignor", "range")
        // A long restore or a broker outage must not look like a dead member.
        .set("max.poll.interval.ms", "600000");
    if config.engine.delivery == DeliveryMode::Transactional {
        c.set("isolation.level", "read_committed");
    }
    apply_overrides(&mut c, config, "consumer.");
    // The classic protocol (older brokers) takes its assignor from the client.
    if c.get("group.protocol") == Some("classic") {
        c.remove("group.remote.assignor");
        if c.get("partition.assignment.strategy").is_none() {
            c.set("partition.assignment.strategy", "range");
        }
    }
    c
}

pub(crate) fn producer(config: &RuntimeConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.bootstrap_servers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        // Java's default partitioner, so records we key land where a 3PL's Java
        // producer puts the same key: co-partitioning holds across clients.
        .set("partitioner", "murmur2_random")
        // Above the engine's own output limit, so what it lets through is never
        // refused here (the topic's max.message.bytes must allow it too).
        .set(
            "message.max.bytes",
            (config.engine.max_output_bytes + 65_536)
                .max(1_000_000)
                .to_string(),
        );
    if config.engine.delivery == DeliveryMode::Transactional {
        // One id per instance: a restarted instance fences its previous self at
        // once, and the group generation sent with the offsets fences a zombie
        // that lost its partitions (KIP-447).
        c.set(
            "transactional.id",
            format!("{}-{}", config.group_id, config.instance_id),
        )
        // Kafka Streams' value: a transaction left open by an instance that died
        // under a name nobody takes again (a Deployment's pod) holds back every
        // read_committed reader of its partitions until the coordinator aborts
        // it, 10 s on rather than librdkafka's 60. (librdkafka then gives up on a
        // send, and on a request, after 10 s too.)
        .set("transaction.timeout.ms", "10000");
    }
    apply_overrides(&mut c, config, "producer.");
    c
}

/// A consumer outside the group, for reading a changelog partition to its end.
pub(crate) fn restore_consumer(config: &RuntimeConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.bootstrap_servers)
        .set("group.id", format!("{}-restore", config.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        // A restore reads a log to its end as fast as it can: an empty fetch
        // (the end, or a gap under read_committed) is not held for 500 ms.
        .set("fetch.wait.max.ms", "10");
    if config.engine.delivery == DeliveryMode::Transactional {
        // Changelog writes of an aborted transaction never happened.
        c.set("isolation.level", "read_committed");
    }
    apply_overrides(&mut c, config, "consumer.");
    c.remove("group.protocol");
    c.remove("group.remote.assignor");
    c.remove("group.instance.id");
    c
}

/// The admin client that deletes purged records of internal topics.
pub(crate) fn admin(config: &RuntimeConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.bootstrap_servers);
    apply_overrides(&mut c, config, "admin.");
    c
}

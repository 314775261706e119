//! Creating wismo's topics: inputs, outputs, internal repartition topics and the
//! compacted changelogs. Topics read together by one service share a partition
//! count (co-partitioned); scans and orders may differ, since the scan-matcher only
//! forwards `orders`.

use crate::kafka::{Client, Kafka};
use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use wismo_config::Topics;

/// Partition counts of the two key spaces.
#[derive(Debug, Clone, Copy)]
pub struct Partitions {
    /// Keyed by order id or customer id: the order-tracker's and dispatcher's topics.
    pub by_order: i32,
    /// Keyed by tracking number: the scan-matcher's topics.
    pub by_tracking_number: i32,
}

pub async fn create_all(
    kafka: &Kafka,
    topics: &Topics,
    partitions: Partitions,
    replication: i32,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        Kafka::create(&kafka.config(Client::Admin)).context("creating admin client")?;
    let (o, t) = (partitions.by_order, partitions.by_tracking_number);
    let plain = [
        (&topics.orders, o),
        (&topics.carrier_scans, t),
        (&topics.notifications, o),
        (&topics.delay_apologies, o),
        (&topics.review_requests, o),
        (&topics.dead_letter, o),
    ];
    // Written and read by wismo alone: the reader deletes what it committed past
    // (the engine's purge), so no time retention deletes an old-dated backfill
    // before it is read.
    let internal = [
        (&topics.outbox, o),
        (&topics.shipment_registrations, t),
        (&topics.routed_scans, o),
    ];
    let compacted = [
        (&topics.matcher_changelog, t),
        (&topics.tracker_changelog, o),
        (&topics.dispatcher_changelog, o),
    ];
    let mut new = Vec::new();
    for (name, n) in plain {
        new.push(NewTopic::new(name, n, TopicReplication::Fixed(replication)));
    }
    for (name, n) in internal {
        new.push(
            NewTopic::new(name, n, TopicReplication::Fixed(replication)).set("retention.ms", "-1"),
        );
    }
    for (name, n) in compacted {
        new.push(
            NewTopic::new(name, n, TopicReplication::Fixed(replication))
                .set("cleanup.policy", "compact"),
        );
    }
    let results = admin
        .create_topics(&new, &AdminOptions::new())
        .await
        .context("creating topics")?;
    for result in results {
        match result {
            Ok(name) => eprintln!("created topic {name}"),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => eprintln!("topic {name} exists"),
            Err((name, code)) => anyhow::bail!("creating topic {name}: {code}"),
        }
    }
    // Done once the broker's metadata shows them all, so a service started right
    // after finds its topics.
    let names: Vec<&str> = new.iter().map(|t| t.name).collect();
    let started = std::time::Instant::now();
    loop {
        let md = admin
            .inner()
            .fetch_metadata(None, std::time::Duration::from_secs(10))
            .context("reading metadata")?;
        let missing: Vec<&&str> = names
            .iter()
            .filter(|n| {
                !md.topics()
                    .iter()
                    .any(|t| t.name() == **n && !t.partitions().is_empty())
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "topics {missing:?} not in the broker's metadata after a minute"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

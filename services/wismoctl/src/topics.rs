//! Creating wismo's topics: inputs, outputs, internal repartition topics and the
//! compacted changelogs, all with one partition count so they are co-partitioned.

use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::ClientConfig;
use wismo_config::Topics;

pub async fn create_all(
    bootstrap: &str,
    topics: &Topics,
    partitions: i32,
    replication: i32,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .context("creating admin client")?;
    let plain = [
        &topics.orders,
        &topics.carrier_scans,
        &topics.notifications,
        &topics.delay_apologies,
        &topics.review_requests,
        &topics.outbox,
        &topics.dead_letter,
        &topics.shipment_registrations,
        &topics.routed_scans,
    ];
    let compacted = [&topics.matcher_changelog, &topics.tracker_changelog];
    let mut new = Vec::new();
    for name in plain {
        new.push(NewTopic::new(
            name,
            partitions,
            TopicReplication::Fixed(replication),
        ));
    }
    for name in compacted {
        new.push(
            NewTopic::new(name, partitions, TopicReplication::Fixed(replication))
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
    Ok(())
}

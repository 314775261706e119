//! Proves the harness works against the real Apache Kafka broker over TCP: keyed
//! records, consumer groups, and compaction actually running.

use std::{collections::BTreeMap, time::Duration};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use wismo_e2e::{
    client_config, consume_all, consume_group, create_topics, partition_count, produce,
    unique_name, wait_until, Broker, Producer,
};

const TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn produce_and_consume_keyed_records() -> anyhow::Result<()> {
    let bootstrap = Broker::shared()?;
    let smoke = unique_name("smoke");
    let smoke = smoke.as_str();
    create_topics(&bootstrap, &[(smoke, 3)], false)?;
    assert_eq!(partition_count(&bootstrap, smoke)?, Some(3));

    let mut sent = BTreeMap::new();
    for i in 0..20 {
        let key = format!("parcel-{}", i % 7);
        let payload = format!("{{\"seq\":{i},\"key\":\"{key}\"}}");
        let (partition, offset) = produce(&bootstrap, smoke, &key, &payload)?;
        assert!((0..3).contains(&partition), "partition {partition}");
        assert!(offset >= 0);
        sent.insert(payload.into_bytes(), key.into_bytes());
    }

    let records = consume_all(&bootstrap, smoke, 20, TIMEOUT)?;
    assert_eq!(records.len(), 20, "records: {records:?}");

    let mut received = BTreeMap::new();
    let mut partition_of_key: BTreeMap<Vec<u8>, i32> = BTreeMap::new();
    for (key, payload, partition, _offset) in &records {
        let key = key.clone().expect("keyed record");
        assert_eq!(sent.get(payload), Some(&key), "unexpected record");
        received.insert(payload.clone(), key.clone());
        let first = *partition_of_key.entry(key.clone()).or_insert(*partition);
        assert_eq!(
            first,
            *partition,
            "key {:?} split across partitions",
            String::from_utf8_lossy(&key)
        );
    }
    assert_eq!(received, sent, "every payload arrives exactly once");
    // 7 distinct keys over 3 partitions: the default partitioner spreads them.
    let used: std::collections::BTreeSet<_> = partition_of_key.values().collect();
    assert!(
        used.len() > 1,
        "all keys on one partition: {partition_of_key:?}"
    );
    Ok(())
}

#[test]
fn consumer_group_commits_and_resumes() -> anyhow::Result<()> {
    let bootstrap = Broker::shared()?;
    let grouped = unique_name("grouped");
    let grouped = grouped.as_str();
    create_topics(&bootstrap, &[(grouped, 2)], false)?;
    let producer = Producer::new(&bootstrap)?;
    for i in 0..6 {
        let key = format!("k{i}");
        producer.send(
            grouped,
            Some(key.as_bytes()),
            Some(b"first"),
            &[("h", b"v")],
        )?;
    }
    let group = unique_name("smoke-group");
    let first = consume_group(&bootstrap, grouped, &group, 6, TIMEOUT)?;
    assert_eq!(first.len(), 6);
    assert!(first.iter().all(|r| r.header("h") == Some(&b"v"[..])));

    for i in 0..3 {
        let key = format!("k{i}");
        producer.send(grouped, Some(key.as_bytes()), Some(b"second"), &[])?;
    }
    let second = consume_group(&bootstrap, grouped, &group, 3, TIMEOUT)?;
    let payloads: Vec<_> = second.iter().map(|r| r.payload.clone()).collect();
    assert_eq!(
        payloads,
        vec![Some(b"second".to_vec()); 3],
        "resumed after commit"
    );
    Ok(())
}

/// A compacted topic keeps the last value per key once the cleaner has run, and a
/// tombstone removes its key: what a changelog restore relies on.
#[test]
fn compaction_keeps_the_latest_value_per_key() -> anyhow::Result<()> {
    let bootstrap = Broker::shared()?;
    let topic = unique_name("changelog");
    let admin: AdminClient<DefaultClientContext> = client_config(&bootstrap).create()?;
    // Segments roll every 100 ms and any dirt is worth cleaning, so the cleaner
    // gets to this topic within seconds.
    let new = NewTopic::new(&topic, 1, TopicReplication::Fixed(1))
        .set("cleanup.policy", "compact")
        .set("segment.ms", "100")
        .set("min.cleanable.dirty.ratio", "0.01")
        .set("delete.retention.ms", "100");
    let created = futures::executor::block_on(admin.create_topics(&[new], &AdminOptions::new()))?;
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    wismo_e2e::wait_for_topic(&bootstrap, &topic, TIMEOUT)?;
    let described = futures::executor::block_on(
        admin.describe_configs(&[ResourceSpecifier::Topic(&topic)], &AdminOptions::new()),
    )?;
    let policy = described
        .into_iter()
        .flatten()
        .find_map(|r| r.get("cleanup.policy").and_then(|e| e.value.clone()));
    assert_eq!(policy.as_deref(), Some("compact"));

    let producer = Producer::new(&bootstrap)?;
    let mut written = 0;
    for round in 0..20 {
        for key in ["order-1", "order-2", "order-3"] {
            let value = format!("{key}-v{round}");
            producer.send(&topic, Some(key.as_bytes()), Some(value.as_bytes()), &[])?;
            written += 1;
        }
    }
    producer.send(&topic, Some(b"order-3"), None, &[])?;
    written += 1;
    // Keep rolling segments (the active one is never cleaned) until compaction
    // has removed the overwritten values.
    let records = wait_until("compaction", Duration::from_secs(90), || {
        producer.send(&topic, Some(b"filler"), Some(b"x"), &[])?;
        written += 1;
        let records = wismo_e2e::consume_records(&bootstrap, &topic, 1, TIMEOUT)?;
        Ok((records.len() < 20).then_some(records))
    })?;
    let latest: BTreeMap<Vec<u8>, Option<Vec<u8>>> = records
        .iter()
        .filter_map(|r| Some((r.key.clone()?, r.payload.clone())))
        .collect();
    assert_eq!(
        latest.get(&b"order-1"[..]).cloned().flatten(),
        Some(b"order-1-v19".to_vec())
    );
    assert_eq!(
        latest.get(&b"order-2"[..]).cloned().flatten(),
        Some(b"order-2-v19".to_vec())
    );
    assert!(
        !matches!(latest.get(&b"order-3"[..]), Some(Some(_))),
        "the tombstoned key keeps a value: {latest:?}"
    );
    assert!(records.len() < written, "nothing was compacted");
    Ok(())
}

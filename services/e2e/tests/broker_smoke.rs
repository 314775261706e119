//! Proves the harness works against a real Tansu broker over TCP.

use std::{collections::BTreeMap, time::Duration};

use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use wismo_e2e::{
    client_config, consume_all, consume_group, partition_count, produce, unique_name, Broker,
    Producer,
};

const TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn produce_and_consume_keyed_records() -> anyhow::Result<()> {
    let broker = Broker::start()?;
    let bootstrap = broker.bootstrap();
    broker.create_topics(&[("smoke", 3)], false)?;
    assert_eq!(partition_count(&bootstrap, "smoke")?, Some(3));

    let mut sent = BTreeMap::new();
    for i in 0..20 {
        let key = format!("parcel-{}", i % 7);
        let payload = format!("{{\"seq\":{i},\"key\":\"{key}\"}}");
        let (partition, offset) = produce(&bootstrap, "smoke", &key, &payload)?;
        assert!((0..3).contains(&partition), "partition {partition}");
        assert!(offset >= 0);
        sent.insert(payload.into_bytes(), key.into_bytes());
    }

    let records = consume_all(&bootstrap, "smoke", 20, TIMEOUT)?;
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
    let broker = Broker::start()?;
    let bootstrap = broker.bootstrap();
    broker.create_topics(&[("grouped", 2)], false)?;
    let producer = Producer::new(&bootstrap)?;
    for i in 0..6 {
        let key = format!("k{i}");
        producer.send(
            "grouped",
            Some(key.as_bytes()),
            Some(b"first"),
            &[("h", b"v")],
        )?;
    }
    let group = unique_name("smoke-group");
    let first = consume_group(&bootstrap, "grouped", &group, 6, TIMEOUT)?;
    assert_eq!(first.len(), 6);
    assert!(first.iter().all(|r| r.header("h") == Some(&b"v"[..])));

    for i in 0..3 {
        let key = format!("k{i}");
        producer.send("grouped", Some(key.as_bytes()), Some(b"second"), &[])?;
    }
    let second = consume_group(&bootstrap, "grouped", &group, 3, TIMEOUT)?;
    let payloads: Vec<_> = second.iter().map(|r| r.payload.clone()).collect();
    assert_eq!(
        payloads,
        vec![Some(b"second".to_vec()); 3],
        "resumed after commit"
    );
    Ok(())
}

#[test]
fn compacted_topics_can_be_created() -> anyhow::Result<()> {
    let broker = Broker::start()?;
    let bootstrap = broker.bootstrap();
    broker.create_topics(&[("changelog-a", 1), ("changelog-b", 4)], true)?;
    // Idempotent: creating again is fine.
    broker.create_topics(&[("changelog-a", 1)], true)?;
    assert_eq!(partition_count(&bootstrap, "changelog-a")?, Some(1));
    assert_eq!(partition_count(&bootstrap, "changelog-b")?, Some(4));

    // Report (not assert) whether the broker kept the config.
    let admin: AdminClient<DefaultClientContext> = client_config(&bootstrap).create()?;
    let described = futures::executor::block_on(admin.describe_configs(
        &[ResourceSpecifier::Topic("changelog-a")],
        &AdminOptions::new().request_timeout(Some(Duration::from_secs(10))),
    ));
    match described {
        Ok(results) => {
            for result in results {
                match result {
                    Ok(resource) => eprintln!(
                        "changelog-a cleanup.policy = {:?}",
                        resource.get("cleanup.policy").and_then(|e| e.value.clone())
                    ),
                    Err(err) => eprintln!("DescribeConfigs failed for changelog-a: {err}"),
                }
            }
        }
        Err(err) => eprintln!("DescribeConfigs request failed: {err}"),
    }

    // Keyed updates and tombstones round-trip on a compacted topic.
    let producer = Producer::new(&bootstrap)?;
    producer.send("changelog-a", Some(b"order-1"), Some(b"v1"), &[])?;
    producer.send("changelog-a", Some(b"order-1"), Some(b"v2"), &[])?;
    producer.send("changelog-a", Some(b"order-1"), None, &[])?;
    let records = wismo_e2e::consume_records(&bootstrap, "changelog-a", 3, TIMEOUT)?;
    let payloads: Vec<_> = records.iter().map(|r| r.payload.clone()).collect();
    assert_eq!(
        payloads,
        vec![Some(b"v1".to_vec()), Some(b"v2".to_vec()), None]
    );
    Ok(())
}

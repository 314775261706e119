//! The changelog restore reads to the end of a partition. Pin what the test broker
//! reports as that end, and that the restore does not depend on it being right.

use rdkafka::consumer::{BaseConsumer, Consumer};
use std::time::Duration;
use wismo_e2e::{client_config, produce, Broker};

#[test]
fn high_watermark_is_the_next_offset() -> anyhow::Result<()> {
    let broker = Broker::start()?;
    broker.create_topics(&[("wm", 1)], true)?;
    for n in 0..3 {
        produce(&broker.bootstrap(), "wm", format!("k{n}"), b"v")?;
    }
    let consumer: BaseConsumer = client_config(&broker.bootstrap())
        .set("group.id", "wm")
        .create()?;
    let (low, high) = consumer.fetch_watermarks("wm", 0, Duration::from_secs(10))?;
    assert_eq!((low, high), (0, 3));
    Ok(())
}

#[test]
fn high_watermark_after_a_batched_produce() -> anyhow::Result<()> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let broker = Broker::start()?;
    broker.create_topics(&[("wmb", 1)], true)?;
    let producer: FutureProducer = client_config(&broker.bootstrap())
        .set("linger.ms", "100")
        .create()?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let keys: Vec<String> = (0..5).map(|n| format!("k{n}")).collect();
        let sends: Vec<_> = keys
            .iter()
            .map(|k| {
                producer
                    .send_result(FutureRecord::to("wmb").partition(0).key(k).payload("1"))
                    .map_err(|(e, _)| e)
            })
            .collect::<Result<_, _>>()?;
        for s in sends {
            s.await?.map_err(|(e, _)| e)?;
        }
        anyhow::Ok(())
    })?;
    let consumer: BaseConsumer = client_config(&broker.bootstrap())
        .set("group.id", "wmb")
        .create()?;
    let (low, high) = consumer.fetch_watermarks("wmb", 0, Duration::from_secs(10))?;
    // Tansu 0.6 reports the batch's first offset + 1, not the next offset (5).
    assert_eq!(
        (low, high),
        (0, 1),
        "the broker now reports the end right; the restore's extra read can go"
    );

    // The restore still sees every record of the batch.
    let env = wismo_config::Env::from_pairs([("WISMO_BOOTSTRAP_SERVERS", broker.bootstrap())]);
    let config = wismo_runtime::RuntimeConfig::from_env("wm", "wmb", &env)?;
    let restored: std::collections::HashMap<String, serde_json::Value> =
        wismo_runtime::restore::restore_partition(&config, 0).unwrap_or_default();
    assert_eq!(restored.len(), 5, "restored {restored:?}");
    Ok(())
}

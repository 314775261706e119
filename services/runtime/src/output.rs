//! Producing a batch's records and waiting until every one is acknowledged.

use anyhow::Context;
use futures::future::join_all;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use wismo_core::model::Timestamp;

/// One record to write: topic, explicit partition (changelog) or key hashing, key,
/// value (`None` is a tombstone) and the record timestamp.
pub(crate) struct Outgoing<'a> {
    pub topic: &'a str,
    pub partition: Option<i32>,
    pub key: &'a str,
    pub payload: Option<&'a [u8]>,
    pub timestamp: Option<Timestamp>,
}

pub(crate) async fn produce_all<'a>(
    producer: &FutureProducer,
    records: impl Iterator<Item = Outgoing<'a>>,
) -> anyhow::Result<()> {
    let mut inflight: Vec<DeliveryFuture> = Vec::new();
    for r in records {
        loop {
            let mut record: FutureRecord<'_, str, [u8]> = FutureRecord::to(r.topic).key(r.key);
            if let Some(p) = r.partition {
                record = record.partition(p);
            }
            if let Some(bytes) = r.payload {
                record = record.payload(bytes);
            }
            if let Some(t) = r.timestamp {
                record = record.timestamp(t.timestamp_millis());
            }
            match producer.send_result(record) {
                Ok(fut) => {
                    inflight.push(fut);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    // Local queue full: wait for what is in flight, then retry.
                    await_deliveries(std::mem::take(&mut inflight)).await?;
                }
                Err((e, _)) => return Err(e).context(format!("producing to {}", r.topic)),
            }
        }
    }
    await_deliveries(inflight).await
}

async fn await_deliveries(futures: Vec<DeliveryFuture>) -> anyhow::Result<()> {
    for result in join_all(futures).await {
        match result {
            Ok(Ok(_)) => {}
            Ok(Err((e, _))) => return Err(e).context("a produced record was not acknowledged"),
            Err(_) => anyhow::bail!("the producer dropped a delivery before acknowledging it"),
        }
    }
    Ok(())
}

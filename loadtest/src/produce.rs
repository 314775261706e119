//! Producing many records without waiting for each, and awaiting their
//! acknowledgements at once.

use anyhow::Context;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

/// Sends `record`; while the producer's queue is full, waits for what is in
/// flight first.
pub fn send(
    producer: &FutureProducer,
    mut record: FutureRecord<'_, str, [u8]>,
    in_flight: &mut Vec<DeliveryFuture>,
) -> anyhow::Result<()> {
    loop {
        match producer.send_result(record) {
            Ok(delivery) => {
                in_flight.push(delivery);
                return Ok(());
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                await_acks(in_flight)?;
            }
            Err((e, _)) => return Err(e).context("producing a record"),
        }
    }
}

/// Waits for every delivery in `in_flight`; fails on the first one refused.
pub fn await_acks(in_flight: &mut Vec<DeliveryFuture>) -> anyhow::Result<()> {
    let acks = futures::executor::block_on(futures::future::join_all(in_flight.drain(..)));
    for ack in acks {
        ack.context("producer dropped a delivery")?
            .map_err(|(e, _)| e)
            .context("write not acknowledged")?;
    }
    Ok(())
}

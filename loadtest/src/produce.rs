//! Awaiting many produce acknowledgements at once.

use anyhow::Context;
use rdkafka::producer::DeliveryFuture;

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

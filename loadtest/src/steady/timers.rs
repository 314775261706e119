//! Open timers without millions of input events: before the services start, N
//! order states are written to the order-tracker's changelog, as the tracker
//! writes them (`wismo_engine::changelog::entry` of `encode_state`, the current
//! format, with an empty position: nothing of the run's input decided), keyed by
//! order id and partitioned as its input is (the Java client's partitioner), so
//! each restores into the task that owns its key. The tracker restores them on
//! assignment and arms one timer per order.
//!
//! Each state is an order placed an hour before the run and not yet shipped,
//! made by the real decision core (`tracker::decide` of its placed event, then
//! `tracker::on_timer` at every deadline up to now: the confirmation went out).
//! Its armed timer is the promised delivery date's end, days away: due after the
//! run, so it costs the tracker memory and a place in its deadline index but
//! never fires. Small states (no shipment, no scans), so a million fit the heap.

use crate::produce::{self, await_acks};
use anyhow::{ensure, Context};
use chrono::Duration as TimeDelta;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use std::time::Instant;
use wismo_codec::subjects::ORDER_STATE;
use wismo_core::model::{
    ChannelKind, ContactChannel, Customer, Item, OrderEvent, OrderPlaced, Timestamp,
};
use wismo_core::tracker::{self, OrderState, TrackerConfig, TrackerInput};
use wismo_engine::changelog::{self, Position};

/// States whose heap is measured before writing.
const HEAP_SAMPLE: u64 = 10_000;

/// What was written.
#[derive(Debug)]
pub struct Written {
    pub states: u64,
    pub bytes: u64,
    /// The earliest armed deadline among them.
    pub earliest_deadline: Timestamp,
    /// Rust heap held per decoded state, over a sample ([`HEAP_SAMPLE`]).
    pub heap_per_state: f64,
    pub seconds: f64,
}

/// Order `n`'s state: placed at `placed_at`, confirmed, not shipped.
fn state(
    config: &TrackerConfig,
    n: u64,
    placed_at: Timestamp,
    now: Timestamp,
) -> anyhow::Result<OrderState> {
    let order_id = format!("steady-open-{n:08}");
    let event = OrderEvent {
        event_id: format!("{order_id}-placed"),
        order_id: order_id.clone(),
        occurred_at: placed_at,
        placed: Some(OrderPlaced {
            customer: Customer {
                customer_id: format!("steady-cust-{n:08}"),
                locale: "en-US".into(),
                timezone: "America/Chicago".into(),
                channels: vec![ContactChannel {
                    kind: ChannelKind::Email,
                    transactional_consent: true,
                    marketing_consent: false,
                }],
            },
            items: vec![Item {
                sku: format!("sku-{}", 1_000 + n % 9_000),
                category: "home".into(),
                quantity: 1,
            }],
            promised_delivery_date: Some(placed_at.date_naive() + TimeDelta::days(7)),
            destination_country: Some("US".into()),
        }),
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    };
    let step = tracker::decide(
        config,
        None,
        &order_id,
        TrackerInput::Order(event),
        placed_at,
    );
    let mut state = step.state.context("a placed order keeps its state")?;
    // Fire what came due before the run, as the tracker did then.
    while let Some(due) = tracker::next_deadline(config, &state).filter(|d| *d <= now) {
        state = tracker::on_timer(config, state, due)
            .state
            .context("a placed order outlives its confirmation")?;
    }
    Ok(state)
}

/// Writes `count` states to `topic`; every one must have a deadline after
/// `horizon` (the run's end), else the run would measure them firing.
pub fn write(
    bootstrap: &str,
    topic: &str,
    count: u64,
    config: &TrackerConfig,
    horizon: Timestamp,
) -> anyhow::Result<Written> {
    let started = Instant::now();
    let now = chrono::Utc::now();
    let placed_at = now - TimeDelta::hours(1);
    let heap_per_state = heap_per_state(config, placed_at, now)?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "20")
        .set("compression.type", "lz4")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "200000")
        .set("acks", "all")
        .set("message.timeout.ms", "300000")
        .create()
        .context("creating the changelog producer")?;
    let position = Position::new(Vec::new());
    let mut out = Written {
        states: 0,
        bytes: 0,
        earliest_deadline: Timestamp::MAX_UTC,
        heap_per_state,
        seconds: 0.0,
    };
    let mut in_flight: Vec<DeliveryFuture> = Vec::new();
    for n in 0..count {
        let state = state(config, n, placed_at, now)?;
        let deadline = tracker::next_deadline(config, &state)
            .with_context(|| format!("{} has no timer", state.order_id))?;
        ensure!(
            deadline > horizon,
            "{}'s timer is due at {deadline}, before the run ends ({horizon})",
            state.order_id
        );
        out.earliest_deadline = out.earliest_deadline.min(deadline);
        let payload = changelog::entry(
            &position,
            &changelog::encode_state(ORDER_STATE, &state).context("encoding a state")?,
        );
        out.bytes += payload.len() as u64;
        let record = FutureRecord::to(topic)
            .key(state.order_id.as_str())
            .payload(payload.as_slice());
        produce::send(&producer, record, &mut in_flight).context("producing a state")?;
        if in_flight.len() >= 50_000 {
            await_acks(&mut in_flight)?;
        }
        out.states += 1;
        if (n + 1) % 200_000 == 0 {
            eprintln!(
                "steady: {} states written ({:.0}s)",
                n + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    await_acks(&mut in_flight)?;
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// The heap a decoded state holds, as the tracker holds it after a restore:
/// decoded from its changelog entry (the key's `String` beside it).
fn heap_per_state(
    config: &TrackerConfig,
    placed_at: Timestamp,
    now: Timestamp,
) -> anyhow::Result<f64> {
    let entries: Vec<Vec<u8>> = (0..HEAP_SAMPLE)
        .map(|n| {
            let s = state(config, n, placed_at, now)?;
            Ok(changelog::entry(
                &Position::new(Vec::new()),
                &changelog::encode_state(ORDER_STATE, &s).context("encoding a state")?,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let before = crate::alloc::live_bytes();
    let held: Vec<(String, OrderState)> = entries
        .iter()
        .map(|e| {
            let s: OrderState = changelog::decode(ORDER_STATE, e, "sample", 0, 0)?;
            Ok((s.order_id.clone(), s))
        })
        .collect::<anyhow::Result<_>>()?;
    let after = crate::alloc::live_bytes();
    let per = (after - before) as f64 / held.len() as f64;
    drop(held);
    Ok(per)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placed_order_is_confirmed_and_waits_for_days() {
        let config = TrackerConfig::default();
        let now = chrono::Utc::now();
        let s = state(&config, 7, now - TimeDelta::hours(1), now).unwrap();
        assert!(s.confirmation.sent || s.confirmation.due.is_none());
        assert!(s.shipments.is_empty());
        let d = tracker::next_deadline(&config, &s).unwrap();
        assert!(d > now + TimeDelta::days(1), "{d}");
    }
}

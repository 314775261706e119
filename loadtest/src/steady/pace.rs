//! The paced live flow: orders started evenly, each with the chaos run's story
//! (`chaos::story`: milestones, parcels never picked up, stuck, presumed lost or
//! back on track, exceptions, failed attempts), and every input record sent
//! through one `governor` rate limiter of `rate` records per second, keyed as a
//! shop and the carriers would (order id, tracking number, the Java client's
//! partitioner).
//!
//! Unlike the chaos load, nothing is produced ahead of its time: each record's
//! Kafka timestamp is the instant it is handed to the producer, as a shop's
//! client stamps it, so "produce time" is that timestamp and the services see
//! live input. The produce times of every order's inputs are kept for matching
//! the commands to what caused them ([`super::latency`]).

use crate::chaos::story::story;
use anyhow::Context;
use chrono::Duration as TimeDelta;
use governor::{Quota, RateLimiter};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use replay::Input;
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wismo_config::Topics;

/// The longest the loop waits for the next record to come due.
const TICK: Duration = Duration::from_millis(20);
/// Orders sampled to learn how many records a story has on average.
const SAMPLE: u64 = 2_000;

/// What to produce, and where.
pub struct Plan {
    pub bootstrap: String,
    pub topics: Topics,
    pub seed: u64,
    /// Input records per second.
    pub rate: u32,
    pub load: Duration,
}

/// What the load produced.
#[derive(Debug, Default)]
pub struct Produced {
    pub records: u64,
    pub orders: u64,
    /// Wall seconds from the first record to the last acknowledgement.
    pub seconds: f64,
    /// Produce times (epoch ms, the records' timestamps) of each order's inputs,
    /// ascending, by order id.
    pub inputs: HashMap<String, Vec<i64>>,
    /// The latest record timestamp produced (epoch ms).
    pub last_ts: i64,
    /// The longest a record waited past its planned time for the limiter (ms).
    pub worst_wait_ms: i64,
}

pub struct Load {
    pub sent: Arc<AtomicU64>,
    thread: JoinHandle<anyhow::Result<Produced>>,
}

/// Mean input records of a story, over the first [`SAMPLE`] orders of `seed`.
pub fn records_per_order(seed: u64) -> f64 {
    let at = chrono::Utc::now();
    let total: usize = (0..SAMPLE).map(|n| story(seed, n, at).len()).sum();
    total as f64 / SAMPLE as f64
}

impl Load {
    pub fn start(plan: Plan) -> anyhow::Result<Load> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &plan.bootstrap)
            .set("partitioner", "murmur2_random")
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "120000")
            .create()
            .context("creating the load's producer")?;
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let thread = std::thread::Builder::new()
            .name("steady-load".into())
            .spawn(move || pace(&plan, &producer, &counter))?;
        Ok(Load { sent, thread })
    }

    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    pub fn join(self) -> anyhow::Result<Produced> {
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the load thread panicked"))?
    }
}

fn pace(plan: &Plan, producer: &FutureProducer, sent: &AtomicU64) -> anyhow::Result<Produced> {
    let rate = NonZeroU32::new(plan.rate).context("--rate must be positive")?;
    // Bursts of up to one second's worth pass (the stories' own timing); past
    // that the limiter holds records back, so the flow never exceeds the rate.
    let limiter = RateLimiter::direct(Quota::per_second(rate));
    let per_order = records_per_order(plan.seed);
    let orders = ((plan.rate as f64 * plan.load.as_secs_f64()) / per_order).round() as u64;
    let gap_ms = plan.load.as_millis() as f64 / orders.max(1) as f64;
    eprintln!(
        "steady: {orders} orders ({per_order:.2} records each on average), one every {gap_ms:.1} ms"
    );
    let started = Instant::now();
    let start = chrono::Utc::now();
    let mut next_order = 0u64;
    // Records still to send by (planned ms since the start, sequence).
    let mut pending: BTreeMap<(i64, u64), (u64, Input)> = BTreeMap::new();
    let mut seq = 0u64;
    let mut out = Produced::default();
    let mut in_flight: Vec<DeliveryFuture> = Vec::new();
    loop {
        let now_ms = started.elapsed().as_millis() as i64;
        while next_order < orders && (next_order as f64 * gap_ms) as i64 <= now_ms {
            let placed = start + TimeDelta::milliseconds((next_order as f64 * gap_ms) as i64);
            for (at, input) in story(plan.seed, next_order, placed) {
                let planned = (at - start).num_milliseconds();
                pending.insert((planned, seq), (next_order, input));
                seq += 1;
            }
            next_order += 1;
        }
        while let Some(entry) = pending.first_entry() {
            if entry.key().0 > started.elapsed().as_millis() as i64 {
                break;
            }
            let ((planned, _), (_, input)) = entry.remove_entry();
            futures::executor::block_on(limiter.until_ready());
            let (topic, key, payload) = input.record(&plan.topics);
            // The produce time: the record's timestamp and the instant it is sent.
            let ts = chrono::Utc::now().timestamp_millis();
            let delivery = producer
                .send_result(
                    FutureRecord::to(&topic)
                        .key(key.as_bytes())
                        .payload(&payload)
                        .timestamp(ts),
                )
                .map_err(|(e, _)| e)
                .context("producing an input record")?;
            in_flight.push(delivery);
            let order_id = match &input {
                Input::Order(e) => e.order_id.clone(),
                // The story's tracking numbers carry the order number.
                Input::Scan(s) => order_of_tracking(&s.tracking_number)
                    .with_context(|| format!("tracking number {}", s.tracking_number))?,
            };
            out.inputs.entry(order_id).or_default().push(ts);
            out.records += 1;
            out.last_ts = out.last_ts.max(ts);
            out.worst_wait_ms = out
                .worst_wait_ms
                .max(ts - (start.timestamp_millis() + planned));
            sent.fetch_add(1, Ordering::Relaxed);
        }
        crate::produce::await_acks(&mut in_flight)?;
        out.orders = next_order;
        if next_order == orders && pending.is_empty() {
            out.seconds = started.elapsed().as_secs_f64();
            return Ok(out);
        }
        // Pacing, not synchronisation: the next record or order is due later.
        let next_due = pending
            .first_key_value()
            .map(|((p, _), _)| *p)
            .into_iter()
            .chain((next_order < orders).then_some((next_order as f64 * gap_ms) as i64))
            .min()
            .unwrap_or(0);
        let wait =
            (next_due - started.elapsed().as_millis() as i64).clamp(0, TICK.as_millis() as i64);
        std::thread::sleep(Duration::from_millis(wait as u64));
    }
}

/// `chaos-0000042` from `UPS-0000042-1`: the story names parcels after their order.
fn order_of_tracking(tracking: &str) -> Option<String> {
    let mut parts = tracking.split('-');
    let (_carrier, n) = (parts.next()?, parts.next()?);
    Some(format!("chaos-{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parcels_map_to_their_orders() {
        let at = chrono::Utc::now();
        for (_, input) in story(1, 42, at) {
            if let Input::Scan(s) = input {
                assert_eq!(
                    order_of_tracking(&s.tracking_number).as_deref(),
                    Some("chaos-0000042")
                );
            }
        }
        assert!(records_per_order(1) > 3.0);
    }
}

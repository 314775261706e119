//! The backlog: N orders' input records from the generator the restore benchmark
//! uses, in Avro framing with the real codec, produced once to the input topics.
//!
//! Each record carries its arrival time as its Kafka timestamp, and the whole
//! timeline lies in the past, ending an hour before it is produced, so the
//! services decide it as a backlog: stream time follows record timestamps.

use super::replay::{replay, Replayed};
use crate::gen;
use anyhow::Context;
use chrono::Duration;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use replay::Input as PipelineInput;
use std::collections::BTreeMap;
use wismo_codec::{subjects, Codec};
use wismo_core::model::Timestamp;

/// Orders are placed this far apart: 8,640 a day.
const ORDER_GAP: Duration = Duration::seconds(10);
/// How long before it is produced the backlog's last record arrived.
const END_BEFORE_NOW: Duration = Duration::hours(1);

/// What was produced.
#[derive(Debug)]
pub struct Input {
    pub orders: u64,
    /// Records on the orders topic (placed and shipment-created events).
    pub order_events: u64,
    /// Of those, shipment-created events.
    pub shipments: u64,
    /// Records on the carrier-scans topic, resends included.
    pub scans: u64,
    pub bytes: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    /// What `replay` decides from the same events, run on to the moment the
    /// backlog was produced.
    pub replayed: Replayed,
    /// How far the generator's timeline was moved (to replay it again).
    pub shift: Duration,
}

impl Input {
    /// Input records in all.
    pub fn records(&self) -> u64 {
        self.order_events + self.scans
    }
}

/// One encoded input record.
struct Record {
    at: Timestamp,
    scan: bool,
    key: String,
    payload: Vec<u8>,
}

/// Generates `orders` orders, shifted so the last arrival is an hour ago, and
/// produces them in arrival order, keyed as a shop and a carrier would key them.
pub fn produce(
    bootstrap: &str,
    orders_topic: &str,
    scans_topic: &str,
    orders: u64,
    policy: &std::path::Path,
) -> anyhow::Result<Input> {
    // The generator places order n at its epoch + offset; find where the timeline
    // ends first, then generate again moved so it ends an hour before now.
    let unshifted_end = events(orders, Duration::zero())
        .map(|(at, _)| at)
        .max()
        .context("no events generated")?;
    let produced_at = chrono::Utc::now();
    // Whole days, so the generator's times of day (a van leaves in the morning)
    // land where they did: the timeline ends at most a day earlier than asked.
    let shift = Duration::days(((produced_at - END_BEFORE_NOW) - unshifted_end).num_days() - 1);

    let codec = Codec::default();
    let mut records = Vec::new();
    let (mut order_events, mut shipments, mut scans, mut bytes) = (0, 0, 0, 0);
    for (at, input) in events(orders, shift) {
        let record = match input {
            PipelineInput::Order(event) => {
                order_events += 1;
                shipments += u64::from(event.shipment_created.is_some());
                Record {
                    at,
                    scan: false,
                    payload: codec.encode(subjects::ORDER_EVENT, &event)?,
                    key: event.order_id,
                }
            }
            PipelineInput::Scan(scan) => {
                scans += 1;
                Record {
                    at,
                    scan: true,
                    payload: codec.encode(subjects::CARRIER_SCAN, &scan)?,
                    key: scan.tracking_number,
                }
            }
        };
        bytes += (record.key.len() + record.payload.len()) as u64;
        records.push(record);
    }
    records.sort_by_key(|r| r.at);
    let (first, last) = match (records.first(), records.last()) {
        (Some(f), Some(l)) => (f.at, l.at),
        _ => anyhow::bail!("no events generated"),
    };

    let producer = producer(bootstrap, "20")?;
    let mut ends = BTreeMap::new();
    for chunk in records.chunks(50_000) {
        send(&producer, chunk, (orders_topic, scans_topic), &mut ends)?;
    }
    let total = |topic: &str| -> i64 {
        ends.iter()
            .filter(|((t, _), _)| t == topic)
            .map(|(_, end)| *end)
            .sum()
    };
    anyhow::ensure!(
        total(orders_topic) == i64::try_from(order_events)?
            && total(scans_topic) == i64::try_from(scans)?,
        "the input partitions do not start at offset 0: {ends:?}"
    );
    let replayed = replay(events(orders, shift).collect(), produced_at, policy)?;
    Ok(Input {
        orders,
        order_events,
        shipments,
        scans,
        bytes,
        first,
        last,
        replayed,
        shift,
    })
}

impl Input {
    /// What replay decides for the backlog, run on to `until`.
    pub fn replay_until(
        &self,
        until: Timestamp,
        policy: &std::path::Path,
    ) -> anyhow::Result<Replayed> {
        replay(events(self.orders, self.shift).collect(), until, policy)
    }
}

/// Every event of orders `0..orders`, order n placed `shift + n * ORDER_GAP` after
/// the generator's epoch.
fn events(orders: u64, shift: Duration) -> impl Iterator<Item = (Timestamp, PipelineInput)> {
    (0..orders).flat_map(move |n| {
        let gap = ORDER_GAP * i32::try_from(n).unwrap_or(i32::MAX);
        gen::order_events(n, shift + gap)
    })
}

fn producer(bootstrap: &str, linger_ms: &str) -> anyhow::Result<FutureProducer> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        // The Java client's partitioner, as the README asks of publishers.
        .set("partitioner", "murmur2_random")
        .set("acks", "all")
        .set("linger.ms", linger_ms)
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "100000")
        .set("message.timeout.ms", "120000")
        .create()
        .context("creating producer")
}

/// Produces `records` and waits for every ack, recording in `ends` the offset
/// after the last record of each partition: where the services must reach.
fn send(
    producer: &FutureProducer,
    records: &[Record],
    (orders_topic, scans_topic): (&str, &str),
    ends: &mut BTreeMap<(String, i32), i64>,
) -> anyhow::Result<()> {
    let topic = |r: &Record| if r.scan { scans_topic } else { orders_topic };
    let mut in_flight: Vec<DeliveryFuture> = Vec::with_capacity(records.len());
    for r in records {
        let record = FutureRecord::to(topic(r))
            .key(r.key.as_bytes())
            .payload(&r.payload[..])
            .timestamp(r.at.timestamp_millis());
        let delivery = producer
            .send_result(record)
            .map_err(|(e, _)| e)
            .context("producing an input record")?;
        in_flight.push(delivery);
    }
    let acks = futures::executor::block_on(futures::future::join_all(in_flight));
    for (ack, r) in acks.into_iter().zip(records) {
        let delivery = ack
            .context("producer dropped a delivery")?
            .map_err(|(e, _)| e)
            .context("input record not acknowledged")?;
        let end = ends
            .entry((topic(r).to_string(), delivery.partition))
            .or_insert(0);
        *end = (delivery.offset + 1).max(*end);
    }
    Ok(())
}

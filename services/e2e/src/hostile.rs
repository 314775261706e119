//! Hostile input, as a broken 3PL integration sends it, for the hostile-input
//! tests and the `loadtest flood`: typed records to bend out of shape, the bytes
//! of records no typed value can hold (times past chrono's range, unknown schema
//! ids, truncated frames), and a producer that sends thousands of them at once.

use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use wismo_codec::apache_avro::{self, types::Value};
use wismo_codec::{frame, subjects, unframe, Codec, SchemaCatalog, SchemaRegistry};
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, Item, OrderEvent, OrderPlaced,
    ShipmentCreated,
};

/// One record to produce: the topic's real name, and the broker timestamp (epoch
/// ms) when it is not the producer's clock.
#[derive(Debug, Clone)]
pub struct Rec {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp: Option<i64>,
}

impl Rec {
    pub fn new(topic: &str, key: impl AsRef<[u8]>, value: Vec<u8>) -> Rec {
        Rec {
            topic: topic.to_string(),
            key: Some(key.as_ref().to_vec()),
            value: Some(value),
            timestamp: None,
        }
    }

    pub fn at(mut self, timestamp: i64) -> Rec {
        self.timestamp = Some(timestamp);
        self
    }
}

/// A producer for many records at once: batches, `acks=all`, the Java client's
/// partitioner (as publishers are asked to use).
pub fn bulk_producer(bootstrap: &str) -> anyhow::Result<FutureProducer> {
    crate::client_config(bootstrap)
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "200000")
        .set("message.max.bytes", "2000000")
        .set("message.timeout.ms", "120000")
        .create()
        .context("creating a bulk producer")
}

/// Produces `records` in order and waits for every ack; returns where each
/// landed, `(partition, offset)`.
pub fn send_all(producer: &FutureProducer, records: &[Rec]) -> anyhow::Result<Vec<(i32, i64)>> {
    let mut out = Vec::with_capacity(records.len());
    for chunk in records.chunks(50_000) {
        let mut in_flight: Vec<DeliveryFuture> = Vec::with_capacity(chunk.len());
        for r in chunk {
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&r.topic);
            if let Some(k) = &r.key {
                record = record.key(&k[..]);
            }
            if let Some(v) = &r.value {
                record = record.payload(&v[..]);
            }
            if let Some(t) = r.timestamp {
                record = record.timestamp(t);
            }
            let delivery = producer
                .send_result(record)
                .map_err(|(e, _)| e)
                .with_context(|| format!("enqueueing a record for {}", r.topic))?;
            in_flight.push(delivery);
        }
        let acks = futures::executor::block_on(futures::future::join_all(in_flight));
        for (ack, r) in acks.into_iter().zip(chunk) {
            let d = ack
                .map_err(|_| anyhow!("producer dropped a delivery"))?
                .map_err(|(e, _)| e)
                .with_context(|| format!("producing to {}", r.topic))?;
            out.push((d.partition, d.offset));
        }
    }
    Ok(out)
}

/// An order placed by its own customer (email, both consents), one item.
pub fn placed(order_id: &str, at: DateTime<Utc>) -> OrderEvent {
    OrderEvent {
        event_id: format!("{order_id}-placed"),
        order_id: order_id.into(),
        occurred_at: at,
        placed: Some(OrderPlaced {
            customer: Customer {
                customer_id: format!("c-{order_id}"),
                locale: "en-US".into(),
                timezone: "UTC".into(),
                channels: vec![ContactChannel {
                    kind: ChannelKind::Email,
                    transactional_consent: true,
                    marketing_consent: true,
                }],
            },
            items: vec![Item {
                sku: "sku-1".into(),
                category: "home".into(),
                quantity: 1,
            }],
            promised_delivery_date: None,
            destination_country: Some("US".into()),
        }),
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    }
}

/// Shipment `<order>-s1` of the order, on the generic carrier.
pub fn shipment(order_id: &str, tracking: &str, at: DateTime<Utc>) -> OrderEvent {
    OrderEvent {
        event_id: format!("{order_id}-s1"),
        order_id: order_id.into(),
        occurred_at: at,
        placed: None,
        shipment_created: Some(ShipmentCreated {
            shipment_id: format!("{order_id}-s1"),
            tracking_number: tracking.into(),
            carrier: "generic".into(),
            service_level: None,
            origin_country: Some("US".into()),
            skus: vec!["sku-1".into()],
        }),
        cancelled: None,
        return_requested: None,
    }
}

/// A scan with a generic-table code (`label_created`, `picked_up`, `delivered`, ...).
pub fn scan(tracking: &str, scan_id: &str, code: &str, at: DateTime<Utc>) -> CarrierScan {
    CarrierScan {
        scan_id: scan_id.into(),
        tracking_number: tracking.into(),
        carrier: "generic".into(),
        raw_status: code.into(),
        raw_status_detail: None,
        description: None,
        occurred_at: at,
        location: None,
        carrier_edd: None,
        order_id: None,
    }
}

/// An order event as a shop publishes it: Avro, Confluent framing.
pub fn order_bytes(event: &OrderEvent) -> anyhow::Result<Vec<u8>> {
    Ok(Codec::default().encode(subjects::ORDER_EVENT, event)?)
}

/// A scan as a carrier publishes it.
pub fn scan_bytes(scan: &CarrierScan) -> anyhow::Result<Vec<u8>> {
    Ok(Codec::default().encode(subjects::CARRIER_SCAN, scan)?)
}

/// `framed` (a record of its schema) with one top-level field set to `value`, as
/// no typed record could hold it: `occurred_at` at `i64::MAX`, say. A field under a
/// union is given as the branch's value (`Value::Date(i32::MAX)`); it is wrapped.
pub fn with_field(framed: &[u8], field: &str, value: Value) -> anyhow::Result<Vec<u8>> {
    let (id, body) = unframe(framed)?;
    let schema = SchemaCatalog::builtin()
        .schema_by_id(id)
        .with_context(|| format!("no schema {id}"))?;
    let Value::Record(mut fields) = apache_avro::from_avro_datum(schema, &mut &body[..], None)?
    else {
        anyhow::bail!("schema {id} is not a record");
    };
    let slot = fields
        .iter_mut()
        .find(|(name, _)| name == field)
        .with_context(|| format!("no field {field}"))?;
    slot.1 = match &slot.1 {
        Value::Union(_, _) => Value::Union(1, Box::new(value)),
        _ => value,
    };
    let body = apache_avro::to_avro_datum(schema, Value::Record(fields))?;
    Ok(frame(id, &body))
}

/// `framed` with the schema id of its header replaced by one nobody registered.
pub fn unknown_schema(framed: &[u8]) -> Vec<u8> {
    let mut out = framed.to_vec();
    if out.len() >= 5 {
        out[1..5].copy_from_slice(&9_999u32.to_be_bytes());
    }
    out
}

/// `framed` cut off before its end.
pub fn truncated(framed: &[u8]) -> Vec<u8> {
    framed[..framed.len() * 2 / 3].to_vec()
}

/// Deterministic noise (SplitMix64 of `seed`), `len` bytes.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

/// Instants a record's value may name that no valid record does: the ends of an
/// Avro long, of chrono's range, and just past year 9999 (epoch ms).
pub const HOSTILE_MILLIS: [i64; 5] = [
    i64::MAX,
    i64::MIN,
    8_210_266_876_799_999,
    -8_334_601_228_800_000,
    253_402_300_800_000,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_set_past_chrono_is_refused_by_the_codec_and_the_rest_still_decodes() {
        let now = Utc::now();
        let framed = scan_bytes(&scan("T1", "s1", "picked_up", now)).unwrap();
        let codec = Codec::default();
        for millis in HOSTILE_MILLIS {
            let bad = with_field(&framed, "occurred_at", Value::TimestampMillis(millis)).unwrap();
            let err = codec
                .decode::<CarrierScan>(subjects::CARRIER_SCAN, &bad)
                .unwrap_err();
            assert!(
                err.to_string().contains("outside years 0000 to 9999"),
                "{err}"
            );
        }
        let same = with_field(
            &framed,
            "occurred_at",
            Value::TimestampMillis(now.timestamp_millis()),
        )
        .unwrap();
        assert_eq!(same, framed);
        let edd = with_field(&framed, "carrier_edd", Value::Date(i32::MAX)).unwrap();
        assert!(codec
            .decode::<CarrierScan>(subjects::CARRIER_SCAN, &edd)
            .is_err());
    }

    #[test]
    fn broken_frames_do_not_decode() {
        let framed = order_bytes(&placed("o-1", Utc::now())).unwrap();
        let codec = Codec::default();
        for bad in [unknown_schema(&framed), truncated(&framed), noise(7, 300)] {
            assert!(codec
                .decode::<OrderEvent>(subjects::ORDER_EVENT, &bad)
                .is_err());
        }
        assert_eq!(noise(7, 16), noise(7, 16));
    }
}

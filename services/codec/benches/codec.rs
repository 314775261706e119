//! The cost of one framed record through the codec, per subject on the hot path:
//! decode (`Codec::decode`, framing, structural check and conversion to the model
//! type included) and encode (`Codec::encode`). Also a carrier scan written with an
//! older schema version (v1), which goes through schema resolution. `decode_general`
//! and `encode_general` are the ways every record was decoded and encoded before
//! the direct paths (`Codec::decode_general`, `Codec::encode_general`: apache-avro),
//! measured in the same run for the ratio.
//!
//! `cargo bench -p wismo-codec --bench codec`; figures in `docs/performance.md`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;
use wismo_codec::{apache_avro, frame, history_id, subjects, Codec};
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, Item, Milestone, NotificationCommand,
    OrderEvent, OrderPlaced, RoutedScan, ScanLocation, Timestamp,
};

fn ts(ms: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_millis(ms).expect("a valid time")
}

/// A scan as a carrier integration sends one: every optional field but the detail.
fn scan() -> CarrierScan {
    CarrierScan {
        scan_id: "ups-1Z999AA10123456784-0004".into(),
        tracking_number: "1Z999AA10123456784".into(),
        carrier: "ups".into(),
        raw_status: "OT".into(),
        raw_status_detail: None,
        description: Some("Out for delivery today".into()),
        occurred_at: ts(1_709_896_200_789),
        location: Some(ScanLocation {
            city: Some("Chicago".into()),
            postal_code: Some("60601".into()),
            country: Some("US".into()),
        }),
        carrier_edd: chrono::NaiveDate::from_ymd_opt(2024, 3, 8),
        order_id: None,
    }
}

fn placed() -> OrderEvent {
    OrderEvent {
        event_id: "evt-1001".into(),
        order_id: "ord-1001".into(),
        occurred_at: ts(1_709_649_000_123),
        placed: Some(OrderPlaced {
            customer: Customer {
                customer_id: "cus-42".into(),
                locale: "en-US".into(),
                timezone: "America/Chicago".into(),
                channels: vec![ContactChannel {
                    kind: ChannelKind::Email,
                    transactional_consent: true,
                    marketing_consent: false,
                }],
            },
            items: vec![Item {
                sku: "SKU-RUN-42".into(),
                category: "shoes".into(),
                quantity: 1,
            }],
            promised_delivery_date: chrono::NaiveDate::from_ymd_opt(2024, 3, 8),
            destination_country: Some("US".into()),
        }),
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    }
}

fn command() -> NotificationCommand {
    NotificationCommand {
        command_id: "cmd-ord-1001-out_for_delivery-email".into(),
        order_id: "ord-1001".into(),
        customer_id: "cus-42".into(),
        shipment_id: Some("shp-1".into()),
        tracking_number: Some("1Z999AA10123456784".into()),
        milestone: Milestone::OutForDelivery,
        channel: ChannelKind::Email,
        template_key: "out_for_delivery.email".into(),
        locale: "en-US".into(),
        send_at: ts(1_709_899_200_000),
        decided_at: ts(1_709_896_201_002),
        variables: BTreeMap::from([
            ("carrier".to_string(), "UPS".to_string()),
            ("edd".to_string(), "2024-03-08".to_string()),
        ]),
        recipient_timezone: Some("America/Chicago".into()),
        recipient_country: Some("US".into()),
    }
}

fn pair<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    c: &mut Criterion,
    name: &str,
    subject: &str,
    value: &T,
) {
    let codec = Codec::default();
    let bytes = codec.encode(subject, value).expect("encodes");
    let back: T = codec.decode(subject, &bytes).expect("decodes");
    assert_eq!(&back, value);
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    group.bench_function("decode", |b| {
        b.iter(|| black_box(codec.decode::<T>(subject, black_box(&bytes)).unwrap()))
    });
    // The same record the general way (value tree, resolution), side by side.
    group.bench_function("decode_general", |b| {
        b.iter(|| {
            black_box(
                codec
                    .decode_general::<T>(subject, black_box(&bytes))
                    .unwrap(),
            )
        })
    });
    group.bench_function("encode", |b| {
        b.iter(|| black_box(codec.encode(subject, black_box(value)).unwrap()))
    });
    group.bench_function("encode_general", |b| {
        b.iter(|| black_box(codec.encode_general(subject, black_box(value)).unwrap()))
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    pair(c, "carrier_scan", subjects::CARRIER_SCAN, &scan());
    pair(c, "order_event", subjects::ORDER_EVENT, &placed());
    let routed = RoutedScan {
        order_id: "ord-1001".into(),
        scan: scan(),
    };
    pair(c, "routed_scan", subjects::ROUTED_SCAN, &routed);
    pair(
        c,
        "notification_command",
        subjects::NOTIFICATION_COMMAND,
        &command(),
    );

    // A scan from a publisher still on schema v1: resolved to the current schema.
    let codec = Codec::default();
    let catalog = codec.registry();
    let v1 = catalog
        .entry(history_id(2, 1))
        .expect("carrier_scan v1 is registered");
    let mut value = apache_avro::to_value(scan())
        .expect("a value")
        .resolve(&v1.schema)
        .expect("a scan fits v1");
    if let apache_avro::types::Value::Record(fields) = &mut value {
        fields.retain(|(name, _)| v1_fields(&v1.schema).contains(name));
    }
    let body = apache_avro::to_avro_datum(&v1.schema, value).expect("v1 body");
    let old = frame(v1.id, &body);
    codec
        .decode::<CarrierScan>(subjects::CARRIER_SCAN, &old)
        .expect("v1 decodes");
    let mut group = c.benchmark_group("carrier_scan_v1");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    group.bench_function("decode", |b| {
        b.iter(|| {
            black_box(
                codec
                    .decode::<CarrierScan>(subjects::CARRIER_SCAN, black_box(&old))
                    .unwrap(),
            )
        })
    });
    group.finish();
}

fn v1_fields(schema: &apache_avro::Schema) -> Vec<String> {
    match schema {
        apache_avro::Schema::Record(r) => r.fields.iter().map(|f| f.name.clone()).collect(),
        _ => Vec::new(),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Throughput of the pure decision core next to the cost of decoding its input.
//!
//! A generated stream of 1,000 orders (placed, 1-2 shipments, 4-6 carrier scans
//! each with real codes, some resends, exceptions and failed attempts) is fed through
//! [`Pipeline::feed`], and the same events are decoded from their Avro wire bytes
//! with [`Codec::decode`]. Both report elements (events) per second in one group, so
//! the decide/decode ratio is read off one run. A second group shows how the
//! in-memory pipeline slows down as it holds more orders at once.
//! `docs/performance.md` has figures.
//!
//! `cargo bench -p wismo-core --bench decide`

use chrono::{Duration, NaiveDate, TimeZone};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use wismo_codec::{subjects, Codec};
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, Item, OrderEvent, OrderPlaced, Origin,
    ScanLocation, ShipmentCreated, Timestamp,
};
use wismo_core::pipeline::{Pipeline, PipelineInput};
use wismo_core::tracker::TrackerConfig;

const ORDERS: u64 = 1_000;

/// SplitMix64: deterministic, seeded per order.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// `(carrier, label → delivered path, an exception, a failed attempt)`, codes from
/// `services/core/mappings/*.csv`.
const CARRIERS: [(&str, [&str; 6], &str, &str); 4] = [
    ("ups", ["MP", "PU", "AR", "DP", "OF", "D"], "DJ", "48"),
    ("fedex", ["OC", "PU", "AR", "DP", "OD", "DL"], "CD", "SE"),
    ("usps", ["GX", "03", "10", "EF", "OF", "01"], "WX", "02"),
    (
        "generic",
        [
            "label_created",
            "picked_up",
            "arrived_at_facility",
            "departed_facility",
            "out_for_delivery",
            "delivered",
        ],
        "damaged",
        "recipient_not_available",
    ),
];

fn epoch() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// Order `n`'s events as `(arrival, input)`, placed two minutes after order `n - 1`.
fn order_events(n: u64) -> Vec<(Timestamp, PipelineInput)> {
    let mut rng = Rng(n ^ 0x5DEE_CE66_D1CE_4E5B);
    let order = format!("order-{n:09}");
    let placed_at = epoch() + Duration::minutes(2 * n as i64);
    let lag = |rng: &mut Rng| Duration::seconds(rng.range(5, 600) as i64);
    let items: Vec<Item> = (0..rng.range(1, 2))
        .map(|k| Item {
            sku: format!("sku-{}", rng.range(1000, 99_999) + k),
            category: "apparel".into(),
            quantity: 1,
        })
        .collect();
    let promised = placed_at.date_naive() + Duration::days(rng.range(4, 6) as i64);
    let mut out = vec![(
        placed_at + lag(&mut rng),
        PipelineInput::Order(OrderEvent {
            event_id: format!("{order}-placed"),
            order_id: order.clone(),
            occurred_at: placed_at,
            placed: Some(OrderPlaced {
                customer: Customer {
                    customer_id: format!("cust-{n}"),
                    locale: "en-US".into(),
                    timezone: "America/Chicago".into(),
                    channels: vec![ContactChannel {
                        kind: ChannelKind::Email,
                        transactional_consent: true,
                        marketing_consent: rng.chance(50),
                    }],
                },
                items: items.clone(),
                promised_delivery_date: Some(promised),
                destination_country: Some("US".into()),
            }),
            shipment_created: None,
            cancelled: None,
            return_requested: None,
        }),
    )];
    let shipments = rng.range(1, 2) as usize;
    let total_scans = rng.range(4, 6) as usize;
    for s in 0..shipments {
        let (carrier, path, exception, attempt) = CARRIERS[rng.next() as usize % CARRIERS.len()];
        let tracking = format!("{}-{n:09}-{s}", carrier.to_uppercase());
        let created_at = placed_at + Duration::hours(3 + s as i64);
        out.push((
            created_at + lag(&mut rng),
            PipelineInput::Order(OrderEvent {
                event_id: format!("{order}-s{s}-created"),
                order_id: order.clone(),
                occurred_at: created_at,
                placed: None,
                shipment_created: Some(ShipmentCreated {
                    shipment_id: format!("{order}-s{s}"),
                    tracking_number: tracking.clone(),
                    carrier: carrier.into(),
                    service_level: Some("ground".into()),
                    origin_country: Some("US".into()),
                    skus: vec![items[s.min(items.len() - 1)].sku.clone()],
                }),
                cancelled: None,
                return_requested: None,
            }),
        ));
        let count = match (shipments, s) {
            (1, _) => total_scans,
            (_, 0) => total_scans / 2,
            _ => total_scans - total_scans / 2,
        };
        let codes: Vec<&str> = match rng.range(0, 99) {
            0..=59 => path[6 - count..].to_vec(),
            60..=79 => path[..count].to_vec(),
            80..=91 => [&path[..count - 1], &[exception]].concat(),
            _ => [&path[..count - 1], &[attempt]].concat(),
        };
        let edd: NaiveDate = promised + Duration::days(if rng.chance(15) { 2 } else { 0 });
        let mut at = created_at + Duration::hours(rng.range(2, 8) as i64);
        for (k, code) in codes.into_iter().enumerate() {
            let scan = CarrierScan {
                scan_id: format!("{tracking}-{k}"),
                tracking_number: tracking.clone(),
                carrier: carrier.into(),
                raw_status: code.into(),
                raw_status_detail: None,
                description: Some(format!("{carrier} scan {code}")),
                occurred_at: at,
                location: Some(ScanLocation {
                    city: Some("Memphis".into()),
                    postal_code: Some("38118".into()),
                    country: Some("US".into()),
                }),
                carrier_edd: (k == 1).then_some(edd),
                order_id: None,
            };
            let arrival = at + lag(&mut rng);
            if rng.chance(8) {
                out.push((
                    arrival + Duration::minutes(30),
                    PipelineInput::Scan(scan.clone()),
                ));
            }
            out.push((arrival, PipelineInput::Scan(scan)));
            at += Duration::hours(rng.range(4, 14) as i64);
        }
    }
    out
}

fn origin() -> Origin {
    Origin {
        topic: "bench".into(),
        partition: 0,
        offset: 0,
    }
}

/// Feeds `events` (sorted by arrival) through one pipeline and runs the clock two
/// hours past the last, so coalesced milestones go out and incidents are judged.
fn run(configs: (MatcherConfig, TrackerConfig), events: Vec<(Timestamp, PipelineInput)>) -> usize {
    let start = epoch() - Duration::minutes(1);
    let last = events.last().map_or(start, |(at, _)| *at);
    let mut pipeline = Pipeline::new(configs.0, configs.1, start);
    let origin = origin();
    for (at, input) in events {
        pipeline.feed(at, input, origin.clone());
    }
    pipeline.advance_to(last + Duration::hours(2));
    pipeline.drain().len()
}

fn bench(c: &mut Criterion) {
    let per_order: Vec<Vec<(Timestamp, PipelineInput)>> = (0..ORDERS)
        .map(|n| {
            let mut events = order_events(n);
            events.sort_by_key(|(at, _)| *at);
            events
        })
        .collect();
    let stream: Vec<_> = per_order.iter().flatten().cloned().collect();
    let configs = (MatcherConfig::default(), TrackerConfig::default());

    let codec = Codec::default();
    let wire: Vec<(bool, Vec<u8>)> = stream
        .iter()
        .map(|(_, input)| match input {
            PipelineInput::Order(e) => (true, codec.encode(subjects::ORDER_EVENT, e).unwrap()),
            PipelineInput::Scan(s) => (false, codec.encode(subjects::CARRIER_SCAN, s).unwrap()),
        })
        .collect();

    let scans = stream
        .iter()
        .filter(|(_, i)| matches!(i, PipelineInput::Scan(_)))
        .count();
    eprintln!(
        "{ORDERS} orders: {} events ({} order events, {scans} scans), {} Avro bytes",
        stream.len(),
        stream.len() - scans,
        wire.iter().map(|(_, b)| b.len()).sum::<usize>()
    );

    let mut group = c.benchmark_group("decide_vs_decode");
    group
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4))
        .throughput(Throughput::Elements(stream.len() as u64));
    // Every order's events through a pipeline of its own: the decisions, timers and
    // routing of the core, as a keyed service runs them per record.
    group.bench_function("decide/pipeline_feed_per_order", |b| {
        b.iter_batched(
            || per_order.clone(),
            |orders| {
                let total: usize = orders
                    .into_iter()
                    .map(|events| run(configs.clone(), events))
                    .sum();
                black_box(total)
            },
            BatchSize::LargeInput,
        )
    });
    // The same events from their Avro wire bytes.
    group.bench_function("decode/avro", |b| {
        b.iter(|| {
            for (is_order, bytes) in &wire {
                if *is_order {
                    black_box(
                        codec
                            .decode::<OrderEvent>(subjects::ORDER_EVENT, bytes)
                            .unwrap(),
                    );
                } else {
                    black_box(
                        codec
                            .decode::<CarrierScan>(subjects::CARRIER_SCAN, bytes)
                            .unwrap(),
                    );
                }
            }
        })
    });
    group.finish();

    // Many orders in one pipeline, interleaved by arrival, as `replay` and the
    // scenario tests use it: the pipeline looks for its next timer by scanning every
    // state on each event, so the cost per event grows with the orders it holds.
    let mut group = c.benchmark_group("pipeline_shared");
    group
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4));
    for orders in [50, 200] {
        let mut events: Vec<_> = per_order[..orders].iter().flatten().cloned().collect();
        events.sort_by_key(|(at, _)| *at);
        eprintln!("{orders} orders in one pipeline: {} events", events.len());
        group.throughput(Throughput::Elements(events.len() as u64));
        group.bench_function(format!("pipeline_feed/{orders}_orders_one_pipeline"), |b| {
            b.iter_batched(
                || (configs.clone(), events.clone()),
                |(configs, events)| black_box(run(configs, events)),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

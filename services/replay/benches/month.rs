//! A generated month through `replay::Replay`: the three services on the engine
//! over the in-memory log, timers and all, as the scenario tests run them.
//!
//! 20 orders a day for 30 days, customers in four timezones, 1-2 parcels each on
//! the generic carrier's codes: most delivered (some after the promise), some
//! stuck after pick-up, some with an exception, and some scans sent twice. The
//! clock runs 14 days past the last arrival, so stuck, late and review timers fire.
//! Reports input events per second.
//!
//! `cargo bench -p replay --bench month`

use chrono::{Duration, TimeZone};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use replay::{Input, Replay};
use std::hint::black_box;
use wismo_config::Topics;
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, Item, OrderEvent, OrderPlaced,
    ShipmentCreated, Timestamp,
};
use wismo_core::tracker::TrackerConfig;

const DAYS: u64 = 30;
const ORDERS_PER_DAY: u64 = 20;
const ZONES: [&str; 4] = [
    "America/Chicago",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
];
const PATH: [&str; 6] = [
    "label_created",
    "picked_up",
    "arrived_at_facility",
    "departed_facility",
    "out_for_delivery",
    "delivered",
];

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
}

fn epoch() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
}

fn order_event(order: &str, id: &str, at: Timestamp) -> OrderEvent {
    OrderEvent {
        event_id: format!("{order}-{id}"),
        order_id: order.into(),
        occurred_at: at,
        placed: None,
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    }
}

fn scan(tracking: &str, k: usize, code: &str, at: Timestamp) -> CarrierScan {
    CarrierScan {
        scan_id: format!("{tracking}-{k}"),
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

/// Order `n`'s events as `(arrival, input)`.
fn order_events(n: u64) -> Vec<(Timestamp, Input)> {
    let mut rng = Rng(n ^ 0x5DEE_CE66_D1CE_4E5B);
    let order = format!("order-{n:06}");
    let placed_at = epoch()
        + Duration::minutes((n * 24 * 60 / ORDERS_PER_DAY) as i64)
        + Duration::minutes(rng.range(0, 30) as i64);
    let promised = placed_at.date_naive() + Duration::days(rng.range(3, 6) as i64);
    let mut out = vec![(
        placed_at,
        Input::Order(OrderEvent {
            placed: Some(OrderPlaced {
                customer: Customer {
                    customer_id: format!("cust-{}", n % 400),
                    locale: "en-US".into(),
                    timezone: ZONES[(n % 4) as usize].into(),
                    channels: vec![ContactChannel {
                        kind: ChannelKind::Email,
                        transactional_consent: true,
                        marketing_consent: rng.range(0, 1) == 0,
                    }],
                },
                items: vec![Item {
                    sku: format!("sku-{}", rng.range(1, 500)),
                    category: "apparel".into(),
                    quantity: 1,
                }],
                promised_delivery_date: Some(promised),
                destination_country: Some("US".into()),
            }),
            ..order_event(&order, "placed", placed_at)
        }),
    )];
    for s in 0..rng.range(1, 2) {
        let tracking = format!("T-{n:06}-{s}");
        let created_at = placed_at + Duration::hours(3 + s as i64);
        out.push((
            created_at,
            Input::Order(OrderEvent {
                shipment_created: Some(ShipmentCreated {
                    shipment_id: format!("{order}-s{s}"),
                    tracking_number: tracking.clone(),
                    carrier: "generic".into(),
                    service_level: Some("ground".into()),
                    origin_country: Some("US".into()),
                    skus: vec![],
                }),
                ..order_event(&order, &format!("s{s}"), created_at)
            }),
        ));
        // 70 % delivered (a fifth of them slowly), 15 % stuck after pick-up, 15 %
        // an exception.
        let fate = rng.range(0, 99);
        let codes: Vec<&str> = match fate {
            0..=69 => PATH.to_vec(),
            70..=84 => PATH[..2].to_vec(),
            _ => [&PATH[..3], &["damaged"]].concat(),
        };
        let gap = if fate < 14 { 30 } else { 8 };
        let mut at = created_at + Duration::hours(2);
        for (k, code) in codes.into_iter().enumerate() {
            let record = scan(&tracking, k, code, at);
            if rng.range(0, 99) < 8 {
                out.push((at + Duration::minutes(45), Input::Scan(record.clone())));
            }
            out.push((
                at + Duration::minutes(rng.range(1, 20) as i64),
                Input::Scan(record),
            ));
            at += Duration::hours(rng.range(gap / 2, gap) as i64);
        }
    }
    out
}

/// Feeds the month and runs the clock past it; the number of outputs.
fn run(events: &[(Timestamp, Input)]) -> usize {
    let topics = Topics::from_env(&wismo_config::Env::default());
    let start = epoch() - Duration::minutes(1);
    let tracker = TrackerConfig::default();
    let mut replay =
        Replay::new(MatcherConfig::default(), tracker, topics, start).expect("the services start");
    for (at, input) in events {
        replay.feed_input(*at, input);
    }
    let last = events.last().map_or(start, |(at, _)| *at);
    replay
        .finish(last + Duration::days(14))
        .expect("the services run")
        .len()
}

fn bench(c: &mut Criterion) {
    let mut events: Vec<_> = (0..DAYS * ORDERS_PER_DAY).flat_map(order_events).collect();
    events.sort_by_key(|(at, _)| *at);
    eprintln!(
        "{} orders over {DAYS} days: {} events, {} outputs",
        DAYS * ORDERS_PER_DAY,
        events.len(),
        run(&events)
    );
    let mut group = c.benchmark_group("replay");
    group
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(10))
        .throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("month", |b| b.iter(|| black_box(run(&events))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Seeded workloads: orders, shipments and scans as shops and 3PLs send them,
//! with the noise they bring (resends, scans out of order or ahead of their
//! shipment, parcels that stall or never move, numbers nobody created, broken
//! records).

use chrono::TimeZone;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use replay::Input;
use wismo_config::Topics;
use wismo_core::model::*;

/// A record arriving at the broker.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub at: i64,
    pub topic: String,
    pub key: Option<String>,
    pub payload: Vec<u8>,
}

const PATH: [&str; 6] = [
    "label_created",
    "picked_up",
    "arrived_at_facility",
    "departed_facility",
    "out_for_delivery",
    "delivered",
];
const TROUBLE: [&str; 5] = [
    "weather_delay",
    "recipient_not_available",
    "address_issue",
    "damaged",
    "in_transit",
];
const ZONES: [&str; 4] = [
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/Los_Angeles",
];

fn start() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn minutes(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> chrono::Duration {
    chrono::Duration::minutes(rng.random_range(lo..=hi))
}

/// `orders` orders over a few days, and what happened to their parcels, sorted by
/// arrival.
pub fn generate(seed: u64, orders: usize, topics: &Topics) -> Vec<Arrival> {
    generate_named(seed, orders, topics, |n| format!("o-{n}"))
}

/// As [`generate`], the `n`th order named `order_id(n)`.
pub fn generate_named(
    seed: u64,
    orders: usize,
    topics: &Topics,
    order_id: impl Fn(usize) -> String,
) -> Vec<Arrival> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out: Vec<(i64, Input)> = Vec::new();
    let mut broken = Vec::new();
    // Few customers, so a recipient's cap sees several orders.
    let customers = 1 + orders / 3;
    for n in 0..orders {
        let order_id = order_id(n);
        let placed_at = start() + minutes(&mut rng, 0, 3 * 24 * 60);
        let customer = rng.random_range(0..customers);
        let promised = (placed_at + chrono::Duration::days(rng.random_range(2..6))).date_naive();
        out.push((
            placed_at.timestamp_millis(),
            Input::Order(OrderEvent {
                event_id: format!("{order_id}-placed"),
                order_id: order_id.clone(),
                occurred_at: placed_at,
                placed: Some(OrderPlaced {
                    customer: Customer {
                        customer_id: format!("c-{customer}"),
                        locale: "en-US".into(),
                        timezone: ZONES[customer % ZONES.len()].into(),
                        channels: vec![ContactChannel {
                            kind: ChannelKind::Email,
                            transactional_consent: true,
                            marketing_consent: rng.random_bool(0.7),
                        }],
                    },
                    items: vec![Item {
                        sku: "sku-1".into(),
                        category: ["apparel", "home", "electronics"][n % 3].into(),
                        quantity: 1,
                    }],
                    promised_delivery_date: Some(promised),
                    destination_country: Some("US".into()),
                }),
                shipment_created: None,
                cancelled: None,
                return_requested: None,
            }),
        ));
        for s in 0..rng.random_range(1..=2) {
            let shipment_id = format!("{order_id}-s{s}");
            let tracking = format!("TRK-{seed}-{n}-{s}");
            let created = placed_at + minutes(&mut rng, 10, 600);
            out.push((
                created.timestamp_millis(),
                Input::Order(OrderEvent {
                    event_id: format!("{shipment_id}-created"),
                    order_id: order_id.clone(),
                    occurred_at: created,
                    placed: None,
                    shipment_created: Some(ShipmentCreated {
                        shipment_id,
                        tracking_number: tracking.clone(),
                        carrier: "generic".into(),
                        service_level: Some("ground".into()),
                        origin_country: Some("US".into()),
                        skus: vec!["sku-1".into()],
                    }),
                    cancelled: None,
                    return_requested: None,
                }),
            ));
            // How far along the happy path the parcel gets, and what goes wrong.
            let reach = rng.random_range(0..=PATH.len());
            let mut at = created + minutes(&mut rng, -30, 60);
            for (i, code) in PATH.iter().take(reach).enumerate() {
                let mut codes = vec![*code];
                if rng.random_bool(0.15) {
                    codes.push(TROUBLE[rng.random_range(0..TROUBLE.len())]);
                }
                for code in codes {
                    at += minutes(&mut rng, 30, if i == 2 { 4 * 24 * 60 } else { 20 * 60 });
                    let scan = CarrierScan {
                        scan_id: format!("{tracking}-{i}-{code}"),
                        tracking_number: tracking.clone(),
                        carrier: "generic".into(),
                        raw_status: code.into(),
                        raw_status_detail: None,
                        description: None,
                        occurred_at: at,
                        location: None,
                        carrier_edd: None,
                        order_id: None,
                    };
                    // A 3PL's batch delay, and sometimes a resend of the same scan.
                    let arrival = at + minutes(&mut rng, 0, 6 * 60);
                    out.push((arrival.timestamp_millis(), Input::Scan(scan.clone())));
                    if rng.random_bool(0.1) {
                        let again = arrival + minutes(&mut rng, 0, 120);
                        out.push((again.timestamp_millis(), Input::Scan(scan)));
                    }
                }
            }
        }
        if rng.random_bool(0.05) {
            broken.push((
                (placed_at + minutes(&mut rng, 0, 600)).timestamp_millis(),
                format!("BROKEN-{n}"),
            ));
        }
    }
    // A number nobody created: held, then dead-lettered.
    let stray = start() + minutes(&mut rng, 0, 2 * 24 * 60);
    out.push((
        stray.timestamp_millis(),
        Input::Scan(CarrierScan {
            scan_id: format!("stray-{seed}"),
            tracking_number: format!("NOBODY-{seed}"),
            carrier: "generic".into(),
            raw_status: "picked_up".into(),
            raw_status_detail: None,
            description: None,
            occurred_at: stray,
            location: None,
            carrier_edd: None,
            order_id: None,
        }),
    ));
    let mut arrivals: Vec<Arrival> = out
        .into_iter()
        .map(|(at, input)| {
            let (topic, key, payload) = input.record(topics);
            Arrival {
                at,
                topic,
                key: Some(key),
                payload,
            }
        })
        .collect();
    arrivals.extend(broken.into_iter().map(|(at, key)| Arrival {
        at,
        topic: topics.carrier_scans.clone(),
        key: Some(key),
        payload: b"{\"not\": \"avro\"}".to_vec(),
    }));
    arrivals.sort_by_key(|a| a.at);
    arrivals
}

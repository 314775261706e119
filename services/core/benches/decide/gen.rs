//! A generated stream of orders: placed, 1-2 shipments, 4-6 carrier scans each
//! with real codes, some resends, exceptions and failed attempts.

use chrono::{Duration, NaiveDate, TimeZone};
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, Item, OrderEvent, OrderPlaced,
    ScanLocation, ShipmentCreated, Timestamp,
};

/// An input record as it arrives.
#[derive(Debug, Clone)]
pub enum Event {
    Order(OrderEvent),
    Scan(CarrierScan),
}

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

pub fn epoch() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// Order `n`'s events as `(arrival, input)`, placed two minutes after order `n - 1`.
pub fn order_events(n: u64) -> Vec<(Timestamp, Event)> {
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
        Event::Order(OrderEvent {
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
            Event::Order(OrderEvent {
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
                out.push((arrival + Duration::minutes(30), Event::Scan(scan.clone())));
            }
            out.push((arrival, Event::Scan(scan)));
            at += Duration::hours(rng.range(4, 14) as i64);
        }
    }
    out
}

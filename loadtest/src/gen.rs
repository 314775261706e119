//! Synthetic orders: realistic event streams run through the decision core, so the
//! states written to the changelog look like the ones the order tracker keeps.
//!
//! Every order is placed with 1-2 items, gets 1-2 shipments with carriers among
//! ups, fedex, usps and generic, and 4-6 scans with real codes from
//! `services/core/mappings/*.csv`. Most parcels are delivered; some are still in
//! transit, some hit a carrier exception or a failed attempt, some carry a carrier
//! estimate past the promise, and some scans are resent. All of it is
//! deterministic in the order number.

use chrono::{Duration, NaiveDate, TimeZone};
use replay::Input as PipelineInput;
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, Item, OrderEvent, OrderPlaced,
    ScanLocation, ShipmentCreated, Timestamp,
};
use wismo_core::tracker::{OrderState, TrackerConfig};

/// A small deterministic generator (SplitMix64), seeded per order.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }
}

/// One carrier's codes for the happy path and for the ways it goes wrong.
struct CarrierCodes {
    name: &'static str,
    /// label, pickup, arrival, departure, out for delivery, delivered.
    path: [&'static str; 6],
    /// `(code, detail)` of exceptions that open an incident (weather, damage, ...).
    exceptions: &'static [(&'static str, Option<&'static str>)],
    /// `(code, detail)` of a failed delivery attempt.
    attempt: (&'static str, Option<&'static str>),
}

const CARRIERS: [CarrierCodes; 4] = [
    CarrierCodes {
        name: "ups",
        path: ["MP", "PU", "AR", "DP", "OF", "D"],
        exceptions: &[("DJ", None), ("UP", None), ("AG", None)],
        attempt: ("48", None),
    },
    CarrierCodes {
        name: "fedex",
        path: ["OC", "PU", "AR", "DP", "OD", "DL"],
        exceptions: &[("CD", None), ("DD", None), ("SE", None)],
        attempt: ("DE", Some("08")),
    },
    CarrierCodes {
        name: "usps",
        path: ["GX", "03", "10", "EF", "OF", "01"],
        exceptions: &[("WX", None), ("12", None), ("05", None)],
        attempt: ("02", None),
    },
    CarrierCodes {
        name: "generic",
        path: [
            "label_created",
            "picked_up",
            "arrived_at_facility",
            "departed_facility",
            "out_for_delivery",
            "delivered",
        ],
        exceptions: &[("weather_delay", None), ("damaged", None), ("lost", None)],
        attempt: ("recipient_not_available", None),
    },
];

const TIMEZONES: [&str; 5] = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/Berlin",
];
const CATEGORIES: [&str; 5] = ["apparel", "electronics", "home", "beauty", "toys"];
const CITIES: [(&str, &str); 4] = [
    ("Memphis", "38118"),
    ("Louisville", "40209"),
    ("Indianapolis", "46241"),
    ("Chicago", "60607"),
];

/// Monday 2026-03-02 09:00 UTC: the start of every batch's timeline.
pub fn epoch() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

pub fn order_id(n: u64) -> String {
    format!("order-{n:09}")
}

/// How a parcel's story ends (for now).
#[derive(Clone, Copy)]
enum Outcome {
    Delivered,
    InTransit,
    Exception,
    FailedAttempt,
}

/// The events of order `n`, as `(arrival time, input)`, placed `offset` after the
/// timeline start.
pub fn order_events(n: u64, offset: Duration) -> Vec<(Timestamp, PipelineInput)> {
    let mut rng = Rng::new(n);
    let order = order_id(n);
    let placed_at = epoch() + offset;
    let lag = |rng: &mut Rng| Duration::seconds(rng.range(5, 600) as i64);
    let mut out = Vec::with_capacity(12);

    let items: Vec<Item> = (0..rng.range(1, 2))
        .map(|k| Item {
            sku: format!("sku-{}", rng.range(1000, 99_999) + k),
            category: rng.pick(&CATEGORIES).to_string(),
            quantity: rng.range(1, 3) as i32,
        })
        .collect();
    let mut channels = vec![ContactChannel {
        kind: ChannelKind::Email,
        transactional_consent: true,
        marketing_consent: rng.chance(50),
    }];
    if rng.chance(40) {
        channels.push(ContactChannel {
            kind: ChannelKind::Sms,
            transactional_consent: true,
            marketing_consent: false,
        });
    }
    let promised = placed_at.date_naive() + Duration::days(rng.range(4, 6) as i64);
    out.push((
        placed_at + lag(&mut rng),
        PipelineInput::Order(OrderEvent {
            event_id: format!("{order}-placed"),
            order_id: order.clone(),
            occurred_at: placed_at,
            placed: Some(OrderPlaced {
                customer: Customer {
                    customer_id: format!("cust-{}", rng.range(1, 5_000_000)),
                    locale: "en-US".into(),
                    timezone: rng.pick(&TIMEZONES).to_string(),
                    channels,
                },
                items: items.clone(),
                promised_delivery_date: Some(promised),
                destination_country: Some("US".into()),
            }),
            shipment_created: None,
            cancelled: None,
            return_requested: None,
        }),
    ));

    let shipments = rng.range(1, 2) as usize;
    let total_scans = rng.range(4, 6) as usize;
    for s in 0..shipments {
        let carrier = rng.pick(&CARRIERS);
        let tracking = format!("{}-{n:09}-{s}", carrier.name.to_uppercase());
        let shipment_id = format!("{order}-s{s}");
        let created_at = placed_at + Duration::hours(3 + s as i64);
        let skus = if shipments == 1 {
            items.iter().map(|i| i.sku.clone()).collect()
        } else {
            vec![items[s.min(items.len() - 1)].sku.clone()]
        };
        out.push((
            created_at + lag(&mut rng),
            PipelineInput::Order(OrderEvent {
                event_id: format!("{shipment_id}-created"),
                order_id: order.clone(),
                occurred_at: created_at,
                placed: None,
                shipment_created: Some(ShipmentCreated {
                    shipment_id,
                    tracking_number: tracking.clone(),
                    carrier: carrier.name.into(),
                    service_level: Some(rng.pick(&["ground", "2day", "priority"]).to_string()),
                    origin_country: Some("US".into()),
                    skus,
                }),
                cancelled: None,
                return_requested: None,
            }),
        ));

        // Split the order's scans over its shipments: 4-6 in all, at least 2 each.
        let count = if shipments == 1 {
            total_scans
        } else if s == 0 {
            total_scans / 2
        } else {
            total_scans - total_scans / 2
        };
        let outcome = match rng.range(0, 99) {
            0..=59 => Outcome::Delivered,
            60..=79 => Outcome::InTransit,
            80..=91 => Outcome::Exception,
            _ => Outcome::FailedAttempt,
        };
        let codes: Vec<(&str, Option<&str>)> = match outcome {
            // The last `count` steps of the path, ending delivered.
            Outcome::Delivered => carrier.path[6 - count..]
                .iter()
                .map(|c| (*c, None))
                .collect(),
            Outcome::InTransit => carrier.path[..count].iter().map(|c| (*c, None)).collect(),
            Outcome::Exception => carrier.path[..count - 1]
                .iter()
                .map(|c| (*c, None))
                .chain([*rng.pick(carrier.exceptions)])
                .collect(),
            Outcome::FailedAttempt => carrier.path[..count - 1]
                .iter()
                .map(|c| (*c, None))
                .chain([carrier.attempt])
                .collect(),
        };
        // A carrier estimate on the second scan; sometimes past the promise.
        let edd: NaiveDate = promised + Duration::days(if rng.chance(8) { 2 } else { 0 });
        let out_for_delivery = carrier.path[4];
        let mut at = created_at + Duration::hours(rng.range(2, 8) as i64);
        let mut previous: Option<&str> = None;
        for (k, (code, detail)) in codes.into_iter().enumerate() {
            if previous.is_some() {
                at = next_scan_time(
                    &mut rng,
                    at,
                    previous == Some(out_for_delivery),
                    code == out_for_delivery,
                );
            }
            previous = Some(code);
            let (city, zip) = *rng.pick(&CITIES);
            let scan = CarrierScan {
                scan_id: format!("{tracking}-{k}"),
                tracking_number: tracking.clone(),
                carrier: carrier.name.into(),
                raw_status: code.into(),
                raw_status_detail: detail.map(Into::into),
                description: Some(format!("{} scan {code}", carrier.name)),
                occurred_at: at,
                location: Some(ScanLocation {
                    city: Some(city.into()),
                    postal_code: Some(zip.into()),
                    country: Some("US".into()),
                }),
                carrier_edd: (k == 1).then_some(edd),
                order_id: None,
            };
            let arrival = at + lag(&mut rng);
            // Publishers resend now and then; the tracker must see it once.
            if rng.chance(8) {
                out.push((
                    arrival + Duration::minutes(30),
                    PipelineInput::Scan(scan.clone()),
                ));
            }
            out.push((arrival, PipelineInput::Scan(scan)));
        }
    }
    out
}

/// When the scan after one at `at` happens: parcels go out for delivery in the
/// morning (US time) of the next day and are delivered, or not, a few hours later;
/// in between, scans come 4-14 hours apart.
fn next_scan_time(
    rng: &mut Rng,
    at: Timestamp,
    after_out_for_delivery: bool,
    out_for_delivery: bool,
) -> Timestamp {
    if after_out_for_delivery {
        at + Duration::minutes(rng.range(60, 300) as i64)
    } else if out_for_delivery {
        let morning = (at.date_naive() + Duration::days(1))
            .and_hms_opt(14, 0, 0)
            .expect("a valid time")
            .and_utc();
        morning + Duration::minutes(rng.range(0, 120) as i64)
    } else {
        at + Duration::hours(rng.range(4, 14) as i64)
    }
}

/// The matcher and tracker configuration the services default to.
pub fn configs() -> (MatcherConfig, TrackerConfig) {
    (MatcherConfig::default(), TrackerConfig::default())
}

/// Runs orders `first..first + count` through wismo in memory (orders placed two
/// minutes apart, events interleaved by arrival) and returns their final states.
pub fn order_states(
    configs: &(MatcherConfig, TrackerConfig),
    first: u64,
    count: u64,
) -> anyhow::Result<Vec<OrderState>> {
    let mut events: Vec<(Timestamp, PipelineInput)> = (0..count)
        .flat_map(|j| order_events(first + j, Duration::minutes(2 * j as i64)))
        .collect();
    events.sort_by_key(|(at, _)| *at);
    let start = epoch() - Duration::minutes(1);
    let topics = wismo_config::Topics::from_env(&wismo_config::Env::default());
    let mut replay =
        replay::Replay::new(configs.0.clone(), configs.1.clone(), topics.clone(), start)?;
    let last = events.last().map_or(start, |(at, _)| *at);
    for (at, input) in &events {
        replay.feed_input(*at, input);
    }
    // Past every coalescing window, so pending milestones are sent and incidents
    // judged, but well short of retention.
    replay.finish(last + Duration::hours(2))?;
    let mut latest = std::collections::BTreeMap::new();
    for r in replay.cluster().log.records(&topics.tracker_changelog) {
        if let (Some(k), Some(v)) = (r.key, r.value) {
            latest.insert(k, (v, r.offset));
        }
    }
    latest
        .into_values()
        .map(|(v, offset)| {
            Ok(wismo_engine::changelog::decode::<OrderState>(
                wismo_codec::subjects::ORDER_STATE,
                &v,
                &topics.tracker_changelog,
                0,
                offset,
            )?)
        })
        .collect()
}

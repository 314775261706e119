//! Orders and carrier scan streams from the ground truth: each parcel's scans as
//! its carrier would make them (business days only, on the lane's calendar), before
//! any relay noise.

use super::model::{lane, Rng, Truth, REGIONS};
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use wismo_core::calendar::{end_of_local_day, Days, LaneCalendar};
use wismo_core::delay::DelayPolicy;
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, Item, OrderEvent, OrderPlaced,
    ShipmentCreated, Timestamp,
};

/// One parcel as it really went.
#[derive(Debug, Clone)]
pub struct Parcel {
    pub tracking: String,
    pub truth: Truth,
    /// End of the promised day, in the customer's timezone.
    pub promise_end: Timestamp,
    /// Delivered to the customer (not back to the sender), when it was.
    pub delivered_at: Option<Timestamp>,
    pub scans: Vec<CarrierScan>,
}

/// One order and the people and parcels in it.
#[derive(Debug, Clone)]
pub struct Order {
    pub placed: OrderEvent,
    pub shipments: Vec<OrderEvent>,
    pub parcels: Vec<Parcel>,
    pub timezone: Tz,
}

const CATEGORIES: [&str; 5] = ["apparel", "electronics", "home", "beauty", "toys"];

/// The instant a local wall-clock time reads in `tz` (the later side of a gap).
fn local(tz: Tz, date: NaiveDate, minutes: i64) -> Timestamp {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(minutes);
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.to_utc())
        .unwrap_or_else(|| naive.and_utc())
}

/// The first business day after `date` (or `date` itself when `inclusive`).
fn business_day(cal: &LaneCalendar<'_>, mut date: NaiveDate, inclusive: bool) -> NaiveDate {
    if !inclusive {
        date = date.succ_opt().unwrap_or(date);
    }
    while !cal.is_business_day(date) {
        date = date.succ_opt().unwrap_or(date);
    }
    date
}

fn add_business_days(cal: &LaneCalendar<'_>, mut date: NaiveDate, days: i64) -> NaiveDate {
    for _ in 0..days {
        date = business_day(cal, date, false);
    }
    date
}

/// Scans of one parcel, with ids in order.
struct Scans<'a> {
    tracking: String,
    codes: &'a super::model::Codes,
    tz: Tz,
    /// The longest leg between two scans of a parcel on time, in business days.
    max_gap: i64,
    list: Vec<CarrierScan>,
}

impl Scans<'_> {
    fn push(
        &mut self,
        code: &str,
        date: NaiveDate,
        minutes: i64,
        edd: Option<NaiveDate>,
    ) -> Timestamp {
        let at = local(self.tz, date, minutes);
        self.list.push(CarrierScan {
            scan_id: format!("{}-{}", self.tracking, self.list.len()),
            tracking_number: self.tracking.clone(),
            carrier: self.codes.carrier.to_string(),
            raw_status: code.to_string(),
            raw_status_detail: None,
            description: None,
            occurred_at: at,
            location: None,
            carrier_edd: edd,
            order_id: None,
        });
        at
    }

    /// Transit scans on business days from `from` (exclusive) to `to` (exclusive):
    /// most a business day apart, some after a long-haul leg of up to `max_gap`
    /// business days (still within the rule's threshold); one in a hundred with a
    /// code the table does not know.
    fn transit(&mut self, rng: &mut Rng, cal: &LaneCalendar<'_>, from: NaiveDate, to: NaiveDate) {
        let mut day = business_day(cal, from, false);
        let mut n = 0;
        while day < to {
            let code = if rng.chance(10) {
                self.codes.unknown
            } else {
                self.codes.transit[n % 2]
            };
            self.push(code, day, rng.range(6 * 60, 22 * 60), None);
            let leg = if rng.chance(300) {
                rng.range(2, self.max_gap)
            } else {
                1
            };
            day = add_business_days(cal, day, leg);
            n += 1;
        }
    }
}

/// The order numbered `n`, placed on `day` of the month that starts at `start`.
pub fn order(seed: u64, n: u64, start: NaiveDate, days: i64, policy: &DelayPolicy) -> Order {
    let mut rng = Rng::fork(seed, n);
    let region = &REGIONS[rng.weighted(&REGIONS.iter().map(|r| r.weight).collect::<Vec<_>>())];
    let tz = region.timezone;
    let order_id = format!("o-{n:07}");
    // One customer in twenty-five orders again, often the same day (the cap's case).
    let customer_n = if n > 10 && rng.chance(40) {
        n - rng.range(1, 10) as u64
    } else {
        n
    };
    let day = start + Duration::days(rng.range(0, days - 1));
    let placed_at = local(tz, day, rng.range(7 * 60, 23 * 60));
    let parcels_n = if rng.chance(150) { 2 } else { 1 };
    let first_lane = lane(&mut rng, region.country);
    let cal = policy.lane_calendar(
        first_lane.codes.carrier,
        Some(first_lane.origin),
        Some(region.country),
    );

    // The shop promises the planned transit plus a day or none of buffer.
    let ship_day = add_business_days(&cal, day, rng.range(0, 1));
    let transit = rng.range(first_lane.transit_days.0, first_lane.transit_days.1);
    let planned = add_business_days(&cal, ship_day, transit + 1);
    let promised = add_business_days(&cal, planned, rng.range(0, 1));

    let mut parcels = Vec::new();
    let mut shipments = Vec::new();
    for k in 0..parcels_n {
        // A split order ships from the same warehouse with the same carrier.
        let lane = first_lane;
        let cal = policy.lane_calendar(lane.codes.carrier, Some(lane.origin), Some(region.country));
        let international = lane.origin != region.country;
        let truth = if k == 0 {
            Truth::draw(&mut rng, international, lane.codes)
        } else {
            Truth::OnTime
        };
        let tracking = format!("T{n:07}{k}");
        let days = Plan {
            ship_day,
            planned,
            promised,
            international,
        };
        let parcel = parcel(&mut rng, &cal, &lane, truth, tz, &tracking, &days);
        shipments.push(OrderEvent {
            event_id: format!("{order_id}-s{k}-created"),
            order_id: order_id.clone(),
            occurred_at: parcel.scans.first().map_or(placed_at, |s| s.occurred_at),
            placed: None,
            shipment_created: Some(ShipmentCreated {
                shipment_id: format!("{order_id}-s{k}"),
                tracking_number: tracking.clone(),
                carrier: lane.codes.carrier.to_string(),
                service_level: Some("standard".into()),
                origin_country: Some(lane.origin.into()),
                skus: vec![format!("sku-{n}-{k}")],
            }),
            cancelled: None,
            return_requested: None,
        });
        parcels.push(parcel);
    }

    let channels = if rng.chance(30) {
        vec![ContactChannel {
            kind: ChannelKind::Sms,
            transactional_consent: false,
            marketing_consent: false,
        }]
    } else {
        vec![ContactChannel {
            kind: ChannelKind::Email,
            transactional_consent: true,
            marketing_consent: rng.chance(600),
        }]
    };
    let placed = OrderEvent {
        event_id: format!("{order_id}-placed"),
        order_id: order_id.clone(),
        occurred_at: placed_at,
        placed: Some(OrderPlaced {
            customer: Customer {
                customer_id: format!("c-{customer_n:07}"),
                locale: "en-US".into(),
                timezone: tz.name().into(),
                channels,
            },
            items: (0..parcels_n)
                .map(|k| Item {
                    sku: format!("sku-{n}-{k}"),
                    category: CATEGORIES[rng.range(0, 4) as usize].into(),
                    quantity: 1,
                })
                .collect(),
            promised_delivery_date: Some(promised),
            destination_country: Some(region.country.into()),
        }),
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    };
    for p in &mut parcels {
        p.promise_end = end_of_local_day(promised, tz);
    }
    Order {
        placed,
        shipments,
        parcels,
        timezone: tz,
    }
}

/// The days a parcel's plan turns on.
#[derive(Clone, Copy)]
struct Plan {
    ship_day: NaiveDate,
    planned: NaiveDate,
    promised: NaiveDate,
    international: bool,
}

/// One parcel's scans for its truth.
fn parcel(
    rng: &mut Rng,
    cal: &LaneCalendar<'_>,
    lane: &super::model::Lane,
    truth: Truth,
    tz: Tz,
    tracking: &str,
    plan: &Plan,
) -> Parcel {
    let Plan {
        ship_day,
        planned,
        promised,
        international,
    } = *plan;
    let codes = lane.codes;
    // The rule's own thresholds (business days): the truth is beyond them.
    let in_transit_limit = if international { 5 } else { 3 };
    let mut s = Scans {
        tracking: tracking.to_string(),
        codes,
        tz,
        max_gap: in_transit_limit - 1,
        list: Vec::new(),
    };
    s.push(codes.label, ship_day, rng.range(9 * 60, 17 * 60), None);
    // Picked up that evening or the next business day.
    let mut pickup_day = if rng.chance(500) {
        ship_day
    } else {
        business_day(cal, ship_day, false)
    };
    if truth == Truth::StuckAtPickup {
        pickup_day = add_business_days(cal, ship_day, 2 + rng.range(1, 3));
    }
    let pickup_minutes = if pickup_day == ship_day {
        rng.range(18 * 60, 20 * 60)
    } else {
        rng.range(10 * 60, 16 * 60)
    };
    s.push(codes.pickup, pickup_day, pickup_minutes, Some(planned));

    // When it reaches the door: planned, late by the truth, or after a silence.
    let extra_after_promise = |k: i64| add_business_days(cal, promised, k);
    let mut delivery_day = match truth {
        Truth::LateBy(k) => extra_after_promise(i64::from(k)),
        Truth::StuckAtPickup => add_business_days(cal, pickup_day, rng.range(2, 4)),
        _ => planned,
    };
    if delivery_day <= pickup_day {
        delivery_day = business_day(cal, pickup_day, false);
    }

    match truth {
        Truth::StuckInTransitRecovered | Truth::CustomsHold | Truth::Lost => {
            let first = business_day(cal, pickup_day, false);
            s.push(codes.transit[0], first, rng.range(8 * 60, 20 * 60), None);
            let resume = match truth {
                Truth::StuckInTransitRecovered => {
                    add_business_days(cal, first, in_transit_limit + rng.range(1, 2))
                }
                Truth::CustomsHold => {
                    let held = business_day(cal, first, false);
                    s.push(codes.customs, held, rng.range(8 * 60, 18 * 60), None);
                    add_business_days(cal, held, rng.range(2, 4))
                }
                _ => return finish(s, truth, None),
            };
            s.push(codes.transit[1], resume, rng.range(8 * 60, 20 * 60), None);
            delivery_day = add_business_days(cal, resume, rng.range(1, 3))
                .max(business_day(cal, promised, false));
            s.transit(rng, cal, resume, delivery_day);
        }
        Truth::Returned => {
            let until = delivery_day.min(promised);
            s.transit(rng, cal, pickup_day, until);
            s.push(codes.returning, until, rng.range(9 * 60, 18 * 60), None);
            return way_back(rng, cal, s, truth, until);
        }
        Truth::LateBy(_) if rng.chance(500) => {
            // The carrier says so in time: a scan before the promise moves its estimate.
            let warn = business_day(cal, pickup_day, false).min(promised);
            s.push(
                codes.transit[0],
                warn,
                rng.range(8 * 60, 20 * 60),
                Some(delivery_day),
            );
            s.transit(rng, cal, warn, delivery_day);
        }
        _ => s.transit(rng, cal, pickup_day, delivery_day),
    }

    s.push(
        codes.out_for_delivery,
        delivery_day,
        rng.range(7 * 60, 9 * 60),
        None,
    );
    if let (Truth::Refused, Some(code)) = (truth, codes.refused) {
        s.push(code, delivery_day, rng.range(11 * 60, 17 * 60), None);
        return way_back(rng, cal, s, truth, delivery_day);
    }
    // Most before five, one in five in the evening.
    let minutes = if rng.chance(200) {
        rng.range(17 * 60, 21 * 60)
    } else {
        rng.range(10 * 60, 17 * 60)
    };
    let delivered = s.push(codes.delivered, delivery_day, minutes, None);
    if let (Truth::DeliveredThenException, Some(code)) = (truth, codes.damaged) {
        let day = business_day(cal, delivery_day, false);
        s.push(code, day, rng.range(10 * 60, 16 * 60), None);
    }
    finish(s, truth, Some(delivered))
}

/// The return leg: the carrier's return code, then its ordinary transit scans and
/// its ordinary "delivered", at the sender.
fn way_back(
    rng: &mut Rng,
    cal: &LaneCalendar<'_>,
    mut s: Scans<'_>,
    truth: Truth,
    from: NaiveDate,
) -> Parcel {
    if s.list
        .last()
        .is_some_and(|l| l.raw_status != s.codes.returning)
    {
        s.push(s.codes.returning, from, 21 * 60, None);
    }
    let back = add_business_days(cal, from, rng.range(2, 4));
    s.transit(rng, cal, from, back);
    s.push(s.codes.delivered, back, rng.range(10 * 60, 16 * 60), None);
    finish(s, truth, None)
}

fn finish(s: Scans<'_>, truth: Truth, delivered_at: Option<Timestamp>) -> Parcel {
    Parcel {
        tracking: s.tracking,
        truth,
        promise_end: Timestamp::default(),
        delivered_at,
        scans: s.list,
    }
}

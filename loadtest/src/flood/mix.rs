//! The flood's records: valid orders interleaved with one hostile record each,
//! cycling through every hostile class, deterministic in the seed.
//!
//! A valid order is placed, ships one parcel and has three scans (label, pick-up,
//! delivery); with the scan-matcher alone, only its shipment and scans. The first
//! orders are anchors, published and registered before the rest: the hostile
//! records that claim or name an order (a conflicting registration, a scan naming
//! another order) claim theirs, so whether they are refused does not depend on
//! which partition the broker serves first.

use chrono::{DateTime, Duration, Utc};
use wismo_codec::apache_avro::types::Value;
use wismo_core::model::{ChannelKind, ContactChannel, Item, OrderEvent};
use wismo_e2e::hostile::{
    noise, order_bytes, placed, scan, scan_bytes, shipment, truncated, unknown_schema, with_field,
    Rec, HOSTILE_MILLIS,
};

/// Every hostile class. Those marked (orders) are on the orders topic, only
/// the order-tracker dead-letters them, so they join the mix only when it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    RandomBytes,
    /// (orders)
    RandomOrderBytes,
    TruncatedFrame,
    UnknownSchemaId,
    WrongSchema,
    /// (orders)
    WrongSchemaOrder,
    OversizedField,
    OversizedText,
    OversizedRecord,
    HostileTime,
    /// A broker timestamp of 1970: today's scan is then decades ahead.
    RecordTime1970,
    FarFutureScan,
    KeyMismatch,
    NoValue,
    /// (orders)
    TooManyItems,
    /// (orders)
    TooManyChannels,
    /// (orders) an email address for a timezone.
    ContactInTimezone,
    /// A scan naming another order than its number's owner.
    OrderMismatch,
    /// A second order's shipment with an anchor's tracking number.
    ConflictingRegistration,
    /// A decision that panics (a failpoint): `processing`.
    Panic,
}

const ORDER_CLASSES: [Class; 6] = [
    Class::RandomOrderBytes,
    Class::WrongSchemaOrder,
    Class::TooManyItems,
    Class::TooManyChannels,
    Class::ContactInTimezone,
    Class::Panic,
];

/// The failpoint key: the service that decides it panics.
pub const PANIC_KEY: &str = "flood-panic";
/// One panic per this many records: each rewinds its service to the last commit.
const PANIC_EVERY: usize = 25_000;
/// An oversized record (70 KB) in this many hostile records, this many at most:
/// they are most of the flood's bytes.
const OVERSIZED_EVERY: usize = 40;
const MAX_OVERSIZED: usize = 500;

/// Where a hostile record's dead letter comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expect {
    /// The record itself (its topic, partition, offset once produced).
    Itself,
    /// The scan-matcher's, for this order's registration of another's number.
    Registration(String),
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// Part of valid order number `n`.
    Valid(usize),
    Bad(Class, Expect),
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub rec: Rec,
    pub kind: Kind,
}

/// One valid order's ids.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub tracking: String,
    pub scan_ids: [String; 3],
}

pub struct Mix {
    pub orders: Vec<Order>,
    /// Published first: the anchors' orders and shipments.
    pub anchors: Vec<Planned>,
    pub flood: Vec<Planned>,
}

pub struct Topics<'a> {
    pub orders: &'a str,
    pub scans: &'a str,
}

/// `records` records in all (anchors included); `with_tracker`: the mix
/// for the three services, else the scan-matcher's alone. Without `hostile`, the
/// same valid orders alone: a baseline.
pub fn mix(
    records: usize,
    with_tracker: bool,
    with_hostile: bool,
    seed: u64,
    t: &Topics<'_>,
) -> anyhow::Result<Mix> {
    let now = Utc::now();
    let classes: Vec<Class> = all()
        .into_iter()
        .filter(|c| with_tracker || !ORDER_CLASSES.contains(c))
        .filter(|c| *c != Class::Panic && *c != Class::OversizedRecord)
        .collect();
    let per_order = if with_tracker { 5 } else { 4 };
    let orders_n = (records / (per_order + 1)).max(1);
    let anchors_n = (orders_n / 50).clamp(1, 2_000);
    let mut mix = Mix {
        orders: Vec::new(),
        anchors: Vec::new(),
        flood: Vec::new(),
    };
    let mut bad = 0usize;
    for n in 0..orders_n {
        let o = order_ids(n, seed);
        let records = valid(&o, now, t)?;
        let (head, scans) = records.split_at(records.len() - 3);
        let head: Vec<Planned> = head
            .iter()
            .filter(|r| with_tracker || !is_placed(&r.value))
            .map(|r| Planned {
                rec: r.clone(),
                kind: Kind::Valid(n),
            })
            .collect();
        if n < anchors_n {
            mix.anchors.extend(head);
        } else {
            mix.flood.extend(head);
        }
        mix.flood.extend(scans.iter().map(|r| Planned {
            rec: r.clone(),
            kind: Kind::Valid(n),
        }));
        mix.orders.push(o);
        if !with_hostile {
            continue;
        }
        // Then one hostile record: the classes in turn.
        let class = if panics_here(n, per_order + 1) {
            Class::Panic
        } else if bad % OVERSIZED_EVERY == OVERSIZED_EVERY - 1
            && bad / OVERSIZED_EVERY < MAX_OVERSIZED
        {
            Class::OversizedRecord
        } else {
            classes[bad % classes.len()]
        };
        let anchor = &mix.orders[n % anchors_n];
        mix.flood
            .push(hostile(class, bad, seed, anchor, now, t, with_tracker)?);
        bad += 1;
    }
    // The rest of `records`, hostile too.
    while with_hostile && mix.anchors.len() + mix.flood.len() < records {
        let class = classes[bad % classes.len()];
        let anchor = &mix.orders[bad % anchors_n];
        mix.flood
            .push(hostile(class, bad, seed, anchor, now, t, with_tracker)?);
        bad += 1;
    }
    Ok(mix)
}

/// Whether the records of unit `n` (of `unit` records each) cross a multiple of
/// [`PANIC_EVERY`].
fn panics_here(n: usize, unit: usize) -> bool {
    n > 0 && (n * unit) / PANIC_EVERY != ((n - 1) * unit) / PANIC_EVERY
}

fn is_placed(value: &Option<Vec<u8>>) -> bool {
    value.as_deref().is_some_and(|v| {
        wismo_codec::Codec::default()
            .decode::<OrderEvent>(wismo_codec::subjects::ORDER_EVENT, v)
            .is_ok_and(|e| e.placed.is_some())
    })
}

fn all() -> Vec<Class> {
    use Class::*;
    vec![
        RandomBytes,
        RandomOrderBytes,
        TruncatedFrame,
        UnknownSchemaId,
        WrongSchema,
        WrongSchemaOrder,
        OversizedField,
        OversizedText,
        OversizedRecord,
        HostileTime,
        RecordTime1970,
        FarFutureScan,
        KeyMismatch,
        NoValue,
        TooManyItems,
        TooManyChannels,
        ContactInTimezone,
        OrderMismatch,
        ConflictingRegistration,
        Panic,
    ]
}

fn order_ids(n: usize, seed: u64) -> Order {
    let id = format!("f{seed}-{n:07}");
    Order {
        tracking: format!("TRK-{id}"),
        scan_ids: [0, 1, 2].map(|k| format!("{id}-scan-{k}")),
        id,
    }
}

/// Placed, shipped, then label, pick-up and delivery scans, minutes apart, all in
/// the last half hour.
fn valid(o: &Order, now: DateTime<Utc>, t: &Topics<'_>) -> anyhow::Result<Vec<Rec>> {
    let at = |minutes_ago: i64| now - Duration::minutes(minutes_ago);
    let codes = ["label_created", "picked_up", "delivered"];
    let mut out = vec![
        Rec::new(t.orders, &o.id, order_bytes(&placed(&o.id, at(30)))?),
        Rec::new(
            t.orders,
            &o.id,
            order_bytes(&shipment(&o.id, &o.tracking, at(25)))?,
        ),
    ];
    for (k, code) in codes.into_iter().enumerate() {
        let s = scan(&o.tracking, &o.scan_ids[k], code, at(20 - 5 * k as i64));
        out.push(Rec::new(t.scans, &o.tracking, scan_bytes(&s)?));
    }
    Ok(out)
}

fn hostile(
    class: Class,
    n: usize,
    seed: u64,
    anchor: &Order,
    now: DateTime<Utc>,
    t: &Topics<'_>,
    with_tracker: bool,
) -> anyhow::Result<Planned> {
    let key = format!("bad-{seed}-{n}");
    let a_scan = |tracking: &str| scan(tracking, &format!("{key}-scan"), "in_transit", now);
    let scan_rec = |s: &wismo_core::model::CarrierScan| -> anyhow::Result<Rec> {
        Ok(Rec::new(t.scans, &s.tracking_number, scan_bytes(s)?))
    };
    let mut expect = Expect::Itself;
    let rec = match class {
        Class::RandomBytes => Rec::new(t.scans, &key, noise(seed ^ n as u64, 20 + n % 300)),
        Class::RandomOrderBytes => Rec::new(t.orders, &key, noise(seed ^ n as u64, 20 + n % 300)),
        Class::TruncatedFrame => Rec::new(t.scans, &key, truncated(&scan_bytes(&a_scan(&key))?)),
        Class::UnknownSchemaId => {
            Rec::new(t.scans, &key, unknown_schema(&scan_bytes(&a_scan(&key))?))
        }
        Class::WrongSchema => Rec::new(t.scans, &key, order_bytes(&placed(&key, now))?),
        Class::WrongSchemaOrder => Rec::new(t.orders, &key, scan_bytes(&a_scan(&key))?),
        Class::OversizedField => {
            let mut s = a_scan(&key);
            s.raw_status = "r".repeat(300 + n % 1000);
            scan_rec(&s)?
        }
        Class::OversizedText => {
            let mut s = a_scan(&key);
            s.description = Some("d".repeat(2_000 + n % 20_000));
            scan_rec(&s)?
        }
        Class::OversizedRecord => {
            let mut s = a_scan(&key);
            s.description = Some("h".repeat(70_000));
            scan_rec(&s)?
        }
        Class::HostileTime => {
            let millis = HOSTILE_MILLIS[n % HOSTILE_MILLIS.len()];
            let framed = scan_bytes(&a_scan(&key))?;
            let v = with_field(&framed, "occurred_at", Value::TimestampMillis(millis))?;
            Rec::new(t.scans, &key, v)
        }
        Class::RecordTime1970 => scan_rec(&a_scan(&key))?.at(1),
        Class::FarFutureScan => {
            let mut s = a_scan(&anchor.tracking);
            s.occurred_at = now + Duration::days(3650);
            scan_rec(&s)?
        }
        Class::KeyMismatch => {
            let s = a_scan(&anchor.tracking);
            Rec::new(t.scans, &key, scan_bytes(&s)?)
        }
        Class::NoValue => Rec {
            value: None,
            ..Rec::new(t.scans, &key, Vec::new())
        },
        Class::TooManyItems => {
            let mut e = placed(&key, now);
            if let Some(p) = e.placed.as_mut() {
                p.items = (0..101)
                    .map(|k| Item {
                        sku: format!("sku-{k}"),
                        category: "home".into(),
                        quantity: 1,
                    })
                    .collect();
            }
            Rec::new(t.orders, &key, order_bytes(&e)?)
        }
        Class::TooManyChannels => {
            let mut e = placed(&key, now);
            if let Some(p) = e.placed.as_mut() {
                p.customer.channels = (0..9)
                    .map(|_| ContactChannel {
                        kind: ChannelKind::Sms,
                        transactional_consent: true,
                        marketing_consent: false,
                    })
                    .collect();
            }
            Rec::new(t.orders, &key, order_bytes(&e)?)
        }
        Class::ContactInTimezone => {
            let mut e = placed(&key, now);
            if let Some(p) = e.placed.as_mut() {
                p.customer.timezone = format!("janet.{n}@example.com");
            }
            Rec::new(t.orders, &key, order_bytes(&e)?)
        }
        Class::OrderMismatch => {
            let mut s = a_scan(&anchor.tracking);
            s.order_id = Some(key.clone());
            scan_rec(&s)?
        }
        Class::ConflictingRegistration => {
            expect = Expect::Registration(key.clone());
            let e = shipment(&key, &anchor.tracking, now);
            Rec::new(t.orders, &key, order_bytes(&e)?)
        }
        Class::Panic if with_tracker => {
            let e = OrderEvent {
                event_id: key.clone(),
                ..placed(PANIC_KEY, now)
            };
            Rec::new(t.orders, PANIC_KEY, order_bytes(&e)?)
        }
        Class::Panic => {
            let mut s = a_scan(PANIC_KEY);
            s.scan_id = key.clone();
            scan_rec(&s)?
        }
    };
    Ok(Planned {
        rec,
        kind: Kind::Bad(class, expect),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_is_in_the_mix_of_the_three_services_and_the_matchers_has_only_scans() {
        let t = Topics {
            orders: "o",
            scans: "s",
        };
        let full = mix(60_000, true, true, 1, &t).unwrap();
        let classes = |m: &Mix| -> std::collections::BTreeSet<Class> {
            m.flood
                .iter()
                .filter_map(|p| match &p.kind {
                    Kind::Bad(c, _) => Some(*c),
                    Kind::Valid(_) => None,
                })
                .collect()
        };
        assert_eq!(classes(&full), all().into_iter().collect());
        assert_eq!(full.anchors.len() + full.flood.len(), 60_000);
        let odd = mix(1_003, true, true, 1, &t).unwrap();
        assert_eq!(odd.anchors.len() + odd.flood.len(), 1_003);

        let matcher = mix(60_000, false, true, 1, &t).unwrap();
        let c = classes(&matcher);
        assert!(ORDER_CLASSES
            .iter()
            .all(|o| !c.contains(o) || *o == Class::Panic));
        assert!(c.contains(&Class::HostileTime) && c.contains(&Class::Panic));
        let baseline = mix(6_000, true, false, 1, &t).unwrap();
        assert_eq!(classes(&baseline), Default::default());
        assert_eq!(baseline.orders.len(), full.orders.len() / 10);
        // No placed orders without the order-tracker: only shipments and scans.
        assert!(matcher.anchors.iter().all(|p| !is_placed(&p.rec.value)));
    }
}

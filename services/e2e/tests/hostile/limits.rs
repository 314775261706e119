//! Records and fields exactly at every input limit are decided; one past it goes
//! to dead-letter as `invalid`, with a reason naming the limit's key and quoting
//! nothing long, and changes no state.

use crate::support::{assert_bounded, letter, summary, Pipeline};
use chrono::{DateTime, Duration, Utc};
use wismo_core::model::{ChannelKind, ContactChannel, Item, OrderEvent};
use wismo_e2e::hostile::{order_bytes, placed, scan, scan_bytes, shipment, Rec};

/// Small enough that a valid order can reach it (the default, 64 KiB, is beyond
/// what valid fields can fill).
const RECORD_BYTES: usize = 8192;

/// An order placed at `at`, padded with items to exactly `bytes` on the wire.
fn sized_order(id: &str, at: DateTime<Utc>, bytes: usize) -> Vec<u8> {
    let mut e = placed(id, at);
    let len = |e: &OrderEvent| order_bytes(e).expect("encodes").len();
    while len(&e) + 200 < bytes {
        let sku = format!("{:0<100}", items_len(&e));
        e.placed.as_mut().expect("placed").items.push(Item {
            sku,
            category: "home".into(),
            quantity: 1,
        });
    }
    // Grow skus a byte at a time, each to the field limit at most.
    while len(&e) < bytes {
        let items = e.placed.as_mut().map(|p| &mut p.items);
        let sku = items.and_then(|i| i.iter_mut().find(|i| i.sku.len() < 128));
        sku.expect("room in the skus").sku.push('x');
    }
    let out = order_bytes(&e).expect("encodes");
    assert_eq!(out.len(), bytes, "padding missed");
    out
}

fn items_len(e: &OrderEvent) -> usize {
    e.placed.as_ref().map_or(0, |p| p.items.len())
}

fn with_placed(id: &str, at: DateTime<Utc>, f: impl FnOnce(&mut OrderEvent)) -> Vec<u8> {
    let mut e = placed(id, at);
    f(&mut e);
    order_bytes(&e).expect("encodes")
}

fn channels(n: usize) -> Vec<ContactChannel> {
    (0..n)
        .map(|_| ContactChannel {
            kind: ChannelKind::Email,
            transactional_consent: true,
            marketing_consent: false,
        })
        .collect()
}

#[test]
fn records_and_fields_at_every_limit_are_decided_and_past_it_dead_lettered() -> anyhow::Result<()> {
    let record_bytes = RECORD_BYTES.to_string();
    let mut p = Pipeline::start(&[("WISMO_LIMIT_RECORD_BYTES", &record_bytes)], &[])?;
    let orders = p.topic("orders");
    let scans = p.topic("carrier-scans");
    let now = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now");
    let ms = Duration::milliseconds(1);
    let (hour, year) = (Duration::hours(1), Duration::days(365));
    let long_id = "x".repeat(5_000);
    let email = "janet.piiwhistle@example.com";

    // (order id, value, the key named when it is refused).
    let order_cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        ("size-ok", sized_order("size-ok", now, RECORD_BYTES), None),
        (
            "size-over",
            sized_order("size-over", now, RECORD_BYTES + 1),
            Some("WISMO_LIMIT_RECORD_BYTES"),
        ),
        (
            "field-ok",
            with_placed("field-ok", now, |e| {
                e.placed.as_mut().unwrap().customer.customer_id = "c".repeat(128)
            }),
            None,
        ),
        (
            "field-over",
            with_placed("field-over", now, |e| {
                e.placed.as_mut().unwrap().customer.customer_id = "c".repeat(129)
            }),
            Some("WISMO_LIMIT_FIELD_BYTES"),
        ),
        (
            "field-long",
            with_placed("field-long", now, |e| {
                e.placed.as_mut().unwrap().customer.customer_id = long_id.clone()
            }),
            Some("WISMO_LIMIT_FIELD_BYTES"),
        ),
        (
            "timezone-email",
            with_placed("timezone-email", now, |e| {
                e.placed.as_mut().unwrap().customer.timezone = email.into()
            }),
            Some("customer.timezone"),
        ),
        (
            "items-ok",
            with_placed("items-ok", now, |e| {
                e.placed.as_mut().unwrap().items = items(100)
            }),
            None,
        ),
        (
            "items-over",
            with_placed("items-over", now, |e| {
                e.placed.as_mut().unwrap().items = items(101)
            }),
            Some("WISMO_LIMIT_ITEMS"),
        ),
        (
            "channels-ok",
            with_placed("channels-ok", now, |e| {
                e.placed.as_mut().unwrap().customer.channels = channels(8)
            }),
            None,
        ),
        (
            "channels-over",
            with_placed("channels-over", now, |e| {
                e.placed.as_mut().unwrap().customer.channels = channels(9)
            }),
            Some("WISMO_LIMIT_CHANNELS"),
        ),
        (
            "future-ok",
            order_bytes(&placed("future-ok", now + hour))?,
            None,
        ),
        (
            "future-over",
            order_bytes(&placed("future-over", now + hour + ms))?,
            Some("WISMO_LIMIT_EVENT_FUTURE"),
        ),
        ("age-ok", order_bytes(&placed("age-ok", now - year))?, None),
        (
            "age-over",
            order_bytes(&placed("age-over", now - year - ms))?,
            Some("WISMO_LIMIT_EVENT_AGE"),
        ),
        (
            "promise-ok",
            with_placed("promise-ok", now, |e| {
                e.placed.as_mut().unwrap().promised_delivery_date = Some((now + year).date_naive())
            }),
            None,
        ),
        (
            "promise-over",
            with_placed("promise-over", now, |e| {
                e.placed.as_mut().unwrap().promised_delivery_date =
                    (now + year).date_naive().succ_opt()
            }),
            Some("WISMO_LIMIT_PROMISE_AHEAD"),
        ),
    ];
    let huge = "y".repeat(100_000);
    let edd = (now + Duration::days(120)).date_naive();
    // (case, how its scan differs, the key named when it is refused); each case is
    // an order of its own with one shipment, tracking number `TRK-<case>`.
    type Bend = Box<dyn Fn(&mut wismo_core::model::CarrierScan)>;
    let scan_cases: Vec<(&str, Bend, Option<&str>)> = vec![
        (
            "text-ok",
            Box::new(|s| s.description = Some("d".repeat(1024))),
            None,
        ),
        (
            "text-over",
            Box::new(|s| s.description = Some("d".repeat(1025))),
            Some("WISMO_LIMIT_TEXT_BYTES"),
        ),
        (
            "scan-huge",
            Box::new(move |s| s.description = Some(huge.clone())),
            Some("WISMO_LIMIT_RECORD_BYTES"),
        ),
        (
            "code-over",
            Box::new(|s| s.raw_status = "p".repeat(129)),
            Some("WISMO_LIMIT_FIELD_BYTES"),
        ),
        (
            "scan-future-ok",
            Box::new(move |s| s.occurred_at = now + hour),
            None,
        ),
        (
            "scan-future-over",
            Box::new(move |s| s.occurred_at = now + hour + ms),
            Some("WISMO_LIMIT_SCAN_FUTURE"),
        ),
        // A minute inside: the order-tracker checks a routed scan again, against
        // the routed record's time, which is a few milliseconds later.
        (
            "scan-age-ok",
            Box::new(move |s| s.occurred_at = now - year + Duration::minutes(1)),
            None,
        ),
        (
            "scan-age-over",
            Box::new(move |s| s.occurred_at = now - year - ms),
            Some("WISMO_LIMIT_EVENT_AGE"),
        ),
        ("edd-ok", Box::new(move |s| s.carrier_edd = Some(edd)), None),
        (
            "edd-over",
            Box::new(move |s| s.carrier_edd = edd.succ_opt()),
            Some("WISMO_LIMIT_EDD_AHEAD"),
        ),
    ];

    // Orders and shipments first, so that every scan finds its shipment.
    let mut first = Vec::new();
    for (id, value, _) in &order_cases {
        first.push(Rec::new(&orders, id, value.clone()).at(now.timestamp_millis()));
    }
    for (case, _, _) in &scan_cases {
        let tracking = format!("TRK-{case}");
        first.push(Rec::new(&orders, case, order_bytes(&placed(case, now))?));
        first.push(Rec::new(
            &orders,
            case,
            order_bytes(&shipment(case, &tracking, now))?,
        ));
    }
    p.send(&first)?;
    for (case, _, _) in &scan_cases {
        p.wait_registered(&format!("TRK-{case}"))?;
    }
    let mut second = Vec::new();
    for (case, bend, _) in &scan_cases {
        let tracking = format!("TRK-{case}");
        let mut s = scan(&tracking, &format!("{case}-scan"), "picked_up", now);
        bend(&mut s);
        second.push(Rec::new(&scans, &tracking, scan_bytes(&s)?).at(now.timestamp_millis()));
    }
    p.send(&second)?;

    let refused: Vec<(String, &str)> = order_cases
        .iter()
        .filter_map(|(id, _, key)| Some((id.to_string(), (*key)?)))
        .chain(
            scan_cases
                .iter()
                .filter_map(|(case, _, key)| Some((format!("TRK-{case}"), (*key)?))),
        )
        .collect();
    let dead = p.dead_letters(refused.len())?;
    assert_eq!(dead.len(), refused.len(), "{}", summary(&dead));
    for (key, limit) in &refused {
        let d = letter(&dead, key);
        assert_eq!(d["error_kind"], "invalid", "{}", d["reason"]);
        assert!(
            d["reason"].as_str().is_some_and(|r| r.contains(limit)),
            "{key}: {}",
            d["reason"]
        );
    }
    assert_bounded(
        &dead,
        &[&long_id, "d".repeat(1025).as_str(), email, "piiwhistle"],
    );

    // What is at a limit was decided; what is past it left no state.
    let after = placed("after", now + ms);
    p.send(&[Rec::new(&orders, "after", order_bytes(&after)?)])?;
    p.wait_notified("ORDER_CONFIRMED", &["after"])?;
    for (id, _, key) in &order_cases {
        assert_eq!(p.order(id).is_some(), key.is_none(), "order {id}");
    }
    for (case, _, key) in &scan_cases {
        let tracking = format!("TRK-{case}");
        let state = p.order(case).expect("the scan's order");
        let last = &state["shipments"][&tracking]["last_scan"]["scan_id"];
        let applied = last == format!("{case}-scan").as_str();
        assert_eq!(applied, key.is_none(), "{case}: {state:#}");
    }
    assert!(
        p.metric(
            "order-tracker",
            "wismo_limit_refusals_total{limit=\"items\"}"
        ) >= 1.0
    );
    p.assert_all_running();
    Ok(())
}

fn items(n: usize) -> Vec<Item> {
    (0..n)
        .map(|k| Item {
            sku: format!("sku-{k}"),
            category: "home".into(),
            quantity: 1,
        })
        .collect()
}

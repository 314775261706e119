use super::*;
use crate::model::{
    ChannelKind, ContactChannel, Customer, Item, OrderCancelled, OrderPlaced, ScanLocation,
    ShipmentCreated,
};
use chrono::TimeZone;

fn now() -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn placed() -> OrderEvent {
    OrderEvent {
        event_id: "e-1".into(),
        order_id: "o-1".into(),
        occurred_at: now(),
        placed: Some(OrderPlaced {
            customer: Customer {
                customer_id: "c-1".into(),
                locale: "en-US".into(),
                timezone: "Europe/Berlin".into(),
                channels: vec![ContactChannel {
                    kind: ChannelKind::Email,
                    transactional_consent: true,
                    marketing_consent: false,
                }],
            },
            items: vec![Item {
                sku: "sku-1".into(),
                category: "home".into(),
                quantity: 1,
            }],
            promised_delivery_date: NaiveDate::from_ymd_opt(2026, 3, 6),
            destination_country: Some("DE".into()),
        }),
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    }
}

fn scan() -> CarrierScan {
    CarrierScan {
        scan_id: "s-1".into(),
        tracking_number: "1Z1".into(),
        carrier: "ups".into(),
        raw_status: "I".into(),
        raw_status_detail: None,
        description: Some("Arrived at facility".into()),
        occurred_at: now(),
        location: Some(ScanLocation {
            city: Some("Berlin".into()),
            postal_code: None,
            country: Some("DE".into()),
        }),
        carrier_edd: NaiveDate::from_ymd_opt(2026, 3, 5),
        order_id: None,
    }
}

fn limit_of(r: Result<(), InvalidEvent>) -> Option<Limit> {
    r.err().and_then(|e| e.limit())
}

#[test]
fn every_key_is_distinct_and_names_wismo_limit() {
    let keys: std::collections::BTreeSet<_> = Limit::ALL.iter().map(|l| l.key()).collect();
    assert_eq!(keys.len(), Limit::ALL.len());
    assert!(keys.iter().all(|k| k.starts_with("WISMO_LIMIT_")));
}

#[test]
fn a_record_at_the_size_limit_passes_and_one_byte_more_does_not() {
    let l = InputLimits::default();
    assert!(l.check_record_size(l.record_bytes).is_ok());
    let err = l.check_record_size(l.record_bytes + 1).unwrap_err();
    assert_eq!(err.limit(), Some(Limit::RecordBytes));
    assert_eq!(
        err.to_string(),
        "record is 65537 bytes, over the limit of 65536 bytes (WISMO_LIMIT_RECORD_BYTES)"
    );
}

#[test]
fn every_id_field_of_an_order_is_bounded() {
    let l = InputLimits::default();
    let at = "x".repeat(l.field_bytes);
    let over = "x".repeat(l.field_bytes + 1);
    type Set = fn(&mut OrderEvent, String);
    let setters: [(&str, Set); 7] = [
        ("event_id", |e, v| e.event_id = v),
        ("order_id", |e, v| e.order_id = v),
        ("customer_id", |e, v| {
            e.placed.as_mut().unwrap().customer.customer_id = v
        }),
        ("locale", |e, v| {
            e.placed.as_mut().unwrap().customer.locale = v
        }),
        ("sku", |e, v| e.placed.as_mut().unwrap().items[0].sku = v),
        ("category", |e, v| {
            e.placed.as_mut().unwrap().items[0].category = v
        }),
        ("destination_country", |e, v| {
            e.placed.as_mut().unwrap().destination_country = Some(v)
        }),
    ];
    for (name, set) in setters {
        let mut e = placed();
        set(&mut e, at.clone());
        assert!(l.check_order_event(&e).is_ok(), "{name} at the limit");
        set(&mut e, over.clone());
        let err = l.check_order_event(&e).unwrap_err();
        assert_eq!(err.limit(), Some(Limit::FieldBytes), "{name}");
        assert!(err.to_string().contains(name), "{name}: {err}");
        // The reason never quotes the value.
        assert!(!err.to_string().contains("xxx"), "{err}");
    }
}

#[test]
fn shipment_fields_and_sku_counts_are_bounded() {
    let l = InputLimits::default();
    let mut e = placed();
    e.placed = None;
    e.shipment_created = Some(ShipmentCreated {
        shipment_id: "s".into(),
        tracking_number: "x".repeat(l.field_bytes + 1),
        carrier: "ups".into(),
        service_level: None,
        origin_country: None,
        skus: vec!["a".into(); l.items],
    });
    assert_eq!(limit_of(l.check_order_event(&e)), Some(Limit::FieldBytes));
    let s = e.shipment_created.as_mut().unwrap();
    s.tracking_number = "T".into();
    assert!(l.check_order_event(&e).is_ok());
    e.shipment_created.as_mut().unwrap().skus.push("a".into());
    assert_eq!(limit_of(l.check_order_event(&e)), Some(Limit::Items));
}

#[test]
fn items_and_channels_are_counted() {
    let l = InputLimits::default();
    let mut e = placed();
    let p = e.placed.as_mut().unwrap();
    p.items = vec![p.items[0].clone(); l.items];
    p.customer.channels = vec![p.customer.channels[0].clone(); l.channels];
    assert!(l.check_order_event(&e).is_ok());
    let mut more_items = e.clone();
    let p = more_items.placed.as_mut().unwrap();
    p.items.push(p.items[0].clone());
    assert_eq!(
        limit_of(l.check_order_event(&more_items)),
        Some(Limit::Items)
    );
    let p = e.placed.as_mut().unwrap();
    p.customer.channels.push(p.customer.channels[0].clone());
    let err = l.check_order_event(&e).unwrap_err();
    assert_eq!(err.limit(), Some(Limit::Channels));
    assert!(
        err.to_string()
            .contains("has 9 entries, over the limit of 8"),
        "{err}"
    );
}

#[test]
fn free_text_has_its_own_larger_bound() {
    let l = InputLimits::default();
    let mut s = scan();
    s.description = Some("d".repeat(l.text_bytes));
    assert!(l.check_scan(&s).is_ok());
    s.description = Some("d".repeat(l.text_bytes + 1));
    assert_eq!(limit_of(l.check_scan(&s)), Some(Limit::TextBytes));
    let mut e = placed();
    e.placed = None;
    e.cancelled = Some(OrderCancelled {
        reason: Some("r".repeat(l.text_bytes + 1)),
    });
    assert_eq!(limit_of(l.check_order_event(&e)), Some(Limit::TextBytes));
}

#[test]
fn every_scan_field_is_bounded_and_control_characters_refused() {
    let l = InputLimits::default();
    type Set = fn(&mut CarrierScan, String);
    let setters: [Set; 7] = [
        |s, v| s.scan_id = v,
        |s, v| s.carrier = v,
        |s, v| s.raw_status = v,
        |s, v| s.raw_status_detail = Some(v),
        |s, v| s.location.as_mut().unwrap().city = Some(v),
        |s, v| s.location.as_mut().unwrap().postal_code = Some(v),
        |s, v| s.order_id = Some(v),
    ];
    for set in setters {
        let mut s = scan();
        set(&mut s, "y".repeat(l.field_bytes + 1));
        assert_eq!(limit_of(l.check_scan(&s)), Some(Limit::FieldBytes), "{s:?}");
        set(&mut s, "a\nforged log line".into());
        let err = l.check_scan(&s).unwrap_err();
        assert!(err.to_string().contains("control character"), "{err}");
    }
    let reg = ShipmentRegistered {
        tracking_number: "T".into(),
        carrier: "ups".into(),
        order_id: "o".repeat(l.field_bytes + 1),
        shipment_id: "s".into(),
    };
    assert_eq!(
        limit_of(l.check_registration(&reg)),
        Some(Limit::FieldBytes)
    );
}

#[test]
fn a_scan_may_be_dated_up_to_the_tolerance_after_its_record() {
    let l = InputLimits::default();
    let mut s = scan();
    s.occurred_at = now() + l.scan_future;
    assert!(l.check_scan_times(&s, now()).is_ok());
    s.occurred_at += Duration::milliseconds(1);
    assert_eq!(
        limit_of(l.check_scan_times(&s, now())),
        Some(Limit::ScanFuture)
    );
    // The year 9999, which the codec lets through, is far beyond it.
    s.occurred_at = chrono::Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).unwrap();
    let err = l.check_scan_times(&s, now()).unwrap_err();
    assert!(err.to_string().contains("WISMO_LIMIT_SCAN_FUTURE"), "{err}");
    s.occurred_at = now() - l.event_age;
    assert!(l.check_scan_times(&s, now()).is_ok());
    s.occurred_at -= Duration::milliseconds(1);
    assert_eq!(
        limit_of(l.check_scan_times(&s, now())),
        Some(Limit::EventAge)
    );
}

#[test]
fn an_estimated_delivery_date_must_be_plausible() {
    let l = InputLimits::default();
    let mut s = scan();
    s.carrier_edd = date_after(now(), l.edd_ahead);
    assert!(l.check_scan_times(&s, now()).is_ok());
    s.carrier_edd = s.carrier_edd.and_then(|d| d.succ_opt());
    assert_eq!(
        limit_of(l.check_scan_times(&s, now())),
        Some(Limit::EddAhead)
    );
    s.carrier_edd = NaiveDate::from_ymd_opt(1, 1, 1);
    assert_eq!(
        limit_of(l.check_scan_times(&s, now())),
        Some(Limit::EventAge)
    );
}

#[test]
fn order_times_and_promises_must_be_plausible() {
    let l = InputLimits::default();
    let mut e = placed();
    assert!(l.check_order_times(&e, now()).is_ok());
    e.occurred_at = now() + l.event_future + Duration::seconds(1);
    assert_eq!(
        limit_of(l.check_order_times(&e, now())),
        Some(Limit::EventFuture)
    );
    e.occurred_at = now();
    let p = e.placed.as_mut().unwrap();
    // Promised for the day before the order: a timezone apart, still plausible.
    p.promised_delivery_date = NaiveDate::from_ymd_opt(2026, 3, 1);
    assert!(l.check_order_times(&e, now()).is_ok());
    let p = e.placed.as_mut().unwrap();
    p.promised_delivery_date = NaiveDate::from_ymd_opt(2026, 2, 28);
    let err = l.check_order_times(&e, now()).unwrap_err();
    assert_eq!(err.limit(), None);
    assert!(
        err.to_string()
            .contains("before the day the order was placed"),
        "{err}"
    );
    let p = e.placed.as_mut().unwrap();
    p.promised_delivery_date = date_after(now(), l.promise_ahead);
    assert!(l.check_order_times(&e, now()).is_ok());
    let p = e.placed.as_mut().unwrap();
    p.promised_delivery_date = Some(NaiveDate::MAX);
    assert_eq!(
        limit_of(l.check_order_times(&e, now())),
        Some(Limit::PromiseAhead)
    );
}

#[test]
fn times_at_chronos_limits_are_refused_without_panicking() {
    let l = InputLimits::default();
    let mut s = scan();
    for at in [
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        chrono::DateTime::<chrono::Utc>::MIN_UTC,
    ] {
        s.occurred_at = at;
        assert!(l.check_scan_times(&s, now()).is_err());
        // A record time at the limits is refused as such.
        assert!(l.check_scan_times(&scan(), at).is_err());
    }
    let mut e = placed();
    e.occurred_at = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    e.placed.as_mut().unwrap().promised_delivery_date = Some(NaiveDate::MIN);
    assert!(l.check_order_times(&e, now()).is_err());
}

#[test]
fn a_record_keyed_otherwise_is_named_safely() {
    assert!(check_key(Some(b"T1"), "tracking_number", "T1").is_ok());
    let err = check_key(Some(b"jo@example.com"), "tracking_number", "T1").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("tracking_number") && text.contains("`T1`"),
        "{text}"
    );
    assert!(!text.contains("example"), "{text}");
    let err = check_key(None, "order_id", &"o".repeat(500))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no key") && err.len() < 200, "{err}");
}

use super::*;
use chrono::{Duration, TimeZone};

fn t(h: i64) -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap() + Duration::hours(h)
}

fn scan(id: &str, order_id: Option<&str>) -> MatcherInput {
    MatcherInput::Scan {
        scan: CarrierScan {
            scan_id: id.into(),
            tracking_number: "T1".into(),
            carrier: "ups".into(),
            raw_status: "I".into(),
            raw_status_detail: None,
            description: None,
            occurred_at: t(0),
            location: None,
            carrier_edd: None,
            order_id: order_id.map(Into::into),
        },
        origin: Origin {
            topic: "carrier-scans".into(),
            partition: 0,
            offset: 1,
        },
    }
}

fn registered() -> MatcherInput {
    MatcherInput::ShipmentRegistered(ShipmentRegistered {
        tracking_number: "T1".into(),
        carrier: "ups".into(),
        order_id: "o1".into(),
        shipment_id: "s1".into(),
    })
}

fn routed(step: &MatcherStep) -> Vec<String> {
    step.outputs
        .iter()
        .filter_map(|o| match o {
            MatcherOutput::Routed { routed: r, .. } => {
                Some(format!("{}:{}", r.order_id, r.scan.scan_id))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn holds_until_registered_then_routes_directly() {
    let c = MatcherConfig::default();
    let s = decide(&c, None, scan("a", None), t(0));
    assert!(s.outputs.is_empty());
    let s = decide(&c, s.state, scan("a", None), t(1)); // resend while held
    assert_eq!(s.state.as_ref().map(|st| st.held.len()), Some(1));
    let s = decide(&c, s.state, registered(), t(2));
    assert_eq!(routed(&s), vec!["o1:a"]);
    let s = decide(&c, s.state, scan("b", None), t(3));
    assert_eq!(routed(&s), vec!["o1:b"]);
}

#[test]
fn a_scan_naming_its_order_is_routed_at_once_and_keeps_no_state() {
    let c = MatcherConfig::default();
    let s = decide(&c, None, scan("a", Some("o9")), t(0));
    assert_eq!(routed(&s), vec!["o9:a"]);
    assert!(s.state.is_none());
}

#[test]
fn the_hold_is_bounded_in_size_and_time() {
    let c = MatcherConfig {
        max_held_per_tracking: 2,
        ..MatcherConfig::default()
    };
    let mut state = None;
    let mut unmatched = 0;
    for id in ["a", "b", "c"] {
        let s = decide(&c, state, scan(id, None), t(0));
        unmatched += s.outputs.len();
        state = s.state;
    }
    assert_eq!(unmatched, 1, "the third scan overflows the hold");
    let st = state.expect("two scans held");
    assert_eq!(next_deadline(&c, &st), Some(t(72)));
    let early = on_timer(&c, st.clone(), t(71));
    assert!(early.outputs.is_empty());
    let late = on_timer(&c, st, t(72));
    assert_eq!(late.outputs.len(), 2);
    assert!(late.state.is_none(), "nothing left to remember");
}

#[test]
fn a_mapping_is_forgotten_after_its_retention() {
    let c = MatcherConfig::default();
    let s = decide(&c, None, registered(), t(0));
    let st = s.state.expect("mapping kept");
    assert_eq!(next_deadline(&c, &st), Some(t(0) + c.mapping_retention));
    assert!(on_timer(&c, st, t(0) + c.mapping_retention).state.is_none());
}

#[test]
fn a_released_scan_says_since_when_it_was_held_and_a_direct_one_does_not() {
    let c = MatcherConfig::default();
    let since = |s: &MatcherStep| -> Vec<Option<Timestamp>> {
        s.outputs
            .iter()
            .filter_map(|o| match o {
                MatcherOutput::Routed { held_since, .. } => Some(*held_since),
                _ => None,
            })
            .collect()
    };
    let s = decide(&c, None, scan("a", None), t(5));
    let s = decide(&c, s.state, registered(), t(2));
    assert_eq!(since(&s), vec![Some(t(5))]);
    let s = decide(&c, s.state, scan("b", None), t(6));
    assert_eq!(since(&s), vec![None]);
}

#[test]
fn shipment_created_events_imply_a_registration_and_nothing_else_does() {
    use crate::model::{OrderEvent, ShipmentCreated};
    let event = |shipment: Option<ShipmentCreated>| OrderEvent {
        event_id: "e".into(),
        order_id: "o1".into(),
        occurred_at: t(0),
        placed: None,
        shipment_created: shipment,
        cancelled: None,
        return_requested: None,
    };
    let created = ShipmentCreated {
        shipment_id: "s1".into(),
        tracking_number: "T1".into(),
        carrier: "ups".into(),
        service_level: None,
        origin_country: None,
        skus: vec![],
    };
    assert_eq!(
        registration(&event(Some(created))),
        Some(ShipmentRegistered {
            tracking_number: "T1".into(),
            carrier: "ups".into(),
            order_id: "o1".into(),
            shipment_id: "s1".into(),
        })
    );
    // An event with no payload is invalid: no registration either.
    assert_eq!(registration(&event(None)), None);
}

//! Scenario tests for late and stuck detection: exact apologies on a virtual clock.
//! The customer is in America/Chicago (UTC-6, UTC-5 from 2026-03-08).

mod back_on_track;
mod per_incident;

use crate::common::{self, *};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use wismo_core::calendar::BusinessCalendar;
use wismo_core::delay::{ApologyMode, DelayPolicy, Severity};
use wismo_core::model::{DelayApologyCommand, DelayReason, Timestamp};
use wismo_core::tracker::TrackerConfig;

fn utc(d: u32, h: u32, m: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).unwrap()
}

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

/// Minutes since t(0) (Mon 2026-03-02 09:00 UTC) of a UTC instant.
fn at(t: Timestamp) -> i64 {
    (t - common::t(0)).num_minutes()
}

fn order_promised(order: &str, promised: u32) -> Input {
    let Input::Order(mut e) = placed(order, 0) else {
        unreachable!()
    };
    if let Some(p) = e.placed.as_mut() {
        p.promised_delivery_date = Some(date(promised));
    }
    Input::Order(e)
}

fn shipment_from(order: &str, id: &str, tracking: &str, carrier: &str, origin: &str) -> Input {
    let Input::Order(mut e): Input = shipment(order, id, tracking, carrier, 1) else {
        unreachable!()
    };
    if let Some(s) = e.shipment_created.as_mut() {
        s.origin_country = Some(origin.into());
    }
    Input::Order(e)
}

fn scan_at(id: &str, tracking: &str, code: &str, when: Timestamp) -> (i64, Input) {
    (at(when), scan(id, tracking, "generic", code, at(when)))
}

fn with_edd(input: (i64, Input), edd: u32) -> (i64, Input) {
    let (a, Input::Scan(mut s)) = input else {
        unreachable!()
    };
    s.carrier_edd = Some(date(edd));
    (a, Input::Scan(s))
}

/// Runs the inputs, then the clock to `until`; returns the apologies.
fn apologies(
    inputs: Vec<(i64, Input)>,
    policy: DelayPolicy,
    until: Timestamp,
) -> Vec<DelayApologyCommand> {
    common::apologies(&emitted(inputs, policy, until))
        .into_iter()
        .cloned()
        .collect()
}

/// Runs the inputs in arrival order, then the clock to `until`.
fn emitted(inputs: Vec<(i64, Input)>, policy: DelayPolicy, until: Timestamp) -> Run {
    let tracker = TrackerConfig {
        coalesce_window: Duration::seconds(30),
        delay: policy,
        ..TrackerConfig::default()
    };
    run_with(tracker, &inputs, until)
}

fn summary(a: &[DelayApologyCommand]) -> Vec<(DelayReason, i32, Timestamp, Vec<String>)> {
    a.iter()
        .map(|c| {
            (
                c.reason,
                c.stage,
                c.detectable_at,
                c.tracking_numbers.clone(),
            )
        })
        .collect()
}

fn base(promised: u32) -> Vec<(i64, Input)> {
    vec![
        (0, order_promised("o1", promised)),
        (1, shipment_from("o1", "s1", "T1", "generic", "US")),
    ]
}

#[test]
fn late_by_promise_at_the_end_of_the_local_day() {
    let mut inputs = base(4);
    inputs.push(scan_at("a", "T1", "picked_up", utc(2, 12, 0)));
    inputs.push(scan_at("b", "T1", "in_transit", utc(3, 12, 0)));
    inputs.push(scan_at("c", "T1", "in_transit", utc(4, 23, 0)));
    let got = apologies(inputs, DelayPolicy::default(), utc(5, 15, 0));
    // Wednesday 4 March ends at midnight in Chicago: 06:00 UTC on the 5th.
    assert_eq!(
        summary(&got),
        vec![(DelayReason::Late, 1, utc(5, 6, 0), vec!["T1".to_string()])]
    );
    let a = &got[0];
    assert_eq!(a.days_late, Some(1));
    assert_eq!(a.severity, Severity::Minor);
    assert_eq!(a.compensation, None);
    assert_eq!(a.promised_delivery_date, Some(date(4)));
    assert_eq!(a.template_key, "delay_apology.late");
    // Detected at midnight, inside quiet hours: judged again and sent at 08:00.
    assert_eq!(a.decided_at, utc(5, 14, 0));
}

#[test]
fn delivered_on_time_is_no_incident() {
    let mut inputs = base(4);
    inputs.push(scan_at("a", "T1", "picked_up", utc(2, 12, 0)));
    inputs.push(scan_at("b", "T1", "delivered", utc(4, 20, 0)));
    assert!(apologies(inputs, DelayPolicy::default(), utc(12, 0, 0)).is_empty());
}

#[test]
fn predicted_late_apologises_before_the_promise_and_once() {
    let mut inputs = base(6);
    inputs.push(scan_at("a", "T1", "picked_up", utc(2, 12, 0)));
    inputs.push(with_edd(scan_at("b", "T1", "in_transit", utc(3, 12, 0)), 9));
    // More scans keep it moving; the promise passes on the 7th: same incident.
    inputs.push(scan_at("c", "T1", "in_transit", utc(5, 12, 0)));
    inputs.push(scan_at("d", "T1", "in_transit", utc(6, 22, 0)));
    let got = apologies(inputs, DelayPolicy::default(), utc(7, 12, 0));
    assert_eq!(
        summary(&got),
        vec![(
            DelayReason::PredictedLate,
            1,
            utc(3, 12, 0),
            vec!["T1".to_string()]
        )]
    );
    assert_eq!(got[0].new_estimated_delivery_date, Some(date(9)));
    assert_eq!(got[0].days_late, Some(3));
    assert_eq!(got[0].severity, Severity::Moderate);
    assert_eq!(
        got[0].compensation.as_deref(),
        Some("free_shipping_next_order")
    );
}

#[test]
fn a_label_never_picked_up() {
    let mut inputs = base(20);
    inputs.push(scan_at("a", "T1", "label_created", utc(2, 9, 0)));
    let got = apologies(inputs, DelayPolicy::default(), utc(4, 15, 0));
    // Two business days after Monday 03:00 Chicago: Wednesday 03:00 Chicago.
    assert_eq!(
        summary(&got),
        vec![(
            DelayReason::NotPickedUp,
            1,
            utc(4, 9, 0),
            vec!["T1".to_string()]
        )]
    );
}

#[test]
fn stuck_in_transit_counts_business_days_across_the_weekend() {
    let mut inputs = base(20);
    // Last scan Friday 18:00 Chicago (Saturday 00:00 UTC).
    inputs.push(scan_at("p", "T1", "picked_up", utc(2, 15, 0)));
    inputs.push(scan_at("q", "T1", "in_transit", utc(4, 15, 0)));
    inputs.push(scan_at("a", "T1", "in_transit", utc(7, 0, 0)));
    // Nothing on Sunday or Monday, which three calendar days would have flagged.
    assert!(apologies(inputs.clone(), DelayPolicy::default(), utc(10, 4, 0)).is_empty());
    let got = apologies(inputs, DelayPolicy::default(), utc(12, 12, 0));
    // Monday, Tuesday and Wednesday: Wednesday 18:00 Chicago, now UTC-5.
    assert_eq!(
        summary(&got),
        vec![(
            DelayReason::StuckInTransit,
            1,
            utc(11, 23, 0),
            vec!["T1".to_string()]
        )]
    );
    assert_eq!(got[0].silent_hours, Some(119));
}

#[test]
fn international_lanes_allow_five_business_days() {
    let mut inputs = vec![
        (0, order_promised("o1", 30)),
        (1, shipment_from("o1", "s1", "T1", "generic", "CN")),
    ];
    inputs.push(scan_at("a", "T1", "in_transit", utc(2, 15, 0)));
    assert!(apologies(inputs.clone(), DelayPolicy::default(), utc(6, 12, 0)).is_empty());
    let got = apologies(inputs, DelayPolicy::default(), utc(10, 12, 0));
    // Monday 09:00 Chicago + five business days = next Monday 09:00 Chicago (UTC-5).
    assert_eq!(
        summary(&got),
        vec![(
            DelayReason::StuckInTransit,
            1,
            utc(9, 14, 0),
            vec!["T1".to_string()]
        )]
    );
}

#[test]
fn a_carrier_holiday_does_not_count() {
    let mut inputs = base(20);
    inputs.push(scan_at("a", "T1", "in_transit", utc(2, 15, 0)));
    let mut policy = DelayPolicy::default();
    let mut calendar = BusinessCalendar::default();
    calendar.holidays.insert(date(4));
    policy.calendars.insert("generic".into(), calendar);
    let got = apologies(inputs, policy, utc(9, 12, 0));
    // Monday 09:00 + 3 business days, Wednesday off: Friday 09:00 Chicago.
    assert_eq!(
        summary(&got),
        vec![(
            DelayReason::StuckInTransit,
            1,
            utc(6, 15, 0),
            vec!["T1".to_string()]
        )]
    );
}

#[test]
fn out_for_delivery_but_not_delivered_by_the_end_of_the_day() {
    let mut inputs = base(20);
    inputs.push(scan_at("a", "T1", "out_for_delivery", utc(3, 14, 0)));
    let got = apologies(inputs, DelayPolicy::default(), utc(4, 15, 0));
    assert_eq!(
        summary(&got),
        vec![(
            DelayReason::NotDeliveredToday,
            1,
            utc(4, 6, 0),
            vec!["T1".to_string()]
        )]
    );
}

#[test]
fn a_new_scan_clears_a_stuck_incident_and_a_new_silence_is_a_new_incident() {
    let mut inputs = base(30);
    inputs.push(scan_at("a", "T1", "in_transit", utc(2, 15, 0)));
    inputs.push(scan_at("b", "T1", "in_transit", utc(5, 18, 0)));
    let got = apologies(inputs, DelayPolicy::default(), utc(11, 12, 0));
    assert_eq!(
        summary(&got),
        vec![
            (
                DelayReason::StuckInTransit,
                1,
                utc(5, 15, 0),
                vec!["T1".to_string()]
            ),
            // Thursday 12:00 Chicago + 3 business days = Tuesday 12:00 Chicago (UTC-5).
            (
                DelayReason::StuckInTransit,
                1,
                utc(10, 17, 0),
                vec!["T1".to_string()]
            ),
        ]
    );
    assert_ne!(got[0].incident_id, got[1].incident_id);
}

#[test]
fn two_late_parcels_of_one_order_are_one_apology() {
    let mut inputs = base(4);
    inputs.push((1, shipment("o1", "s2", "T2", "generic", 1)));
    for (id, tracking) in [("a", "T1"), ("b", "T2")] {
        inputs.push(scan_at(
            &format!("{id}1"),
            tracking,
            "in_transit",
            utc(3, 12, 0),
        ));
        inputs.push(scan_at(
            &format!("{id}2"),
            tracking,
            "in_transit",
            utc(4, 12, 0),
        ));
    }
    let got = apologies(inputs, DelayPolicy::default(), utc(5, 15, 0));
    assert_eq!(
        summary(&got),
        vec![(
            DelayReason::Late,
            1,
            utc(5, 6, 0),
            vec!["T1".to_string(), "T2".to_string()]
        )]
    );
}

#[test]
fn a_cancelled_order_gets_no_apology() {
    let mut inputs = base(4);
    inputs.push((5, cancelled("o1", 5)));
    assert!(apologies(inputs, DelayPolicy::default(), utc(12, 0, 0)).is_empty());
}

#[test]
fn a_late_relayed_out_for_delivery_is_judged_with_its_burst() {
    // Out for delivery on Tuesday afternoon (Chicago) and delivered that evening,
    // both relayed after midnight: the day had ended, but the parcel was delivered.
    let mut together = base(20);
    together.push((
        at(utc(4, 7, 0)),
        scan("a", "T1", "generic", "out_for_delivery", at(utc(3, 20, 0))),
    ));
    together.push((
        at(utc(4, 7, 0)),
        scan("b", "T1", "generic", "delivered", at(utc(4, 1, 0))),
    ));
    assert!(apologies(together, DelayPolicy::default(), utc(6, 0, 0)).is_empty());

    // Relayed alone, it is overdue as soon as its burst has been seen.
    let mut alone = base(20);
    alone.push((
        at(utc(4, 7, 0)),
        scan("a", "T1", "generic", "out_for_delivery", at(utc(3, 20, 0))),
    ));
    let got = apologies(alone, DelayPolicy::default(), utc(4, 15, 0));
    assert_eq!(
        summary(&got),
        vec![(
            DelayReason::NotDeliveredToday,
            1,
            utc(4, 6, 0),
            vec!["T1".to_string()]
        )]
    );
    // Judged with its burst at 01:00 Chicago, in quiet hours: sent at 08:00 if still
    // undelivered then.
    assert_eq!(got[0].decided_at, utc(4, 14, 0));
}

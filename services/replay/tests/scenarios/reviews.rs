//! Scenario tests for review timing and the notification policy, on a virtual clock.

use crate::common::*;
use chrono::{Duration, NaiveTime, TimeZone, Utc};
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::{ChannelKind, OrderEvent, ReturnRequested, ReviewBasis, Timestamp};
use wismo_core::policy::{NotificationPolicy, QuietHours, ReviewPolicy};
use wismo_core::tracker::TrackerConfig;

fn utc(m: u32, d: u32, h: u32, min: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, m, d, h, min, 0).unwrap()
}

fn reviews_policy() -> ReviewPolicy {
    ReviewPolicy {
        delay_by_category: [
            ("apparel".to_string(), Duration::days(5)),
            ("electronics".to_string(), Duration::days(14)),
        ]
        .into_iter()
        .collect(),
        ..ReviewPolicy::default()
    }
}

/// An order placed at `at` (UTC) by a customer in `tz`, with one item of `category`.
fn order(
    id: &str,
    at: Timestamp,
    tz: &str,
    category: &str,
    channels: Vec<wismo_core::model::ContactChannel>,
) -> Input {
    let Input::Order(mut e) = placed_with(id, 0, channels) else {
        unreachable!()
    };
    e.occurred_at = at;
    if let Some(p) = e.placed.as_mut() {
        p.customer.timezone = tz.into();
        p.items[0].category = category.into();
        p.promised_delivery_date = None;
    }
    Input::Order(e)
}

fn ship(id: &str, tracking: &str, at: Timestamp) -> Input {
    let Input::Order(mut e) = shipment(id, &format!("{id}-s"), tracking, "generic", 0) else {
        unreachable!()
    };
    e.occurred_at = at;
    Input::Order(e)
}

fn event_scan(id: &str, tracking: &str, code: &str, at: Timestamp) -> Input {
    let Input::Scan(mut s) = scan(id, tracking, "generic", code, 0) else {
        unreachable!()
    };
    s.occurred_at = at;
    Input::Scan(s)
}

fn return_requested(id: &str, at: Timestamp) -> Input {
    Input::Order(OrderEvent {
        event_id: format!("{id}-return"),
        order_id: id.into(),
        occurred_at: at,
        placed: None,
        shipment_created: None,
        cancelled: None,
        return_requested: Some(ReturnRequested {
            reason: None,
            skus: vec![],
        }),
    })
}

fn email_with_marketing() -> Vec<wismo_core::model::ContactChannel> {
    vec![channel(ChannelKind::Email, true, true)]
}

fn run_at(
    inputs: Vec<(Timestamp, Input)>,
    notifications: NotificationPolicy,
    until: Timestamp,
) -> Run {
    let tracker = TrackerConfig {
        reviews: reviews_policy(),
        notifications,
        ..TrackerConfig::default()
    };
    let mut s = Scenario::new(
        MatcherConfig::default(),
        tracker,
        inputs[0].0 - Duration::hours(1),
    );
    for (at, input) in &inputs {
        s.feed(*at, input);
    }
    let out = s.run_to(until);
    Run { out, scenario: s }
}

fn never_quiet() -> NotificationPolicy {
    let midnight = NaiveTime::from_hms_opt(0, 0, 0).unwrap();
    NotificationPolicy {
        quiet_hours: QuietHours {
            start: midnight,
            end: midnight,
        },
        ..NotificationPolicy::default()
    }
}

/// Placed, shipped and delivered (in `tz`), then the clock runs to `until`.
fn delivered_order(
    id: &str,
    tz: &str,
    category: &str,
    delivered: Timestamp,
    policy: NotificationPolicy,
    until: Timestamp,
) -> Run {
    let tracking = format!("T-{id}");
    let start = delivered - Duration::days(3);
    run_at(
        vec![
            (
                start,
                order(id, start, tz, category, email_with_marketing()),
            ),
            (
                start + Duration::hours(1),
                ship(id, &tracking, start + Duration::hours(1)),
            ),
            (
                start + Duration::hours(2),
                event_scan("p", &tracking, "picked_up", start + Duration::hours(2)),
            ),
            (
                delivered,
                event_scan("d", &tracking, "delivered", delivered),
            ),
        ],
        policy,
        until,
    )
}

#[test]
fn review_at_delivered_plus_the_category_delay() {
    let delivered = utc(3, 5, 15, 0);
    let apparel = delivered_order(
        "o1",
        "America/Chicago",
        "apparel",
        delivered,
        never_quiet(),
        utc(3, 30, 0, 0),
    );
    let r = reviews(&apparel);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].send_at, delivered + Duration::days(5));
    assert_eq!(r[0].basis, ReviewBasis::Delivered);
    assert_eq!(r[0].delivered_at, Some(delivered));
    assert_eq!(r[0].categories, vec!["apparel".to_string()]);
    assert_eq!(r[0].template_key, "review_request");

    let electronics = delivered_order(
        "o2",
        "America/Chicago",
        "electronics",
        delivered,
        never_quiet(),
        utc(3, 30, 0, 0),
    );
    assert_eq!(
        reviews(&electronics)[0].send_at,
        delivered + Duration::days(14)
    );
}

#[test]
fn a_send_time_at_night_moves_to_the_next_local_morning() {
    // Delivered 22:30 Chicago on 2 March (UTC-6); five days later is still 22:30,
    // inside quiet hours: the next morning at 08:00 Chicago, after the DST change
    // of 8 March (UTC-5).
    let delivered = utc(3, 3, 4, 30);
    let out = delivered_order(
        "o1",
        "America/Chicago",
        "apparel",
        delivered,
        NotificationPolicy::default(),
        utc(3, 30, 0, 0),
    );
    let r = reviews(&out);
    assert_eq!(r[0].send_at, utc(3, 8, 13, 0));
    // Far from UTC: Kiritimati (UTC+14), delivered 23:00 local on 2 March.
    let delivered = utc(3, 2, 9, 0);
    let out = delivered_order(
        "o2",
        "Pacific/Kiritimati",
        "apparel",
        delivered,
        NotificationPolicy::default(),
        utc(3, 30, 0, 0),
    );
    // Five days later 23:00 local is quiet; 08:00 local on 8 March = 18:00 UTC on the 7th.
    assert_eq!(reviews(&out)[0].send_at, utc(3, 7, 18, 0));
    // Every other command of that order respects quiet hours too.
    for n in notifications(&out) {
        assert!(
            !QuietHours::default().is_quiet(n.send_at, "Pacific/Kiritimati".parse().unwrap()),
            "{n:?}"
        );
    }
}

#[test]
fn no_marketing_consent_no_review_request() {
    let start = utc(3, 2, 15, 0);
    let out = run_at(
        vec![
            (
                start,
                order(
                    "o1",
                    start,
                    "America/Chicago",
                    "apparel",
                    vec![channel(ChannelKind::Email, true, false)],
                ),
            ),
            (start, ship("o1", "T1", start)),
            (
                start + Duration::hours(5),
                event_scan("d", "T1", "delivered", start + Duration::hours(5)),
            ),
        ],
        never_quiet(),
        utc(4, 30, 0, 0),
    );
    assert!(reviews(&out).is_empty());
    assert!(notifications(&out)
        .iter()
        .any(|n| n.milestone == wismo_core::model::Milestone::Delivered));
}

#[test]
fn a_return_requested_before_send_at_cancels_it() {
    let start = utc(3, 2, 15, 0);
    let delivered = start + Duration::hours(5);
    let out = run_at(
        vec![
            (
                start,
                order(
                    "o1",
                    start,
                    "America/Chicago",
                    "apparel",
                    email_with_marketing(),
                ),
            ),
            (start, ship("o1", "T1", start)),
            (delivered, event_scan("d", "T1", "delivered", delivered)),
            (
                delivered + Duration::days(2),
                return_requested("o1", delivered + Duration::days(2)),
            ),
        ],
        never_quiet(),
        utc(4, 30, 0, 0),
    );
    assert!(reviews(&out).is_empty());
}

#[test]
fn delivery_never_confirmed_falls_back_to_fulfilment() {
    let start = utc(3, 2, 15, 0);
    let created = start + Duration::hours(1);
    let mut inputs = vec![
        (
            start,
            order(
                "o1",
                start,
                "America/Chicago",
                "apparel",
                email_with_marketing(),
            ),
        ),
        (created, ship("o1", "T1", created)),
    ];
    // The carrier keeps scanning every two days and never confirms delivery: no
    // silence long enough to be stuck or lost, so nothing holds the request.
    for day in (0..=20).step_by(2) {
        let at = start + Duration::hours(2) + Duration::days(day);
        inputs.push((at, event_scan(&format!("s{day}"), "T1", "in_transit", at)));
    }
    let out = run_at(inputs, never_quiet(), utc(3, 24, 0, 0));
    let apologies = apologies(&out);
    assert!(apologies.is_empty(), "{apologies:#?}");
    let r = reviews(&out);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].basis, ReviewBasis::FulfilledFallback);
    // The last shipment's creation + 21 days.
    assert_eq!(r[0].send_at, created + Duration::days(21));
}

#[test]
fn an_unresolved_exception_holds_the_review_until_it_is_resolved() {
    let start = utc(3, 2, 15, 0);
    let out = run_at(
        vec![
            (
                start,
                order(
                    "o1",
                    start,
                    "America/Chicago",
                    "apparel",
                    email_with_marketing(),
                ),
            ),
            (start, ship("o1", "T1", start)),
            (start + Duration::hours(1), ship("o1", "T2", start)),
            (
                start + Duration::hours(5),
                event_scan("d", "T1", "delivered", start + Duration::hours(5)),
            ),
            (
                start + Duration::hours(6),
                event_scan("x", "T2", "damaged", start + Duration::hours(6)),
            ),
        ],
        never_quiet(),
        utc(5, 30, 0, 0),
    );
    assert!(reviews(&out).is_empty());
}

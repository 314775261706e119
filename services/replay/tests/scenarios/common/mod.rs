//! Builders for the scenario and property tests, and readers of what a run decided.
#![allow(dead_code)]

mod harness;

pub use harness::{Out, Scenario};
pub use replay::Input;

use chrono::{Duration, TimeZone};
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::*;
use wismo_core::tracker::{
    HeldBack, HoldReason, Outcome, StatusChange, TrackerConfig, RETURNING_TO_SENDER,
};

/// Minutes after a fixed Monday morning, 2026-03-02 09:00 UTC.
pub fn t(minutes: i64) -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

pub fn placed(order: &str, at: i64) -> Input {
    placed_with(order, at, vec![channel(ChannelKind::Email, true, true)])
}

pub fn channel(kind: ChannelKind, transactional: bool, marketing: bool) -> ContactChannel {
    ContactChannel {
        kind,
        transactional_consent: transactional,
        marketing_consent: marketing,
    }
}

pub fn placed_with(order: &str, at: i64, channels: Vec<ContactChannel>) -> Input {
    Input::Order(OrderEvent {
        event_id: format!("{order}-placed"),
        order_id: order.into(),
        occurred_at: t(at),
        placed: Some(OrderPlaced {
            customer: Customer {
                customer_id: format!("cust-{order}"),
                locale: "en-US".into(),
                timezone: "America/Chicago".into(),
                channels,
            },
            items: vec![Item {
                sku: "sku-1".into(),
                category: "apparel".into(),
                quantity: 1,
            }],
            promised_delivery_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 6),
            destination_country: Some("US".into()),
        }),
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    })
}

pub fn shipment(order: &str, shipment_id: &str, tracking: &str, carrier: &str, at: i64) -> Input {
    Input::Order(OrderEvent {
        event_id: format!("{order}-{shipment_id}-created"),
        order_id: order.into(),
        occurred_at: t(at),
        placed: None,
        shipment_created: Some(ShipmentCreated {
            shipment_id: shipment_id.into(),
            tracking_number: tracking.into(),
            carrier: carrier.into(),
            service_level: Some("ground".into()),
            origin_country: Some("US".into()),
            skus: vec!["sku-1".into()],
        }),
        cancelled: None,
        return_requested: None,
    })
}

pub fn cancelled(order: &str, at: i64) -> Input {
    Input::Order(OrderEvent {
        event_id: format!("{order}-cancelled"),
        order_id: order.into(),
        occurred_at: t(at),
        placed: None,
        shipment_created: None,
        cancelled: Some(OrderCancelled { reason: None }),
        return_requested: None,
    })
}

pub fn scan(id: &str, tracking: &str, carrier: &str, code: &str, at: i64) -> Input {
    Input::Scan(CarrierScan {
        scan_id: id.into(),
        tracking_number: tracking.into(),
        carrier: carrier.into(),
        raw_status: code.into(),
        raw_status_detail: None,
        description: None,
        occurred_at: t(at),
        location: None,
        carrier_edd: None,
        order_id: None,
    })
}

pub fn config() -> (MatcherConfig, TrackerConfig) {
    (
        MatcherConfig::default(),
        TrackerConfig {
            coalesce_window: Duration::seconds(30),
            ..TrackerConfig::default()
        },
    )
}

pub fn tracker_config() -> TrackerConfig {
    config().1
}

/// What a run put on the output topics, and the services it ran on (for what
/// they kept in state).
pub struct Run {
    pub out: Vec<Out>,
    pub scenario: Scenario,
}

/// Feeds `(arrival minute, input)` in the order given and runs the clock four days
/// (past every hold) past the last arrival.
pub fn run(inputs: &[(i64, Input)]) -> Run {
    let (m, tr) = config();
    let mut s = Scenario::new(m, tr, t(-60));
    for (at, input) in inputs {
        s.feed(t(*at), input);
    }
    let end = inputs.iter().map(|(a, _)| *a).max().unwrap_or(0);
    let out = s.run_to(t(end) + Duration::days(4));
    Run { out, scenario: s }
}

/// Like [`run`], with `tracker` instead of the default settings, the inputs in
/// arrival order, and the clock run to `until` (an instant).
pub fn run_with(tracker: TrackerConfig, inputs: &[(i64, Input)], until: Timestamp) -> Run {
    let mut s = Scenario::new(MatcherConfig::default(), tracker, t(-60));
    let mut sorted = inputs.to_vec();
    sorted.sort_by_key(|(a, _)| *a);
    for (at, input) in &sorted {
        s.feed(t(*at), input);
    }
    let out = s.run_to(until);
    Run { out, scenario: s }
}

/// Minutes since `t(0)` of a UTC instant, for `run` and the builders.
pub fn at(t: Timestamp) -> i64 {
    (t - self::t(0)).num_minutes()
}

pub fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
    chrono::Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

pub fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// An order placed at minute `at` by a customer in `tz`, promised for `promised`,
/// to `country`; consent for transactional and marketing email.
pub fn order_to(
    order: &str,
    at: i64,
    tz: &str,
    promised: Option<chrono::NaiveDate>,
    country: &str,
) -> Input {
    let Input::Order(mut e) = placed(order, at) else {
        unreachable!()
    };
    if let Some(p) = e.placed.as_mut() {
        p.customer.timezone = tz.into();
        p.promised_delivery_date = promised;
        p.destination_country = Some(country.into());
    }
    Input::Order(e)
}

/// A shipment shipped from `origin_country`.
pub fn shipment_from(
    order: &str,
    shipment_id: &str,
    tracking: &str,
    carrier: &str,
    at: i64,
    origin_country: &str,
) -> Input {
    let Input::Order(mut e) = shipment(order, shipment_id, tracking, carrier, at) else {
        unreachable!()
    };
    if let Some(s) = e.shipment_created.as_mut() {
        s.origin_country = Some(origin_country.into());
    }
    Input::Order(e)
}

/// A scan that happened at `happened` (UTC) and arrives then.
pub fn scan_at(
    id: &str,
    tracking: &str,
    carrier: &str,
    code: &str,
    happened: Timestamp,
) -> (i64, Input) {
    (
        at(happened),
        scan(id, tracking, carrier, code, at(happened)),
    )
}

/// The same scan, carrying a carrier estimate.
pub fn with_edd(input: (i64, Input), edd: chrono::NaiveDate) -> (i64, Input) {
    let (a, Input::Scan(mut s)) = input else {
        unreachable!()
    };
    s.carrier_edd = Some(edd);
    (a, Input::Scan(s))
}

pub fn notifications(run: &Run) -> Vec<&NotificationCommand> {
    run.out
        .iter()
        .filter_map(|e| match e {
            Out::Notification(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// `(order, shipment or "-", milestone)` per notification, sorted.
pub fn milestones(run: &Run) -> Vec<(String, String, Milestone)> {
    let mut v: Vec<_> = notifications(run)
        .into_iter()
        .map(|c| {
            (
                c.order_id.clone(),
                c.shipment_id.clone().unwrap_or_else(|| "-".into()),
                c.milestone,
            )
        })
        .collect();
    v.sort();
    v
}

pub fn apologies(run: &Run) -> Vec<&DelayApologyCommand> {
    run.out
        .iter()
        .filter_map(|e| match e {
            Out::DelayApology(a) => Some(a),
            _ => None,
        })
        .collect()
}

pub fn reviews(run: &Run) -> Vec<&ReviewRequestCommand> {
    run.out
        .iter()
        .filter_map(|e| match e {
            Out::ReviewRequest(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// `(scan id, reason)` of every dead letter (`None`: it carries no scan).
pub fn dead_letters(run: &Run) -> Vec<(Option<String>, String)> {
    run.out
        .iter()
        .filter_map(|e| match e {
            Out::DeadLetter(d) => Some((e.dead_scan().map(|s| s.scan_id), d.reason.clone())),
            _ => None,
        })
        .collect()
}

/// Every held-back decision, the tracker's and the cap's, by the time decided.
pub fn notes(run: &Run) -> Vec<HeldBack> {
    run.scenario.held_back()
}

/// `(what, outcome, reason)` of every held-back decision, by the time decided.
pub fn held_back(run: &Run) -> Vec<(String, Outcome, HoldReason)> {
    notes(run)
        .into_iter()
        .map(|n| (n.what, n.outcome, n.reason))
        .collect()
}

/// `(milestone, reason)` of every milestone decided and never sent: stale, or no
/// consented channel (the tracker's `Suppressed`, as its notes keep it).
pub fn suppressed(run: &Run) -> Vec<(Milestone, HoldReason)> {
    let milestone = |what: &str| {
        [
            Milestone::OrderConfirmed,
            Milestone::Shipped,
            Milestone::OutForDelivery,
            Milestone::AvailableForPickup,
            Milestone::FailedAttempt,
            Milestone::Exception,
            Milestone::Delivered,
            Milestone::ReturnedToSender,
        ]
        .into_iter()
        .find(|m| m.as_str() == what)
        .or((what == RETURNING_TO_SENDER).then_some(Milestone::ReturnedToSender))
    };
    notes(run)
        .into_iter()
        .filter(|n| n.outcome == Outcome::Suppressed)
        .filter(|n| matches!(n.reason, HoldReason::Stale | HoldReason::NoConsentedChannel))
        .filter_map(|n| Some((milestone(&n.what)?, n.reason)))
        .collect()
}

/// Every status change of the orders, as their timelines keep them.
pub fn timeline(run: &Run) -> Vec<StatusChange> {
    run.scenario.timeline()
}

/// `(reason, stage, decided_at)` of each apology.
pub fn apology_summary(run: &Run) -> Vec<(DelayReason, i32, Timestamp)> {
    apologies(run)
        .into_iter()
        .map(|a| (a.reason, a.stage, a.decided_at))
        .collect()
}

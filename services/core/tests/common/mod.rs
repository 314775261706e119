//! Builders for scenario and property tests of the decision core.
#![allow(dead_code)]

use chrono::{Duration, TimeZone};
use wismo_core::matcher::MatcherConfig;
use wismo_core::model::*;
use wismo_core::pipeline::{Emitted, Pipeline, PipelineInput};
use wismo_core::tracker::{HoldReason, Outcome, TrackerConfig};

/// Minutes after a fixed Monday morning, 2026-03-02 09:00 UTC.
pub fn t(minutes: i64) -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

pub fn origin() -> Origin {
    Origin {
        topic: "test".into(),
        partition: 0,
        offset: 0,
    }
}

pub fn placed(order: &str, at: i64) -> PipelineInput {
    placed_with(order, at, vec![channel(ChannelKind::Email, true, true)])
}

pub fn channel(kind: ChannelKind, transactional: bool, marketing: bool) -> ContactChannel {
    ContactChannel {
        kind,
        transactional_consent: transactional,
        marketing_consent: marketing,
    }
}

pub fn placed_with(order: &str, at: i64, channels: Vec<ContactChannel>) -> PipelineInput {
    PipelineInput::Order(OrderEvent {
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

pub fn shipment(
    order: &str,
    shipment_id: &str,
    tracking: &str,
    carrier: &str,
    at: i64,
) -> PipelineInput {
    PipelineInput::Order(OrderEvent {
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

pub fn cancelled(order: &str, at: i64) -> PipelineInput {
    PipelineInput::Order(OrderEvent {
        event_id: format!("{order}-cancelled"),
        order_id: order.into(),
        occurred_at: t(at),
        placed: None,
        shipment_created: None,
        cancelled: Some(OrderCancelled { reason: None }),
        return_requested: None,
    })
}

pub fn scan(id: &str, tracking: &str, carrier: &str, code: &str, at: i64) -> PipelineInput {
    PipelineInput::Scan(scan_record(id, tracking, carrier, code, at))
}

pub fn scan_record(id: &str, tracking: &str, carrier: &str, code: &str, at: i64) -> CarrierScan {
    CarrierScan {
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
    }
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

/// Feeds `(arrival minute, input)` in the order given and runs the clock four days (past every hold) past
/// the last arrival.
pub fn run(inputs: &[(i64, PipelineInput)]) -> Vec<Emitted> {
    let (m, tr) = config();
    let mut p = Pipeline::new(m, tr, t(-60));
    for (at, input) in inputs {
        p.feed(t(*at), input.clone(), origin());
    }
    let end = inputs.iter().map(|(a, _)| *a).max().unwrap_or(0);
    p.advance_to(t(end) + Duration::days(4));
    p.drain()
}

pub fn notifications(emitted: &[Emitted]) -> Vec<&NotificationCommand> {
    emitted
        .iter()
        .filter_map(|e| match e {
            Emitted::Notification(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// `(order, shipment or "-", milestone)` per notification, sorted.
pub fn milestones(emitted: &[Emitted]) -> Vec<(String, String, Milestone)> {
    let mut v: Vec<_> = notifications(emitted)
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

/// Minutes since `t(0)` of a UTC instant, for `run` and the builders.
pub fn at(t: Timestamp) -> i64 {
    (t - self::t(0)).num_minutes()
}

pub fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
    chrono::Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

pub fn tracker_config() -> TrackerConfig {
    config().1
}

/// Like [`run`], with `tracker` instead of the default settings, and the clock run
/// to `until` (an instant) instead of four days past the last arrival.
pub fn run_with(
    tracker: TrackerConfig,
    inputs: &[(i64, PipelineInput)],
    until: Timestamp,
) -> Vec<Emitted> {
    let mut p = Pipeline::new(MatcherConfig::default(), tracker, t(-60));
    let mut sorted = inputs.to_vec();
    sorted.sort_by_key(|(a, _)| *a);
    for (at, input) in sorted {
        p.feed(t(at), input, origin());
    }
    p.advance_to(until);
    p.drain()
}

/// An order placed at minute `at` by a customer in `tz`, promised for `promised`,
/// to `country`; consent for transactional and marketing email.
pub fn order_to(
    order: &str,
    at: i64,
    tz: &str,
    promised: Option<chrono::NaiveDate>,
    country: &str,
) -> PipelineInput {
    let PipelineInput::Order(mut e) = placed(order, at) else {
        unreachable!()
    };
    if let Some(p) = e.placed.as_mut() {
        p.customer.timezone = tz.into();
        p.promised_delivery_date = promised;
        p.destination_country = Some(country.into());
    }
    PipelineInput::Order(e)
}

/// A shipment shipped from `origin_country`.
pub fn shipment_from(
    order: &str,
    shipment_id: &str,
    tracking: &str,
    carrier: &str,
    at: i64,
    origin_country: &str,
) -> PipelineInput {
    let PipelineInput::Order(mut e) = shipment(order, shipment_id, tracking, carrier, at) else {
        unreachable!()
    };
    if let Some(s) = e.shipment_created.as_mut() {
        s.origin_country = Some(origin_country.into());
    }
    PipelineInput::Order(e)
}

/// A scan that happened at `happened` (UTC) and arrives then.
pub fn scan_at(
    id: &str,
    tracking: &str,
    carrier: &str,
    code: &str,
    happened: Timestamp,
) -> (i64, PipelineInput) {
    (
        at(happened),
        scan(id, tracking, carrier, code, at(happened)),
    )
}

/// The same scan, carrying a carrier estimate.
pub fn with_edd(input: (i64, PipelineInput), edd: chrono::NaiveDate) -> (i64, PipelineInput) {
    let (a, PipelineInput::Scan(mut s)) = input else {
        unreachable!()
    };
    s.carrier_edd = Some(edd);
    (a, PipelineInput::Scan(s))
}

pub fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn apologies(emitted: &[Emitted]) -> Vec<&DelayApologyCommand> {
    emitted
        .iter()
        .filter_map(|e| match e {
            Emitted::DelayApology(a) => Some(a),
            _ => None,
        })
        .collect()
}

pub fn reviews(emitted: &[Emitted]) -> Vec<&ReviewRequestCommand> {
    emitted
        .iter()
        .filter_map(|e| match e {
            Emitted::ReviewRequest(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// `(what, outcome, reason)` of every held-back decision, in the order decided.
pub fn held_back(emitted: &[Emitted]) -> Vec<(String, Outcome, HoldReason)> {
    emitted
        .iter()
        .filter_map(|e| match e {
            Emitted::HeldBack(n) => Some((n.what.clone(), n.outcome, n.reason)),
            _ => None,
        })
        .collect()
}

/// `(reason, stage, decided_at)` of each apology.
pub fn apology_summary(emitted: &[Emitted]) -> Vec<(DelayReason, i32, Timestamp)> {
    apologies(emitted)
        .into_iter()
        .map(|a| (a.reason, a.stage, a.decided_at))
        .collect()
}

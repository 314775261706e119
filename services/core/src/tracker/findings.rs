//! Which problems an order has at one instant, and when the next could arise:
//! late or predicted late against the promise, stuck in a phase, presumed lost,
//! carrier exceptions. Pure functions of the state; incidents and apologies follow.

use super::state::{OrderState, Placed, Shipment};
use super::vec_set::VecSet;
use super::TrackerConfig;
use crate::calendar::{business_time_between, end_of_local_day, local_date, LaneCalendar};
use crate::delay::Lane;
use crate::model::{DelayReason, Timestamp};
use crate::status::{Status, SubStatus};
use chrono::Duration;
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};

/// A problem that holds at the moment of evaluation.
#[derive(Debug, Clone)]
pub(super) struct Finding {
    pub reason: DelayReason,
    pub detectable_at: Timestamp,
    pub tracking: VecSet<String>,
    /// How late against the promise, when the finding is about the promise.
    pub lateness: Option<Duration>,
    pub silent_since: Option<Timestamp>,
}

/// Incident families: one open incident per family and order.
pub(super) fn family(reason: DelayReason) -> &'static str {
    match reason {
        DelayReason::Late | DelayReason::PredictedLate => "delay",
        DelayReason::NotPickedUp | DelayReason::StuckInTransit | DelayReason::NotDeliveredToday => {
            "stuck"
        }
        DelayReason::PresumedLost => "presumed_lost",
        DelayReason::Damaged => "damaged",
        DelayReason::Lost => "lost",
        DelayReason::Weather => "weather",
        DelayReason::Customs => "customs",
    }
}

/// How grave a reason is for the customer: a delay with a cause or a silence (1),
/// a broken promise (2), a parcel damaged or lost (3). An episode apologises again
/// when the gravity rises.
pub(super) fn gravity(reason: DelayReason) -> u8 {
    match reason {
        DelayReason::NotPickedUp
        | DelayReason::StuckInTransit
        | DelayReason::NotDeliveredToday
        | DelayReason::Weather
        | DelayReason::Customs => 1,
        DelayReason::Late | DelayReason::PredictedLate => 2,
        DelayReason::PresumedLost | DelayReason::Damaged | DelayReason::Lost => 3,
    }
}

pub(super) fn destination(order: &OrderState) -> Option<&str> {
    order
        .placed
        .as_ref()
        .and_then(|p| p.destination_country.as_deref())
}

pub(super) fn lane(order: &OrderState, shipment: &Shipment) -> Lane {
    match (shipment.origin_country.as_deref(), destination(order)) {
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b) => Lane::International,
        _ => Lane::Domestic,
    }
}

/// The business calendar a parcel travels on.
pub(super) fn calendar<'a>(
    config: &'a TrackerConfig,
    order: &OrderState,
    s: &Shipment,
) -> LaneCalendar<'a> {
    config
        .delay
        .lane_calendar(&s.carrier, s.origin_country.as_deref(), destination(order))
}

/// No delay rule applies to the parcel any more: delivered, on its way back or
/// back, expired, refused by the recipient, or its label voided.
pub(super) fn settled(s: &Shipment) -> bool {
    let refused_or_voided = s.current.as_ref().is_some_and(|c| {
        matches!(
            c.sub_status,
            SubStatus::Refused | SubStatus::ShipmentCancelled
        )
    });
    s.delivered_at.is_some()
        || refused_or_voided
        || matches!(
            s.status(),
            Status::Delivered
                | Status::ReturnedToSender
                | Status::ReturningToSender
                | Status::Expired
        )
}

/// When the carrier last showed it has the parcel: any scan, mapped or not (an
/// unknown code is still a scan of the parcel), else the shipment's creation. For
/// "stuck in transit" and "presumed lost".
pub(super) fn anchor(s: &Shipment) -> Timestamp {
    s.last_scan.as_ref().map_or(s.created_at, |l| l.occurred_at)
}

/// The last mapped scan, else the shipment's creation: what "not picked up" counts
/// from. An unmapped code says nothing about a pick-up, so it cannot hide a parcel
/// that was never collected.
fn mapped_anchor(s: &Shipment) -> Timestamp {
    s.current.as_ref().map_or(s.created_at, |c| c.occurred_at)
}

/// When a shipment would become stuck, and as what, given no new scan.
pub(super) fn stuck_deadline(
    config: &TrackerConfig,
    order: &OrderState,
    s: &Shipment,
    tz: Tz,
) -> Option<(Timestamp, DelayReason)> {
    if settled(s) {
        return None;
    }
    let t = config
        .delay
        .thresholds(&s.carrier, s.service_level.as_deref(), lane(order, s));
    let days = calendar(config, order, s);
    match s.status() {
        Status::Pending | Status::InfoReceived => Some((
            crate::calendar::add_business_time(&days, mapped_anchor(s), t.label_created, tz),
            DelayReason::NotPickedUp,
        )),
        Status::InTransit => Some((
            crate::calendar::add_business_time(&days, anchor(s), t.in_transit, tz),
            DelayReason::StuckInTransit,
        )),
        Status::OutForDelivery => {
            let day = local_date(s.current.as_ref().map_or(anchor(s), |c| c.occurred_at), tz);
            Some((end_of_local_day(day, tz), DelayReason::NotDeliveredToday))
        }
        _ => None,
    }
}

/// When a picked-up parcel with no scan since is presumed lost.
pub(super) fn lost_deadline(
    config: &TrackerConfig,
    order: &OrderState,
    s: &Shipment,
) -> Option<Timestamp> {
    let picked_up = !matches!(
        s.status(),
        Status::Pending | Status::InfoReceived | Status::Unknown
    );
    if settled(s) || !picked_up {
        return None;
    }
    let t = config
        .delay
        .thresholds(&s.carrier, s.service_level.as_deref(), lane(order, s));
    anchor(s).checked_add_signed(t.presumed_lost)
}

pub(super) fn promise_end(placed: &Placed, tz: Tz) -> Option<Timestamp> {
    placed
        .promised_delivery_date
        .map(|d| end_of_local_day(d, tz))
}

pub(super) fn undelivered(order: &OrderState) -> VecSet<String> {
    order
        .shipments
        .values()
        .filter(|s| !settled(s))
        .map(|s| s.tracking_number.clone())
        .collect()
}

/// Whether the order's promise can still be broken: undelivered parcels, or none
/// shipped yet.
pub(super) fn promise_open(order: &OrderState) -> bool {
    order.shipments.is_empty() || !undelivered(order).is_empty()
}

/// Every problem that holds at `now`, one per family.
pub(super) fn findings(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    now: Timestamp,
) -> BTreeMap<&'static str, Finding> {
    let tz = placed.timezone();
    let mut found: BTreeMap<&'static str, Finding> = BTreeMap::new();
    let open_undelivered = undelivered(order);

    // Delay against the promise.
    if let (Some(end), Some(promised)) = (promise_end(placed, tz), placed.promised_delivery_date) {
        if now >= end && promise_open(order) {
            let days = config.delay.destination_calendar(destination(order));
            found.insert(
                "delay",
                Finding {
                    reason: DelayReason::Late,
                    detectable_at: end,
                    tracking: open_undelivered.clone(),
                    lateness: Some(business_time_between(&days, end, now, tz)),
                    silent_since: None,
                },
            );
        } else if now < end {
            let late_edds: Vec<&Shipment> = order
                .shipments
                .values()
                .filter(|s| !settled(s) && s.latest_edd.as_ref().is_some_and(|e| e.date > promised))
                .collect();
            if let Some(latest) = late_edds
                .iter()
                .filter_map(|s| s.latest_edd.as_ref())
                .map(|e| e.date)
                .max()
            {
                found.insert(
                    "delay",
                    Finding {
                        reason: DelayReason::PredictedLate,
                        detectable_at: order.changed_at,
                        tracking: late_edds
                            .iter()
                            .map(|s| s.tracking_number.clone())
                            .collect(),
                        lateness: Some(Duration::days((latest - promised).num_days())),
                        silent_since: None,
                    },
                );
            }
        }
    }

    for s in order.shipments.values() {
        if let Some((deadline, reason)) =
            stuck_deadline(config, order, s, tz).filter(|(d, _)| now >= *d)
        {
            let f = found.entry("stuck").or_insert(Finding {
                reason,
                detectable_at: deadline,
                tracking: VecSet::new(),
                lateness: None,
                silent_since: Some(anchor(s)),
            });
            if deadline < f.detectable_at {
                f.reason = reason;
                f.detectable_at = deadline;
            }
            f.silent_since = f.silent_since.min(Some(anchor(s)));
            f.tracking.insert(s.tracking_number.clone());
        }
        if let Some(deadline) = lost_deadline(config, order, s).filter(|d| now >= *d) {
            let f = found.entry("presumed_lost").or_insert(Finding {
                reason: DelayReason::PresumedLost,
                detectable_at: deadline,
                tracking: VecSet::new(),
                lateness: None,
                silent_since: Some(anchor(s)),
            });
            f.detectable_at = f.detectable_at.min(deadline);
            f.tracking.insert(s.tracking_number.clone());
        }
        if let Some(reason) = exception_reason(s) {
            let f = found.entry(family(reason)).or_insert(Finding {
                reason,
                detectable_at: order.changed_at,
                tracking: VecSet::new(),
                lateness: None,
                silent_since: None,
            });
            f.tracking.insert(s.tracking_number.clone());
        }
    }
    found
}

/// Carrier exceptions wismo apologises for. Those the customer must act on (an
/// address problem, duties to pay) are a milestone notification instead.
pub(super) fn exception_reason(s: &Shipment) -> Option<DelayReason> {
    let current = s
        .current
        .as_ref()
        .filter(|c| c.status == Status::Exception)?;
    match current.sub_status {
        SubStatus::Damaged => Some(DelayReason::Damaged),
        SubStatus::Lost => Some(DelayReason::Lost),
        SubStatus::Weather => Some(DelayReason::Weather),
        SubStatus::CustomsHold => Some(DelayReason::Customs),
        _ => None,
    }
}

/// The earliest future instant at which a new problem could arise (for timers).
pub(super) fn next_finding(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    open: &BTreeSet<&str>,
) -> Option<Timestamp> {
    let tz = placed.timezone();
    let mut deadlines: Vec<Timestamp> = Vec::new();
    if !open.contains("delay") && promise_open(order) {
        deadlines.extend(promise_end(placed, tz));
    }
    for s in order.shipments.values() {
        if !open.contains("stuck") {
            deadlines.extend(stuck_deadline(config, order, s, tz).map(|(d, _)| d));
        }
        if !open.contains("presumed_lost") {
            deadlines.extend(lost_deadline(config, order, s));
        }
    }
    deadlines.into_iter().min()
}

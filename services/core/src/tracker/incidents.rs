//! Late and stuck deliveries: which problems an order has now, opening, escalating
//! and closing incidents, and the apology each opening or escalation sends.
//!
//! Incidents are per order and per family (delay, stuck, presumed lost, each kind
//! of carrier exception), so two late parcels of one order make one apology.
//! Evaluation runs only from timers: at a rule's deadline, and a coalescing window
//! after any change, so a burst of scans is judged as a whole.

use super::milestones::{self, transactional_channel, Recipient};
use super::state::{Incident, OrderState, Placed, Shipment};
use super::{SuppressReason, TrackerConfig, TrackerOutput};
use crate::calendar::{end_of_local_day, local_date};
use crate::delay::{Lane, Severity};
use crate::ids::command_id;
use crate::model::{DelayApologyCommand, DelayReason, Timestamp};
use crate::status::{Status, SubStatus};
use chrono::Duration;
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};

/// A problem that holds at the moment of evaluation.
#[derive(Debug, Clone)]
struct Finding {
    reason: DelayReason,
    detectable_at: Timestamp,
    tracking: BTreeSet<String>,
    /// How late against the promise, when the finding is about the promise.
    lateness: Option<Duration>,
    silent_since: Option<Timestamp>,
}

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

fn lane(order: &OrderState, shipment: &Shipment) -> Lane {
    let dest = order
        .placed
        .as_ref()
        .and_then(|p| p.destination_country.as_deref());
    match (shipment.origin_country.as_deref(), dest) {
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b) => Lane::International,
        _ => Lane::Domestic,
    }
}

fn settled(s: &Shipment) -> bool {
    s.delivered_at.is_some()
        || matches!(
            s.status(),
            Status::Delivered
                | Status::ReturnedToSender
                | Status::ReturningToSender
                | Status::Expired
        )
}

/// When the parcel last showed a sign of life: its last scan, else its creation.
fn anchor(s: &Shipment) -> Timestamp {
    s.last_scan.as_ref().map_or(s.created_at, |l| l.occurred_at)
}

/// When a shipment would become stuck, and as what, given no new scan.
fn stuck_deadline(
    config: &TrackerConfig,
    order: &OrderState,
    s: &Shipment,
    tz: Tz,
) -> Option<(Timestamp, DelayReason)> {
    if settled(s) {
        return None;
    }
    let policy = &config.delay;
    let t = policy.thresholds(&s.carrier, s.service_level.as_deref(), lane(order, s));
    let calendar = policy.calendar(&s.carrier);
    match s.status() {
        Status::Pending | Status::InfoReceived => Some((
            calendar.add_business_time(anchor(s), t.label_created, tz),
            DelayReason::NotPickedUp,
        )),
        Status::InTransit => Some((
            calendar.add_business_time(anchor(s), t.in_transit, tz),
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
fn lost_deadline(config: &TrackerConfig, order: &OrderState, s: &Shipment) -> Option<Timestamp> {
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
    Some(anchor(s) + t.presumed_lost)
}

pub(super) fn promise_end(placed: &Placed, tz: Tz) -> Option<Timestamp> {
    placed
        .promised_delivery_date
        .map(|d| end_of_local_day(d, tz))
}

fn undelivered(order: &OrderState) -> BTreeSet<String> {
    order
        .shipments
        .values()
        .filter(|s| !settled(s))
        .map(|s| s.tracking_number.clone())
        .collect()
}

/// Every problem that holds at `now`, one per family.
fn findings(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    now: Timestamp,
) -> BTreeMap<&'static str, Finding> {
    let tz = placed.timezone();
    let mut found: BTreeMap<&'static str, Finding> = BTreeMap::new();
    let open_undelivered = undelivered(order);
    let nothing_delivered_yet = order.shipments.is_empty();

    // Delay against the promise.
    if let (Some(end), Some(promised)) = (promise_end(placed, tz), placed.promised_delivery_date) {
        if now >= end && (nothing_delivered_yet || !open_undelivered.is_empty()) {
            let lateness = config
                .delay
                .default_calendar
                .business_time_between(end, now, tz);
            found.insert(
                "delay",
                Finding {
                    reason: DelayReason::Late,
                    detectable_at: end,
                    tracking: open_undelivered.clone(),
                    lateness: Some(lateness),
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
                tracking: BTreeSet::new(),
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
                tracking: BTreeSet::new(),
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
                tracking: BTreeSet::new(),
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
fn exception_reason(s: &Shipment) -> Option<DelayReason> {
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

fn escalation_deadline(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    incident: &Incident,
) -> Option<Timestamp> {
    if incident.stage >= 2
        || incident.closed_at.is_some()
        || incident.reason == DelayReason::PresumedLost
    {
        return None;
    }
    let tz = placed.timezone();
    let from = if family(incident.reason) == "delay" {
        promise_end(placed, tz).map_or(incident.opened_at, |end| end.max(incident.opened_at))
    } else {
        incident.opened_at
    };
    let carrier = incident
        .tracking_numbers
        .iter()
        .next()
        .and_then(|t| order.shipments.get(t))
        .map(|s| s.carrier.as_str());
    let calendar = carrier.map_or(&config.delay.default_calendar, |c| config.delay.calendar(c));
    Some(calendar.add_business_time(from, config.delay.escalate_after, tz))
}

/// Opens, escalates and closes incidents for what holds at `now`.
pub(super) fn evaluate(
    config: &TrackerConfig,
    order: &mut OrderState,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) {
    let Some(placed) = order.placed.clone() else {
        return;
    };
    if order.cancelled_at.is_some() {
        close_all(order, now, outputs, |_| true);
        return;
    }
    // Judge a burst as a whole: not before the coalescing window after a change.
    if now < order.changed_at + config.coalesce_window {
        return;
    }
    let found = findings(config, order, &placed, now);

    let open_families: BTreeSet<&'static str> =
        order.open_incidents().map(|i| family(i.reason)).collect();
    let closed = close_all(order, now, outputs, |i| {
        !found.contains_key(family(i.reason))
    });
    if config.delay.back_on_track {
        for idx in closed {
            back_on_track(config, order, &placed, idx, now, outputs);
        }
    }

    for (fam, finding) in &found {
        if open_families.contains(fam) {
            let Some(idx) = order
                .incidents
                .iter()
                .position(|i| i.closed_at.is_none() && family(i.reason) == *fam)
            else {
                continue;
            };
            order.incidents[idx]
                .tracking_numbers
                .extend(finding.tracking.iter().cloned());
            let incident = order.incidents[idx].clone();
            if let Some(due) =
                escalation_deadline(config, order, &placed, &incident).filter(|d| now >= *d)
            {
                order.incidents[idx].stage = 2;
                let escalated = order.incidents[idx].clone();
                outputs.push(apology(
                    config, order, &placed, &escalated, finding, due, now,
                ));
            }
        } else {
            let seq = order.incident_seq.entry(fam.to_string()).or_insert(0);
            *seq += 1;
            let incident = Incident {
                id: format!("{fam}-{seq}"),
                reason: finding.reason,
                opened_at: finding.detectable_at,
                stage: 1,
                tracking_numbers: finding.tracking.clone(),
                closed_at: None,
            };
            outputs.push(TrackerOutput::IncidentOpened {
                reason: incident.reason,
                carrier: carrier_of(order, &incident),
            });
            outputs.push(apology(
                config,
                order,
                &placed,
                &incident,
                finding,
                finding.detectable_at,
                now,
            ));
            order.incidents.push(incident);
        }
    }
}

/// Closes the open incidents `pred` selects; returns their indices.
fn close_all(
    order: &mut OrderState,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
    pred: impl Fn(&Incident) -> bool,
) -> Vec<usize> {
    let to_close: Vec<usize> = order
        .incidents
        .iter()
        .enumerate()
        .filter(|(_, i)| i.closed_at.is_none() && pred(i))
        .map(|(n, _)| n)
        .collect();
    for &n in &to_close {
        order.incidents[n].closed_at = Some(now);
        let carrier = carrier_of(order, &order.incidents[n]);
        outputs.push(TrackerOutput::IncidentClosed {
            reason: order.incidents[n].reason,
            carrier,
        });
    }
    to_close
}

/// After a stuck or presumed-lost incident closed: if one of its parcels is in
/// transit again on a fresh scan, say so. Out for delivery, delivered or an exception
/// each have a message of their own, so they get no extra one.
fn back_on_track(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    idx: usize,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) {
    let incident = &order.incidents[idx];
    if !matches!(
        incident.reason,
        DelayReason::StuckInTransit | DelayReason::PresumedLost
    ) {
        return;
    }
    let moving = incident
        .tracking_numbers
        .iter()
        .filter_map(|t| order.shipments.get(t))
        .find(|s| {
            !settled(s) && s.status() == Status::InTransit && now - anchor(s) <= config.stale_window
        });
    let (Some(shipment), Some(channel)) = (moving, transactional_channel(placed)) else {
        return;
    };
    let to = Recipient {
        order,
        placed,
        channel,
    };
    outputs.push(TrackerOutput::Notification(milestones::back_on_track(
        &config.notifications,
        &to,
        shipment,
        &incident.id,
        now,
    )));
}

fn carrier_of(order: &OrderState, incident: &Incident) -> String {
    incident
        .tracking_numbers
        .iter()
        .next()
        .and_then(|t| order.shipments.get(t))
        .map_or_else(|| "none".to_string(), |s| s.carrier.clone())
}

fn severity(config: &TrackerConfig, incident: &Incident, finding: &Finding) -> Severity {
    let base = match incident.reason {
        DelayReason::Late | DelayReason::PredictedLate => config
            .delay
            .severity(finding.lateness.unwrap_or_else(Duration::zero)),
        DelayReason::PresumedLost | DelayReason::Damaged | DelayReason::Lost => Severity::Severe,
        DelayReason::Customs => Severity::Moderate,
        DelayReason::NotPickedUp
        | DelayReason::StuckInTransit
        | DelayReason::NotDeliveredToday
        | DelayReason::Weather => Severity::Minor,
    };
    if incident.stage >= 2 {
        base.max(Severity::Moderate)
    } else {
        base
    }
}

fn apology(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    incident: &Incident,
    finding: &Finding,
    detectable_at: Timestamp,
    now: Timestamp,
) -> TrackerOutput {
    let Some(channel) = transactional_channel(placed) else {
        return TrackerOutput::SuppressedApology {
            order_id: order.order_id.clone(),
            reason: incident.reason,
            why: SuppressReason::NoConsentedChannel,
        };
    };
    let severity = severity(config, incident, finding);
    let new_edd = incident
        .tracking_numbers
        .iter()
        .filter_map(|t| order.shipments.get(t)?.latest_edd.as_ref().map(|e| e.date))
        .max();
    let stage = incident.stage.to_string();
    TrackerOutput::DelayApology(DelayApologyCommand {
        command_id: command_id("delay_apology", &[&order.order_id, &incident.id, &stage]),
        order_id: order.order_id.clone(),
        customer_id: placed.customer.customer_id.clone(),
        incident_id: format!("{}:{}", order.order_id, incident.id),
        reason: incident.reason,
        stage: incident.stage.into(),
        severity,
        // Whole days, rounded up: a parcel an hour past its promise is a day late.
        days_late: finding
            .lateness
            .map(|l| ((l.num_minutes() + 1439) / 1440).max(1) as i32),
        silent_hours: finding.silent_since.map(|s| (now - s).num_hours() as i32),
        promised_delivery_date: placed.promised_delivery_date,
        new_estimated_delivery_date: new_edd,
        compensation: config.delay.compensation.get(&severity).cloned(),
        tracking_numbers: incident.tracking_numbers.iter().cloned().collect(),
        channel,
        template_key: config
            .notifications
            .template(&format!("delay_apology.{}", incident.reason.as_str())),
        locale: placed.customer.locale.clone(),
        send_at: placed.send_at(&config.notifications, now),
        decided_at: now,
        detectable_at,
    })
}

/// The earliest future instant at which evaluation could change something.
pub(super) fn next_deadline(config: &TrackerConfig, order: &OrderState) -> Option<Timestamp> {
    let placed = order.placed.as_ref()?;
    if order.cancelled_at.is_some() {
        return None;
    }
    let tz = placed.timezone();
    let open: BTreeSet<&str> = order.open_incidents().map(|i| family(i.reason)).collect();
    let mut deadlines: Vec<Timestamp> = Vec::new();
    if !open.contains("delay") && (order.shipments.is_empty() || !undelivered(order).is_empty()) {
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
    for incident in order.open_incidents() {
        deadlines.extend(escalation_deadline(config, order, placed, incident));
    }
    // A deadline already past when new evidence arrived waits for the rest of its burst.
    let floor = order.changed_at + config.coalesce_window;
    let earliest = deadlines.into_iter().min().map(|d| d.max(floor));
    earliest.into_iter().chain(order.evaluate_due).min()
}

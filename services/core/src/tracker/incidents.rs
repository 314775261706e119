//! Late and stuck deliveries: opening and closing incidents for the problems that
//! hold, and the apologies they cause.
//!
//! Incidents are per order and per family (delay, stuck, presumed lost, each kind
//! of carrier exception), so two late parcels of one order are one incident. What
//! the customer hears depends on the policy's apology mode: one apology per delay
//! episode of the order ([`super::episodes`], the default), or the earlier rule of
//! one apology (and one escalation) per incident. Evaluation runs only from timers:
//! at a rule's deadline, and a coalescing window after any change, so a burst of
//! scans is judged as a whole.

use super::apology::{self, Apology};
use super::findings::{self, family, Finding};
use super::milestones::{self, transactional_channel, Recipient};
use super::notes::HoldReason;
use super::state::{Incident, OrderState, Placed};
use super::vec_set::VecSet;
use super::{episodes, TrackerConfig, TrackerOutput};
use crate::calendar::{add_business_time, plus};
use crate::delay::ApologyMode;
use crate::model::{DelayReason, Timestamp};
use crate::status::Status;
use std::collections::{BTreeMap, BTreeSet};

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
        episodes::close(order, now, HoldReason::OrderCancelled, outputs);
        return;
    }
    // Judge a burst as a whole: not before the coalescing window after a change.
    if now < plus(order.changed_at, config.coalesce_window) {
        return;
    }
    let found = findings::findings(config, order, &placed, now);

    let open_families: BTreeSet<&'static str> =
        order.open_incidents().map(|i| family(i.reason)).collect();
    let closed = close_all(order, now, outputs, |i| {
        !found.contains_key(family(i.reason))
    });
    if config.delay.back_on_track {
        // One message per parcel moving again, however many incidents it ends.
        let mut told = VecSet::new();
        for idx in closed {
            back_on_track(config, order, &placed, idx, now, &mut told, outputs);
        }
    }

    let mut opened = Vec::new();
    for (fam, finding) in &found {
        if let Some(idx) = open_families
            .contains(fam)
            .then(|| open_index(order, fam))
            .flatten()
        {
            order.incidents[idx]
                .tracking_numbers
                .extend(finding.tracking.iter().cloned());
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
                announced: false,
            };
            outputs.push(TrackerOutput::IncidentOpened {
                reason: incident.reason,
                carrier: carrier_of(order, &incident),
            });
            order.incidents.push(incident);
            opened.push(order.incidents.len() - 1);
        }
    }

    match config.delay.apologies {
        ApologyMode::PerEpisode => episodes::evaluate(config, order, &placed, &found, now, outputs),
        ApologyMode::PerIncident => {
            per_incident(config, order, &placed, &found, &opened, now, outputs)
        }
    }
}

fn open_index(order: &OrderState, fam: &str) -> Option<usize> {
    order
        .incidents
        .iter()
        .position(|i| i.closed_at.is_none() && family(i.reason) == fam)
}

/// The earlier rule: an apology when an incident opens, a stage-2 apology when it
/// is still open `escalate_after` later.
fn per_incident(
    config: &TrackerConfig,
    order: &mut OrderState,
    placed: &Placed,
    found: &BTreeMap<&'static str, Finding>,
    opened: &[usize],
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) {
    for (fam, finding) in found {
        let Some(idx) = open_index(order, fam) else {
            continue;
        };
        let incident = order.incidents[idx].clone();
        let (stage, detectable_at) = if opened.contains(&idx) {
            (1, finding.detectable_at)
        } else if let Some(due) =
            escalation_deadline(config, order, placed, &incident).filter(|d| now >= *d)
        {
            (2, due)
        } else {
            continue;
        };
        order.incidents[idx].stage = stage;
        order.incidents[idx].announced = true;
        let a = Apology {
            id: &incident.id,
            stage,
            reason: incident.reason,
            tracking: &order.incidents[idx].tracking_numbers.clone(),
            finding,
            detectable_at,
        };
        outputs.extend(apology::outputs(config, order, placed, &a, now));
    }
}

/// When an open incident is escalated in the per-incident mode.
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
    Some(escalate_from(
        config,
        order,
        placed,
        incident,
        incident.opened_at,
    ))
}

/// `escalate_after` business time from `opened` (for a delay, from the end of the
/// promised day at the earliest), on the calendar of the incident's first parcel.
pub(super) fn escalate_from(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    incident: &Incident,
    opened: Timestamp,
) -> Timestamp {
    let tz = placed.timezone();
    let from = if family(incident.reason) == "delay" {
        findings::promise_end(placed, tz).map_or(opened, |end| end.max(opened))
    } else {
        opened
    };
    let shipment = incident
        .tracking_numbers
        .iter()
        .next()
        .and_then(|t| order.shipments.get(t));
    match shipment {
        Some(s) => add_business_time(
            &findings::calendar(config, order, s),
            from,
            config.delay.escalate_after,
            tz,
        ),
        None => add_business_time(
            &config
                .delay
                .destination_calendar(findings::destination(order)),
            from,
            config.delay.escalate_after,
            tz,
        ),
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

/// After a stuck or presumed-lost incident the customer was told about closed: if
/// one of its parcels is in transit again on a fresh scan, say so. Out for
/// delivery, delivered or an exception each have a message of their own, so they
/// get no extra one.
fn back_on_track(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    idx: usize,
    now: Timestamp,
    told: &mut VecSet<String>,
    outputs: &mut Vec<TrackerOutput>,
) {
    let incident = &order.incidents[idx];
    let stuck_or_lost = matches!(
        incident.reason,
        DelayReason::StuckInTransit | DelayReason::PresumedLost
    );
    if !stuck_or_lost || !incident.announced {
        return;
    }
    let moving = incident
        .tracking_numbers
        .iter()
        .filter_map(|t| order.shipments.get(t))
        .find(|s| {
            !findings::settled(s)
                && s.status() == Status::InTransit
                && now - findings::anchor(s) <= config.stale_window
                && !told.contains(&s.tracking_number)
        });
    let (Some(shipment), Some(channel)) = (moving, transactional_channel(placed)) else {
        return;
    };
    told.insert(shipment.tracking_number.clone());
    let to = Recipient {
        order,
        placed,
        channel,
    };
    let cmd = milestones::back_on_track(&config.notifications, &to, shipment, &incident.id, now);
    outputs.extend(milestones::with_quiet_note(
        order,
        "back_on_track",
        cmd,
        now,
    ));
}

pub(super) fn carrier_of(order: &OrderState, incident: &Incident) -> String {
    incident
        .tracking_numbers
        .iter()
        .next()
        .and_then(|t| order.shipments.get(t))
        .map_or_else(|| "none".to_string(), |s| s.carrier.clone())
}

/// The earliest future instant at which evaluation could change something.
pub(super) fn next_deadline(config: &TrackerConfig, order: &OrderState) -> Option<Timestamp> {
    let placed = order.placed.as_ref()?;
    if order.cancelled_at.is_some() {
        return None;
    }
    let open: BTreeSet<&str> = order.open_incidents().map(|i| family(i.reason)).collect();
    let mut deadlines: Vec<Timestamp> = Vec::new();
    deadlines.extend(findings::next_finding(config, order, placed, &open));
    match config.delay.apologies {
        ApologyMode::PerIncident => {
            for incident in order.open_incidents() {
                deadlines.extend(escalation_deadline(config, order, placed, incident));
            }
        }
        ApologyMode::PerEpisode => deadlines.extend(episodes::next_deadline(config, order, placed)),
    }
    // A deadline already past when new evidence arrived waits for the rest of its burst.
    let floor = plus(order.changed_at, config.coalesce_window);
    let earliest = deadlines.into_iter().min().map(|d| d.max(floor));
    earliest.into_iter().chain(order.evaluate_due).min()
}

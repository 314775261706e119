//! One apology per delay episode.
//!
//! An order's episode opens with its first apology, whatever the reason, and
//! lasts while any of its incidents is open; later reasons and other parcels fold
//! into it. A further apology in the same episode goes out only when things
//! materially worsen: a graver reason (a broken promise after a silence, a parcel
//! lost or damaged), a carrier estimate further out than the one the customer was
//! given, or, once, a problem that persists `escalate_after` business time. Each waits
//! for `apology_gap` after the order's last apology, and out of the recipient's
//! quiet hours: deferred in the state, and judged again when due.

use super::apology::{self, Apology};
use super::findings::{family, gravity, Finding};
use super::incidents::escalate_from;
use super::notes::{HeldBack, HoldReason, Outcome};
use super::state::{Episode, Incident, OrderState, Placed};
use super::vec_set::VecSet;
use super::{TrackerConfig, TrackerOutput};
use crate::model::{DelayReason, Timestamp};
use std::collections::BTreeMap;

/// Why an apology is due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// The episode's first apology.
    Opened,
    /// A graver reason than the customer was told.
    Graver,
    /// The carrier's estimate moved past the one the customer was given.
    LaterEstimate,
    /// Still unresolved `escalate_after` after the episode opened.
    Persists,
}

pub(super) fn evaluate(
    config: &TrackerConfig,
    order: &mut OrderState,
    placed: &Placed,
    found: &BTreeMap<&'static str, Finding>,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) {
    let Some(lead) = lead(order).cloned() else {
        close(order, now, HoldReason::Resolved, outputs);
        return;
    };
    let Some(finding) = found.get(family(lead.reason)) else {
        return;
    };
    let tracking: VecSet<String> = order
        .open_incidents()
        .flat_map(|i| i.tracking_numbers.iter().cloned())
        .collect();
    let edd = apology::new_edd(order, &tracking);

    if order.open_episode().is_none() {
        let n = order.episodes.len() + 1;
        order.episodes.push(Episode {
            id: format!("episode-{n}"),
            opened_at: lead.opened_at,
            apologies: 0,
            told_reason: None,
            told_gravity: 0,
            told_edd: None,
            escalated: false,
            pending_due: None,
            pending_reason: None,
            tracking_numbers: VecSet::new(),
            closed_at: None,
        });
    }
    let idx = order.episodes.len() - 1;
    order.episodes[idx]
        .tracking_numbers
        .extend(tracking.iter().cloned());
    let episode = order.episodes[idx].clone();

    let Some((cause, detectable_at)) = cause(config, order, placed, &episode, &lead, edd, now)
    else {
        if episode.pending_due.is_some() {
            order.episodes[idx].pending_due = None;
            order.episodes[idx].pending_reason = None;
            outputs.push(TrackerOutput::HeldBack(note(
                order,
                &lead,
                now,
                Outcome::Suppressed,
                HoldReason::Resolved,
            )));
        }
        return;
    };

    let gap_due = order
        .last_apology_at
        .and_then(|t| t.checked_add_signed(config.delay.apology_gap))
        .filter(|due| *due > now);
    if let Some(due) = gap_due {
        if episode.pending_due != Some(due) {
            order.episodes[idx].pending_due = Some(due);
            order.episodes[idx].pending_reason = Some(lead.reason);
            outputs.push(TrackerOutput::HeldBack(
                note(order, &lead, now, Outcome::Held, HoldReason::EpisodeGap).until(due),
            ));
        }
        return;
    }

    // Decided inside the recipient's quiet hours: wait in the state for the
    // morning and judge again then, so a scan relayed overnight (a delivery before
    // the promise passed) can still spare the customer a false apology.
    let send_at = placed.send_at(&config.notifications, now);
    if send_at > now {
        if episode.pending_due != Some(send_at) {
            order.episodes[idx].pending_due = Some(send_at);
            order.episodes[idx].pending_reason = Some(lead.reason);
            outputs.push(TrackerOutput::HeldBack(
                note(order, &lead, now, Outcome::Held, HoldReason::QuietHours).until(send_at),
            ));
        }
        return;
    }

    let stage = episode.apologies.saturating_add(1);
    let a = Apology {
        id: &episode.id,
        stage,
        reason: lead.reason,
        tracking: &order.episodes[idx].tracking_numbers.clone(),
        finding,
        detectable_at,
    };
    let sent = apology::outputs(config, order, placed, &a, now);
    if let Some(at) = sent.iter().find_map(|o| match o {
        TrackerOutput::DelayApology(c) => Some(c.send_at),
        _ => None,
    }) {
        order.last_apology_at = Some(at);
    }
    outputs.extend(sent);

    let e = &mut order.episodes[idx];
    e.apologies = stage;
    e.told_reason = Some(lead.reason);
    e.told_gravity = e.told_gravity.max(gravity(lead.reason));
    e.told_edd = edd.max(e.told_edd);
    e.escalated |= cause != Cause::Opened;
    e.pending_due = None;
    e.pending_reason = None;
    for incident in order.incidents.iter_mut().filter(|i| i.closed_at.is_none()) {
        incident.announced = true;
    }
}

/// The open incident the next apology is about: the gravest, then the oldest.
fn lead(order: &OrderState) -> Option<&Incident> {
    order
        .open_incidents()
        .max_by_key(|i| (gravity(i.reason), std::cmp::Reverse(i.opened_at)))
}

/// Whether the episode calls for an apology at `now`, why, and since when.
fn cause(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    e: &Episode,
    lead: &Incident,
    edd: Option<chrono::NaiveDate>,
    now: Timestamp,
) -> Option<(Cause, Timestamp)> {
    if e.apologies == 0 {
        return Some((Cause::Opened, lead.opened_at));
    }
    if gravity(lead.reason) > e.told_gravity {
        return Some((Cause::Graver, lead.opened_at));
    }
    let about_the_promise = matches!(lead.reason, DelayReason::Late | DelayReason::PredictedLate);
    if about_the_promise && e.told_edd.is_some() && edd > e.told_edd {
        return Some((Cause::LaterEstimate, order.changed_at));
    }
    escalation(config, order, placed, e, lead)
        .filter(|due| now >= *due)
        .map(|due| (Cause::Persists, due))
}

/// When a persisting problem is escalated: once per episode, not for a parcel
/// already given up as lost.
fn escalation(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
    e: &Episode,
    lead: &Incident,
) -> Option<Timestamp> {
    if e.escalated || e.apologies == 0 || e.told_gravity >= 3 {
        return None;
    }
    Some(escalate_from(config, order, placed, lead, e.opened_at))
}

/// Closes the open episode; an apology still waiting for its gap is not sent.
pub(super) fn close(
    order: &mut OrderState,
    now: Timestamp,
    why: HoldReason,
    outputs: &mut Vec<TrackerOutput>,
) {
    let Some(idx) = order.episodes.iter().rposition(|e| e.closed_at.is_none()) else {
        return;
    };
    let waiting = order.episodes[idx].pending_due.take().is_some();
    let pending = order.episodes[idx].pending_reason.take();
    order.episodes[idx].closed_at = Some(now);
    // Resolved before its first apology went out: it never was an episode.
    if order.episodes[idx].apologies == 0 {
        order.episodes.remove(idx);
    }
    if waiting {
        let reason = pending.unwrap_or(DelayReason::Late);
        outputs.push(TrackerOutput::HeldBack(HeldBack::new(
            &order.order_id,
            now,
            format!("delay_apology.{}", reason.as_str()),
            Outcome::Suppressed,
            why,
        )));
    }
}

fn note(
    order: &OrderState,
    lead: &Incident,
    now: Timestamp,
    outcome: Outcome,
    reason: HoldReason,
) -> HeldBack {
    HeldBack::new(
        &order.order_id,
        now,
        format!("delay_apology.{}", lead.reason.as_str()),
        outcome,
        reason,
    )
}

/// The episode's own deadlines: a deferred apology, an escalation.
pub(super) fn next_deadline(
    config: &TrackerConfig,
    order: &OrderState,
    placed: &Placed,
) -> Option<Timestamp> {
    let e = order.open_episode()?;
    // A deferred apology already stands for whatever came due before it.
    if e.pending_due.is_some() {
        return e.pending_due;
    }
    lead(order).and_then(|l| escalation(config, order, placed, e, l))
}

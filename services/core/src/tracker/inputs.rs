//! Folding one input into the order: order events, scans, and scans held until
//! their shipment is created.

use super::findings::promise_end;
use super::milestones;
use super::notes::{HeldBack, HoldReason, Outcome};
use super::state::{OrderState, PendingMilestone, Placed, Shipment};
use super::TrackerOutput;
use super::{scan, suppressed, DeliveryTiming, StatusChange, SuppressReason, TrackerConfig};
use crate::calendar::plus;
use crate::hold::{held_size, scan_bytes};
use crate::matcher::HeldScan;
use crate::model::{CarrierScan, Milestone, OrderEvent, OrderEventKind, Origin, Timestamp};
use crate::quote::quote;
use crate::status::Status;

/// Folds an order event in; false when it changed nothing (a resend).
pub(super) fn apply_order_event(
    config: &TrackerConfig,
    order: &mut OrderState,
    event: &OrderEvent,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) -> bool {
    // Invalid events are refused at decode; one that slips through changes nothing.
    let Ok(kind) = event.kind() else {
        return false;
    };
    match kind {
        OrderEventKind::Placed(p) => {
            if order.placed.is_some() {
                return false;
            }
            order.placed = Some(Placed {
                event: (*p).clone(),
                placed_at: event.occurred_at,
            });
            // Milestones that waited for the customer get a fresh window from now, so
            // records arriving in the same burst as the order still collapse.
            for shipment in order.shipments.values_mut() {
                if let Some(p) = shipment.pending.as_mut() {
                    p.due = p.due.max(plus(now, config.coalesce_window));
                }
            }
            if order.cancelled_at.is_none() && !order.confirmation.sent {
                if now - event.occurred_at > config.stale_window {
                    order.confirmation.sent = true;
                    outputs.extend(suppressed(
                        order,
                        Milestone::OrderConfirmed,
                        None,
                        SuppressReason::Stale,
                        now,
                    ));
                } else {
                    order.confirmation.due = Some(plus(now, config.coalesce_window));
                }
            }
            true
        }
        OrderEventKind::ShipmentCreated(s) => {
            if order.shipments.contains_key(&s.tracking_number) {
                return false;
            }
            // Refused before it gets here ([`super::refusal`]); never grows the state.
            if order.shipments.len() >= config.max_shipments {
                return false;
            }
            order
                .shipments
                .insert(Shipment::created(s, event.occurred_at));
            let (mut released, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut order.held_scans)
                .into_iter()
                .partition(|h| h.scan.tracking_number == s.tracking_number);
            order.held_scans = kept;
            released.sort_by(|a, b| {
                (a.scan.occurred_at, &a.scan.scan_id).cmp(&(b.scan.occurred_at, &b.scan.scan_id))
            });
            for held in released {
                apply_scan(config, order, &held.scan, now, outputs);
            }
            true
        }
        OrderEventKind::Cancelled(_) => {
            let first = order.cancelled_at.is_none();
            order.cancelled_at.get_or_insert(event.occurred_at);
            // An order cancelled before its confirmation went out is not confirmed.
            first | order.confirmation.due.take().is_some()
        }
        OrderEventKind::ReturnRequested(_) => {
            let first = order.return_requested_at.is_none();
            order.return_requested_at.get_or_insert(event.occurred_at);
            first
        }
    }
}

/// Folds a scan into its shipment; false for a resend, which changes nothing.
pub(super) fn apply_scan(
    config: &TrackerConfig,
    order: &mut OrderState,
    scan: &CarrierScan,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) -> bool {
    let order_id = order.order_id.clone();
    let promise = order
        .placed
        .as_ref()
        .and_then(|p| promise_end(p, p.timezone()));
    let Some(shipment) = order.shipments.get_mut(&scan.tracking_number) else {
        return false;
    };
    let was_delivered = shipment.delivered_at.is_some();
    let Some(effect) = scan::apply(config, shipment, scan) else {
        return false;
    };
    if !effect.normalized.mapped {
        outputs.push(TrackerOutput::UnmappedStatus {
            carrier: scan.carrier.clone(),
            raw_status: scan.raw_status.clone(),
        });
    }
    if effect.status_changed || !effect.normalized.mapped {
        outputs.push(TrackerOutput::StatusChanged(StatusChange {
            order_id: order_id.clone(),
            tracking_number: scan.tracking_number.clone(),
            carrier: scan.carrier.clone(),
            occurred_at: scan.occurred_at,
            status: effect.normalized.status,
            sub_status: effect.normalized.sub_status,
            raw_status: scan.raw_status.clone(),
            mapped: effect.normalized.mapped,
        }));
    }
    if let (false, Some(at)) = (was_delivered, shipment.delivered_at) {
        outputs.push(TrackerOutput::Delivered {
            carrier: shipment.carrier.clone(),
            timing: match promise {
                None => DeliveryTiming::NoPromise,
                Some(end) if at <= end => DeliveryTiming::OnTime,
                Some(_) => DeliveryTiming::Late,
            },
        });
    }
    if effect.status_changed {
        if let Some(c) = shipment
            .current
            .as_ref()
            .filter(|c| c.status == Status::Exception)
        {
            outputs.push(TrackerOutput::CarrierException {
                carrier: shipment.carrier.clone(),
                sub_status: c.sub_status,
            });
        }
        rearm_milestone(config, shipment, &order_id, now, outputs);
    }
    true
}

/// The current status moved: re-decide what, if anything, waits to be sent.
fn rearm_milestone(
    config: &TrackerConfig,
    shipment: &mut Shipment,
    order_id: &str,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) {
    let replaced = shipment.pending.take();
    let next = shipment
        .current
        .as_ref()
        .and_then(milestones::milestone_of)
        .filter(|n| milestones::notice_allowed(*n, shipment));
    if let Some(old) = replaced {
        let kind = old
            .notice
            .as_deref()
            .unwrap_or(old.milestone.as_str())
            .to_string();
        let same = next.is_some_and(|n| n.kind() == kind);
        if !same {
            outputs.push(note(
                order_id,
                shipment,
                now,
                kind,
                HoldReason::CollapsedBurst,
            ));
        }
    }
    let Some(current) = &shipment.current else {
        return;
    };
    let Some(notice) = milestones::milestone_of(current) else {
        return;
    };
    if milestones::backwards(notice, shipment) {
        outputs.push(note(
            order_id,
            shipment,
            now,
            notice.kind(),
            HoldReason::Backwards,
        ));
        return;
    }
    if next.is_none() {
        return;
    }
    if now - current.occurred_at > config.stale_window {
        outputs.push(TrackerOutput::Suppressed {
            order_id: order_id.to_string(),
            milestone: notice.milestone,
            reason: SuppressReason::Stale,
        });
        outputs.push(note(
            order_id,
            shipment,
            now,
            notice.kind(),
            HoldReason::Stale,
        ));
        return;
    }
    shipment.pending = Some(PendingMilestone {
        milestone: notice.milestone,
        due: plus(now, config.coalesce_window),
        notice: notice.notice.map(str::to_string),
    });
}

fn note(
    order_id: &str,
    shipment: &Shipment,
    now: Timestamp,
    kind: impl Into<String>,
    reason: HoldReason,
) -> TrackerOutput {
    TrackerOutput::HeldBack(
        HeldBack::new(order_id, now, kind, Outcome::Suppressed, reason)
            .tracking(Some(&shipment.tracking_number)),
    )
}

pub(super) fn hold_scan(
    config: &TrackerConfig,
    order: &mut OrderState,
    scan: CarrierScan,
    origin: Origin,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) -> bool {
    if order
        .held_scans
        .iter()
        .any(|h| h.scan.scan_id == scan.scan_id)
    {
        return false;
    }
    if let Some(reason) = hold_full(config, order, &scan) {
        outputs.push(TrackerOutput::Unmatched {
            reason,
            scan,
            origin,
        });
        return false;
    }
    order.held_scans.push(HeldScan {
        scan,
        origin,
        held_at: now,
    });
    true
}

/// Why the order's hold cannot take `scan`, if it cannot.
fn hold_full(config: &TrackerConfig, order: &OrderState, scan: &CarrierScan) -> Option<String> {
    let (count, bytes) = held_size(&order.held_scans);
    if count >= config.max_held_scans {
        return Some(format!(
            "order {} holds {} scans for shipments it does not know; hold is full",
            quote(&order.order_id),
            config.max_held_scans
        ));
    }
    let more = scan_bytes(scan);
    if bytes + more > config.max_held_bytes {
        return Some(format!(
            "order {} holds {bytes} bytes of scans for shipments it does not know; {more} more would pass the limit of {}",
            quote(&order.order_id),
            config.max_held_bytes
        ));
    }
    None
}

//! Per-order state and milestone decisions (the order-tracker service).
//!
//! Order events and routed scans for one order are folded into an [`OrderState`].
//! A change of a shipment's status arms a pending milestone; it is sent when the
//! coalescing window has passed ([`on_timer`]), so a burst collapses to its latest
//! milestone, and every decision is made once per milestone per shipment.

mod config;
mod incidents;
mod milestones;
mod reviews;
mod scan;
mod state;

pub use config::TrackerConfig;
pub use state::{
    AppliedScan, EddSighting, Incident, MilestoneSlot, OrderState, PendingMilestone, Placed,
    Shipment,
};

use crate::matcher::HeldScan;
use crate::model::{
    CarrierScan, DelayApologyCommand, DelayReason, Milestone, NotificationCommand, OrderEvent,
    OrderEventKind, Origin, ReviewRequestCommand, Timestamp,
};
use crate::status::{Status, SubStatus};
use milestones::Recipient;

#[derive(Debug, Clone, PartialEq)]
pub enum TrackerInput {
    Order(OrderEvent),
    /// A scan the matcher routed to this order.
    Scan {
        scan: CarrierScan,
        origin: Origin,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum TrackerOutput {
    Notification(NotificationCommand),
    /// A scan whose shipment this order never created; leaves for the dead-letter topic.
    Unmatched {
        scan: CarrierScan,
        origin: Origin,
        reason: String,
    },
    /// A milestone decided but not sent, and why; counted so nothing vanishes unseen.
    Suppressed {
        order_id: String,
        milestone: Milestone,
        reason: SuppressReason,
    },
    /// A carrier code no table maps; counted per carrier.
    UnmappedStatus {
        carrier: String,
        raw_status: String,
    },
    DelayApology(DelayApologyCommand),
    /// An apology decided but not sent (no consented channel).
    SuppressedApology {
        order_id: String,
        reason: DelayReason,
        why: SuppressReason,
    },
    ReviewRequest(ReviewRequestCommand),
    /// A review request decided but not sent (no marketing consent).
    SuppressedReview {
        order_id: String,
        why: SuppressReason,
    },
    /// For metrics: incidents opened and closed, by reason and carrier.
    IncidentOpened {
        reason: DelayReason,
        carrier: String,
    },
    IncidentClosed {
        reason: DelayReason,
        carrier: String,
    },
    /// For the carrier on-time rate: a shipment delivered for the first time.
    Delivered {
        carrier: String,
        timing: DeliveryTiming,
    },
    /// For the carrier exception rate: a shipment's status became an exception.
    CarrierException {
        carrier: String,
        sub_status: SubStatus,
    },
}

/// A delivery against the order's promise (end of the promised day, customer's time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryTiming {
    OnTime,
    Late,
    /// No promised date, or the order itself is not known yet.
    NoPromise,
}

impl DeliveryTiming {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryTiming::OnTime => "on_time",
            DeliveryTiming::Late => "late",
            DeliveryTiming::NoPromise => "no_promise",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressReason {
    /// The customer allows no channel for transactional messages.
    NoConsentedChannel,
    /// The event was older than the stale window when it arrived.
    Stale,
    /// A review request needs marketing consent on some channel.
    NoMarketingConsent,
}

impl SuppressReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressReason::NoConsentedChannel => "no_consented_channel",
            SuppressReason::Stale => "stale",
            SuppressReason::NoMarketingConsent => "no_marketing_consent",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrackerStep {
    pub state: Option<OrderState>,
    pub outputs: Vec<TrackerOutput>,
}

/// Applies one input to one order's state.
pub fn decide(
    config: &TrackerConfig,
    state: Option<OrderState>,
    order_id: &str,
    input: TrackerInput,
    now: Timestamp,
) -> TrackerStep {
    let mut order = state.unwrap_or_else(|| OrderState::new(order_id.to_string(), now));
    let mut outputs = Vec::new();
    order.last_activity_at = order.last_activity_at.max(now);
    let changed = match input {
        TrackerInput::Order(event) => {
            apply_order_event(config, &mut order, &event, now, &mut outputs)
        }
        TrackerInput::Scan { scan, origin } => {
            if order.shipments.contains_key(&scan.tracking_number) {
                apply_scan(config, &mut order, &scan, now, &mut outputs)
            } else {
                hold_scan(config, &mut order, scan, origin, now, &mut outputs)
            }
        }
    };
    if changed {
        // Re-judge incidents once the burst this input belongs to has arrived.
        order.changed_at = now;
        let due = now + config.coalesce_window;
        order.evaluate_due = Some(order.evaluate_due.map_or(due, |d| d.min(due)));
    }
    TrackerStep {
        state: Some(order),
        outputs,
    }
}

/// Folds an order event in; false when it changed nothing (a resend).
fn apply_order_event(
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
                    p.due = p.due.max(now + config.coalesce_window);
                }
            }
            if order.cancelled_at.is_none() && !order.confirmation.sent {
                if now - event.occurred_at > config.stale_window {
                    order.confirmation.sent = true;
                    outputs.push(suppressed(
                        order,
                        Milestone::OrderConfirmed,
                        SuppressReason::Stale,
                    ));
                } else {
                    order.confirmation.due = Some(now + config.coalesce_window);
                }
            }
            true
        }
        OrderEventKind::ShipmentCreated(s) => {
            if order.shipments.contains_key(&s.tracking_number) {
                return false;
            }
            order.shipments.insert(
                s.tracking_number.clone(),
                Shipment {
                    shipment_id: s.shipment_id.clone(),
                    tracking_number: s.tracking_number.clone(),
                    carrier: s.carrier.clone(),
                    service_level: s.service_level.clone(),
                    origin_country: s.origin_country.clone(),
                    skus: s.skus.clone(),
                    created_at: event.occurred_at,
                    current: None,
                    last_scan: None,
                    first_edd: None,
                    latest_edd: None,
                    delivered_at: None,
                    failed_attempts: Default::default(),
                    seen_scan_ids: Default::default(),
                    milestones_sent: Default::default(),
                    pending: None,
                },
            );
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
fn apply_scan(
    config: &TrackerConfig,
    order: &mut OrderState,
    scan: &CarrierScan,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) -> bool {
    let order_id = order.order_id.clone();
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
    if let (false, Some(at)) = (was_delivered, shipment.delivered_at) {
        let promise = order
            .placed
            .as_ref()
            .and_then(|p| incidents::promise_end(p, p.timezone()));
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
        rearm_milestone(config, shipment, order_id, now, outputs);
    }
    true
}

/// The current status moved: re-decide what, if anything, waits to be sent.
fn rearm_milestone(
    config: &TrackerConfig,
    shipment: &mut Shipment,
    order_id: String,
    now: Timestamp,
    outputs: &mut Vec<TrackerOutput>,
) {
    shipment.pending = None;
    let Some(current) = &shipment.current else {
        return;
    };
    let Some(milestone) = milestones::milestone_of(current) else {
        return;
    };
    if !milestones::allowed(milestone, &shipment.milestones_sent) {
        return;
    }
    if now - current.occurred_at > config.stale_window {
        outputs.push(TrackerOutput::Suppressed {
            order_id,
            milestone,
            reason: SuppressReason::Stale,
        });
        return;
    }
    shipment.pending = Some(PendingMilestone {
        milestone,
        due: now + config.coalesce_window,
    });
}

fn hold_scan(
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
    if order.held_scans.len() >= config.max_held_scans {
        outputs.push(TrackerOutput::Unmatched {
            reason: format!(
                "order {} holds {} scans for shipments it does not know; hold is full",
                order.order_id, config.max_held_scans
            ),
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

/// Fires everything due at `now`: pending milestones, expired holds, retention.
pub fn on_timer(config: &TrackerConfig, state: OrderState, now: Timestamp) -> TrackerStep {
    let mut order = state;
    let mut outputs = Vec::new();

    let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut order.held_scans)
        .into_iter()
        .partition(|h| h.held_at + config.hold_window <= now);
    order.held_scans = kept;
    for h in expired {
        outputs.push(TrackerOutput::Unmatched {
            reason: format!(
                "order {} never created a shipment with tracking number {} within {}",
                order.order_id,
                h.scan.tracking_number,
                crate::wording::short_duration(config.hold_window)
            ),
            scan: h.scan,
            origin: h.origin,
        });
    }

    // Notifications need the customer; until the order is placed they keep waiting.
    if let Some(placed) = order.placed.clone() {
        let channel = milestones::transactional_channel(&placed);
        if order.confirmation.due.is_some_and(|due| due <= now) {
            order.confirmation.due = None;
            order.confirmation.sent = true;
            outputs.push(match channel {
                Some(channel) => TrackerOutput::Notification(milestones::order_confirmed(
                    &config.notifications,
                    &Recipient {
                        order: &order,
                        placed: &placed,
                        channel,
                    },
                    now,
                )),
                None => suppressed(
                    &order,
                    Milestone::OrderConfirmed,
                    SuppressReason::NoConsentedChannel,
                ),
            });
        }
        let due: Vec<String> = order
            .shipments
            .iter()
            .filter(|(_, s)| s.pending.as_ref().is_some_and(|p| p.due <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for tracking in due {
            let Some(pending) = order
                .shipments
                .get_mut(&tracking)
                .and_then(|s| s.pending.take())
            else {
                continue;
            };
            let Some(shipment) = order.shipments.get(&tracking) else {
                continue;
            };
            if !milestones::allowed(pending.milestone, &shipment.milestones_sent) {
                continue;
            }
            let output = match channel {
                Some(channel) => TrackerOutput::Notification(milestones::shipment_milestone(
                    &config.notifications,
                    &Recipient {
                        order: &order,
                        placed: &placed,
                        channel,
                    },
                    shipment,
                    pending.milestone,
                    now,
                )),
                None => suppressed(
                    &order,
                    pending.milestone,
                    SuppressReason::NoConsentedChannel,
                ),
            };
            outputs.push(output);
            if let Some(s) = order.shipments.get_mut(&tracking) {
                s.milestones_sent.insert(pending.milestone);
            }
        }
    }

    if order.evaluate_due.is_some_and(|d| d <= now) {
        order.evaluate_due = None;
    }
    incidents::evaluate(config, &mut order, now, &mut outputs);
    reviews::evaluate(config, &mut order, now, &mut outputs);

    let forget = order.last_activity_at + config.retention <= now;
    TrackerStep {
        state: (!forget).then_some(order),
        outputs,
    }
}

/// The earliest instant at which [`on_timer`] has something to do for this order.
pub fn next_deadline(config: &TrackerConfig, order: &OrderState) -> Option<Timestamp> {
    let holds = order
        .held_scans
        .iter()
        .map(|h| h.held_at + config.hold_window);
    let retention = std::iter::once(order.last_activity_at + config.retention);
    // Milestones wait for the customer: without a placed order they are not due.
    let milestones = order.placed.as_ref().into_iter().flat_map(|_| {
        order.confirmation.due.into_iter().chain(
            order
                .shipments
                .values()
                .filter_map(|s| s.pending.as_ref().map(|p| p.due)),
        )
    });
    holds
        .chain(retention)
        .chain(milestones)
        .chain(incidents::next_deadline(config, order))
        .chain(reviews::next_deadline(config, order))
        .min()
}

fn suppressed(order: &OrderState, milestone: Milestone, reason: SuppressReason) -> TrackerOutput {
    TrackerOutput::Suppressed {
        order_id: order.order_id.clone(),
        milestone,
        reason,
    }
}

//! Per-order state and milestone decisions (the order-tracker service).
//!
//! Order events and routed scans for one order are folded into an [`OrderState`].
//! A change of a shipment's status arms a pending milestone; it is sent when the
//! coalescing window has passed ([`on_timer`]), so a burst collapses to its latest
//! milestone, and every decision is made once per milestone per shipment.

mod apology;
mod config;
mod episodes;
mod findings;
mod incidents;
mod inputs;
mod milestones;
mod notes;
mod notify;
mod reviews;
mod scan;
mod seen;
mod shipments;
mod state;
mod vec_set;

pub use config::TrackerConfig;
pub use milestones::RETURNING_TO_SENDER;
pub use notes::{HeldBack, HoldReason, OrderNote, Outcome, KEPT_NOTES, KEPT_TIMELINE};
pub use seen::SeenScans;
pub use shipments::Shipments;
pub use state::{
    AppliedScan, EddSighting, Episode, Incident, MilestoneSlot, OrderState, PendingMilestone,
    Placed, Shipment, StatusStep, KEPT_FAILED_ATTEMPTS,
};
pub use vec_set::VecSet;

use crate::calendar::plus;
use crate::model::limits::TIMESTAMP_MILLIS_RANGE;
use crate::model::{
    CarrierScan, DelayApologyCommand, DelayReason, Milestone, NotificationCommand, OrderEvent,
    OrderEventKind, Origin, ReviewRequestCommand, Timestamp,
};
use crate::quote::quote;
use crate::status::{Status, SubStatus};
use serde::{Deserialize, Serialize};

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
    /// A decision that did not become a command, or became a deferred one, and why
    /// (also kept, the most recent few, in the order's state).
    HeldBack(HeldBack),
    /// A shipment's status changed, or an unmapped code arrived: the order's timeline.
    StatusChanged(StatusChange),
}

/// One step of a shipment's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub order_id: String,
    pub tracking_number: String,
    pub carrier: String,
    #[serde(with = "crate::model::serde_time::millis")]
    pub occurred_at: Timestamp,
    pub status: Status,
    pub sub_status: SubStatus,
    pub raw_status: String,
    /// False for a code no table maps (`unknown`/`unmapped`, which never decides the status).
    pub mapped: bool,
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
            inputs::apply_order_event(config, &mut order, &event, now, &mut outputs)
        }
        TrackerInput::Scan { scan, origin } => {
            if order.shipments.contains_key(&scan.tracking_number) {
                inputs::apply_scan(config, &mut order, &scan, now, &mut outputs)
            } else {
                inputs::hold_scan(config, &mut order, scan, origin, now, &mut outputs)
            }
        }
    };
    if changed {
        // Re-judge incidents once the burst this input belongs to has arrived.
        order.changed_at = now;
        let due = plus(now, config.coalesce_window);
        order.evaluate_due = Some(order.evaluate_due.map_or(due, |d| d.min(due)));
    }
    keep_notes(&mut order, &outputs);
    TrackerStep {
        state: Some(order),
        outputs,
    }
}

/// The order's state keeps the most recent held-back decisions, and each shipment
/// its most recent status changes, for the lookup and `replay --explain`.
fn keep_notes(order: &mut OrderState, outputs: &[TrackerOutput]) {
    for out in outputs {
        match out {
            TrackerOutput::HeldBack(note) => notes::keep(&mut order.held_back, note),
            TrackerOutput::StatusChanged(c) => {
                if let Some(shipment) = order.shipments.get_mut(&c.tracking_number) {
                    let step = StatusStep::of(c, shipment);
                    notes::keep_last(&mut shipment.timeline, step, notes::KEPT_TIMELINE)
                }
            }
            _ => {}
        }
    }
}

/// Fires everything due at `now`: pending milestones, expired holds, retention.
pub fn on_timer(config: &TrackerConfig, state: OrderState, now: Timestamp) -> TrackerStep {
    let mut order = state;
    let mut outputs = Vec::new();

    let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut order.held_scans)
        .into_iter()
        .partition(|h| plus(h.held_at, config.hold_window) <= now);
    order.held_scans = kept;
    for h in expired {
        outputs.push(TrackerOutput::Unmatched {
            reason: format!(
                "order {} never created a shipment with tracking number {} within {}",
                quote(&order.order_id),
                quote(&h.scan.tracking_number),
                crate::wording::short_duration(config.hold_window)
            ),
            scan: h.scan,
            origin: h.origin,
        });
    }

    notify::fire_due(config, &mut order, now, &mut outputs);

    if order.evaluate_due.is_some_and(|d| d <= now) {
        order.evaluate_due = None;
    }
    incidents::evaluate(config, &mut order, now, &mut outputs);
    reviews::evaluate(config, &mut order, now, &mut outputs);
    keep_notes(&mut order, &outputs);

    // An order known only from scans it was sent, all gone now, is forgotten at
    // once: scans naming made-up orders leave nothing behind.
    let forget = plus(order.last_activity_at, config.retention) <= now || knows_nothing(&order);
    TrackerStep {
        state: (!forget).then_some(order),
        outputs,
    }
}

fn knows_nothing(order: &OrderState) -> bool {
    order.placed.is_none()
        && order.shipments.is_empty()
        && order.held_scans.is_empty()
        && order.cancelled_at.is_none()
        && order.return_requested_at.is_none()
}

/// Why the order's state refuses `input`, which then goes to dead-letter and
/// changes nothing: a shipment beyond the most an order may have.
pub fn refusal(
    config: &TrackerConfig,
    state: Option<&OrderState>,
    input: &TrackerInput,
) -> Option<String> {
    let TrackerInput::Order(event) = input else {
        return None;
    };
    let Ok(OrderEventKind::ShipmentCreated(s)) = event.kind() else {
        return None;
    };
    let order = state?;
    let full = order.shipments.len() >= config.max_shipments
        && !order.shipments.contains_key(&s.tracking_number);
    full.then(|| {
        format!(
            "order {} already has {} shipments, the most one order may have (WISMO_TRACKER_MAX_SHIPMENTS); shipment {} is refused",
            quote(&order.order_id),
            order.shipments.len(),
            quote(&s.shipment_id)
        )
    })
}

/// When the last held scan expires: after it, nothing the order holds counts.
pub fn hold_ends(config: &TrackerConfig, order: &OrderState) -> Option<Timestamp> {
    order
        .held_scans
        .iter()
        .map(|h| plus(h.held_at, config.hold_window))
        .max()
}

/// The earliest instant at which [`on_timer`] has something to do for this order.
/// None beyond the year 9999: no record time reaches it.
pub fn next_deadline(config: &TrackerConfig, order: &OrderState) -> Option<Timestamp> {
    let holds = order
        .held_scans
        .iter()
        .map(|h| plus(h.held_at, config.hold_window));
    let retention = std::iter::once(plus(order.last_activity_at, config.retention));
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
        .filter(|d| TIMESTAMP_MILLIS_RANGE.contains(&d.timestamp_millis()))
}

/// A milestone not sent, and the note that says why.
fn suppressed(
    order: &OrderState,
    milestone: Milestone,
    tracking: Option<&str>,
    reason: SuppressReason,
    now: Timestamp,
) -> [TrackerOutput; 2] {
    let why = match reason {
        SuppressReason::NoConsentedChannel => HoldReason::NoConsentedChannel,
        SuppressReason::Stale => HoldReason::Stale,
        SuppressReason::NoMarketingConsent => HoldReason::NoMarketingConsent,
    };
    [
        TrackerOutput::Suppressed {
            order_id: order.order_id.clone(),
            milestone,
            reason,
        },
        TrackerOutput::HeldBack(
            HeldBack::new(
                &order.order_id,
                now,
                milestone.as_str(),
                Outcome::Suppressed,
                why,
            )
            .tracking(tracking),
        ),
    ]
}

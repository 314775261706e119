//! Matching scans to orders (the scan-matcher service).
//!
//! Scans arrive keyed by tracking number; per-order state is keyed by order id. The
//! matcher keeps, per tracking number, which order it belongs to (learned from
//! [`ShipmentRegistered`], which the matcher derives from the order's own
//! shipment-created event with [`registration`]) and re-keys each scan by its order.
//! A scan whose tracking number is not known yet is held, bounded in count and time,
//! and released when the shipment is registered; one never matched leaves as
//! [`MatcherOutput::Unmatched`]. The first registration of a number owns it until
//! its retention ends: a later one for another order, and a scan naming another
//! order, are refused ([`refusal`]) and change nothing.

mod config;
mod state;

pub use config::MatcherConfig;
pub use state::{HeldScan, TrackingState};

use crate::calendar::plus;
use crate::hold::{held_size, scan_bytes};
use crate::model::limits::TIMESTAMP_MILLIS_RANGE;
use crate::model::{
    CarrierScan, OrderEvent, OrderEventKind, Origin, RoutedScan, ShipmentRegistered, Timestamp,
};
use crate::quote::quote;

#[derive(Debug, Clone, PartialEq)]
pub enum MatcherInput {
    Scan { scan: CarrierScan, origin: Origin },
    ShipmentRegistered(ShipmentRegistered),
}

#[derive(Debug, Clone, PartialEq)]
pub enum MatcherOutput {
    /// To the order-tracker, keyed by `order_id`. A scan released from the hold has
    /// `held_since`: its record must not be stamped earlier than that, so that
    /// downstream it sorts as the join of the scan and its registration, the later
    /// of the two, as `replay` decides it.
    Routed {
        routed: RoutedScan,
        held_since: Option<Timestamp>,
    },
    /// To the dead-letter topic: the scan never found its shipment, or the hold was full.
    Unmatched {
        scan: CarrierScan,
        origin: Origin,
        reason: String,
    },
}

/// The outcome of one decision: the new state (`None` deletes it) and the outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct MatcherStep {
    pub state: Option<TrackingState>,
    pub outputs: Vec<MatcherOutput>,
}

/// The registration an order event implies: a created shipment ties its tracking
/// number to the order. Any other event (or an invalid one) implies none.
pub fn registration(event: &OrderEvent) -> Option<ShipmentRegistered> {
    match event.kind().ok()? {
        OrderEventKind::ShipmentCreated(s) => Some(ShipmentRegistered {
            tracking_number: s.tracking_number.clone(),
            carrier: s.carrier.clone(),
            order_id: event.order_id.clone(),
            shipment_id: s.shipment_id.clone(),
        }),
        _ => None,
    }
}

/// Why an input that decoded and validated is still refused by what the state
/// knows: it goes to dead-letter, and the state stays as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub cause: RefusalCause,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalCause {
    /// A registration for a tracking number that belongs to another order.
    RegistrationConflict,
    /// A scan whose `order_id` is not the registered order of its number.
    OrderMismatch,
}

/// Whether the state refuses `input`. [`decide`] never lets such an input change
/// the owner either; this says why, for the dead letter.
pub fn refusal(state: Option<&TrackingState>, input: &MatcherInput) -> Option<Refusal> {
    let owner = state.and_then(|s| s.order_id.as_deref())?;
    match input {
        MatcherInput::ShipmentRegistered(reg) if reg.order_id != owner => Some(Refusal {
            cause: RefusalCause::RegistrationConflict,
            reason: format!(
                "tracking number {} already belongs to order {}; the registration for order {} is refused (the first one stands until its retention ends)",
                quote(&reg.tracking_number),
                quote(owner),
                quote(&reg.order_id)
            ),
        }),
        MatcherInput::Scan { scan, .. } => match scan.order_id.as_deref() {
            Some(named) if named != owner => Some(Refusal {
                cause: RefusalCause::OrderMismatch,
                reason: format!(
                    "scan names order {} but tracking number {} belongs to order {}",
                    quote(named),
                    quote(&scan.tracking_number),
                    quote(owner)
                ),
            }),
            _ => None,
        },
        MatcherInput::ShipmentRegistered(_) => None,
    }
}

/// Applies one input to the state of one tracking number.
pub fn decide(
    config: &MatcherConfig,
    state: Option<TrackingState>,
    input: MatcherInput,
    now: Timestamp,
) -> MatcherStep {
    let mut state = state.unwrap_or_default();
    let mut outputs = Vec::new();
    match input {
        MatcherInput::Scan { scan, origin } => {
            // The registered order decides; a scan's own `order_id` only routes a
            // number no shipment has claimed yet.
            if let Some(order_id) = state.order_id.clone().or_else(|| scan.order_id.clone()) {
                outputs.push(MatcherOutput::Routed {
                    routed: RoutedScan { order_id, scan },
                    held_since: None,
                });
            } else if state.held.iter().any(|h| h.scan.scan_id == scan.scan_id) {
                // A resend of a scan already held: nothing new.
            } else if let Some(reason) = hold_full(config, &state, &scan) {
                outputs.push(MatcherOutput::Unmatched {
                    reason,
                    scan,
                    origin,
                });
            } else {
                state.held.push(HeldScan {
                    scan,
                    origin,
                    held_at: now,
                });
            }
        }
        MatcherInput::ShipmentRegistered(reg) => {
            if state.order_id.as_ref().is_some_and(|o| *o != reg.order_id) {
                // Another order's number: the first registration stands.
                return finish(state, outputs);
            }
            state.order_id = Some(reg.order_id.clone());
            state.registered_at.get_or_insert(now);
            let mut held = std::mem::take(&mut state.held);
            // Release in event order so the output does not depend on arrival order.
            held.sort_by(|a, b| {
                (a.scan.occurred_at, &a.scan.scan_id).cmp(&(b.scan.occurred_at, &b.scan.scan_id))
            });
            outputs.extend(held.into_iter().map(|h| MatcherOutput::Routed {
                routed: RoutedScan {
                    order_id: reg.order_id.clone(),
                    scan: h.scan,
                },
                held_since: Some(h.held_at),
            }));
        }
    }
    finish(state, outputs)
}

/// Why the hold of this number cannot take `scan`, if it cannot.
fn hold_full(config: &MatcherConfig, state: &TrackingState, scan: &CarrierScan) -> Option<String> {
    let (count, bytes) = held_size(&state.held);
    if count >= config.max_held_per_tracking {
        return Some(format!(
            "hold for tracking number {} is full ({} scans) and its shipment is still unknown",
            quote(&scan.tracking_number),
            config.max_held_per_tracking
        ));
    }
    let more = scan_bytes(scan);
    if bytes + more > config.max_held_bytes_per_tracking {
        return Some(format!(
            "hold for tracking number {} is full ({bytes} bytes held, {more} more would pass the limit of {}) and its shipment is still unknown",
            quote(&scan.tracking_number),
            config.max_held_bytes_per_tracking
        ));
    }
    None
}

/// Fires the state's due deadlines: expired holds leave unmatched, and a mapping past
/// its retention is forgotten.
pub fn on_timer(config: &MatcherConfig, state: TrackingState, now: Timestamp) -> MatcherStep {
    let mut state = state;
    let mut outputs = Vec::new();
    let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut state.held)
        .into_iter()
        .partition(|h| plus(h.held_at, config.hold_window) <= now);
    state.held = kept;
    for h in expired {
        outputs.push(MatcherOutput::Unmatched {
            reason: format!(
                "no shipment with tracking number {} was registered within {} of the scan",
                quote(&h.scan.tracking_number),
                crate::wording::short_duration(config.hold_window)
            ),
            scan: h.scan,
            origin: h.origin,
        });
    }
    if state
        .registered_at
        .is_some_and(|at| plus(at, config.mapping_retention) <= now)
    {
        state.order_id = None;
        state.registered_at = None;
    }
    finish(state, outputs)
}

/// The earliest instant at which [`on_timer`] has something to do for this state.
/// None beyond the year 9999: no record time reaches it.
pub fn next_deadline(config: &MatcherConfig, state: &TrackingState) -> Option<Timestamp> {
    let hold = hold_expiry(config, state);
    let retention = state
        .registered_at
        .map(|at| plus(at, config.mapping_retention));
    hold.into_iter()
        .chain(retention)
        .min()
        .filter(|d| TIMESTAMP_MILLIS_RANGE.contains(&d.timestamp_millis()))
}

/// When the first held scan expires.
fn hold_expiry(config: &MatcherConfig, state: &TrackingState) -> Option<Timestamp> {
    state
        .held
        .iter()
        .map(|h| plus(h.held_at, config.hold_window))
        .min()
}

/// When the last held scan expires: after it, nothing this state holds counts.
pub fn hold_ends(config: &MatcherConfig, state: &TrackingState) -> Option<Timestamp> {
    state
        .held
        .iter()
        .map(|h| plus(h.held_at, config.hold_window))
        .max()
}

fn finish(state: TrackingState, outputs: Vec<MatcherOutput>) -> MatcherStep {
    let state = (!state.is_empty()).then_some(state);
    MatcherStep { state, outputs }
}

#[cfg(test)]
mod tests;

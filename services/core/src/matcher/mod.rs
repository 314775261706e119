//! Matching scans to orders (the scan-matcher service).
//!
//! Scans arrive keyed by tracking number; per-order state is keyed by order id. The
//! matcher keeps, per tracking number, which order it belongs to (learned from
//! [`ShipmentRegistered`], which the matcher derives from the order's own
//! shipment-created event with [`registration`]) and re-keys each scan by its order.
//! A scan whose tracking number is not known yet is held, bounded in count and time,
//! and released when the shipment is registered; one never matched leaves as
//! [`MatcherOutput::Unmatched`].

mod config;
mod state;

pub use config::MatcherConfig;
pub use state::{HeldScan, TrackingState};

use crate::model::{
    CarrierScan, OrderEvent, OrderEventKind, Origin, RoutedScan, ShipmentRegistered, Timestamp,
};

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
            if let Some(order_id) = scan.order_id.clone().or_else(|| state.order_id.clone()) {
                outputs.push(MatcherOutput::Routed {
                    routed: RoutedScan { order_id, scan },
                    held_since: None,
                });
            } else if state.held.iter().any(|h| h.scan.scan_id == scan.scan_id) {
                // A resend of a scan already held: nothing new.
            } else if state.held.len() >= config.max_held_per_tracking {
                outputs.push(MatcherOutput::Unmatched {
                    reason: format!(
                        "hold for tracking number {} is full ({} scans) and its shipment is still unknown",
                        scan.tracking_number, config.max_held_per_tracking
                    ),
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

/// Fires the state's due deadlines: expired holds leave unmatched, and a mapping past
/// its retention is forgotten.
pub fn on_timer(config: &MatcherConfig, state: TrackingState, now: Timestamp) -> MatcherStep {
    let mut state = state;
    let mut outputs = Vec::new();
    let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut state.held)
        .into_iter()
        .partition(|h| h.held_at + config.hold_window <= now);
    state.held = kept;
    for h in expired {
        outputs.push(MatcherOutput::Unmatched {
            reason: format!(
                "no shipment with tracking number {} was registered within {} of the scan",
                h.scan.tracking_number,
                crate::wording::short_duration(config.hold_window)
            ),
            scan: h.scan,
            origin: h.origin,
        });
    }
    if state
        .registered_at
        .is_some_and(|at| at + config.mapping_retention <= now)
    {
        state.order_id = None;
        state.registered_at = None;
    }
    finish(state, outputs)
}

/// The earliest instant at which [`on_timer`] has something to do for this state.
pub fn next_deadline(config: &MatcherConfig, state: &TrackingState) -> Option<Timestamp> {
    let hold = state
        .held
        .iter()
        .map(|h| h.held_at + config.hold_window)
        .min();
    let retention = state.registered_at.map(|at| at + config.mapping_retention);
    hold.into_iter().chain(retention).min()
}

fn finish(state: TrackingState, outputs: Vec<MatcherOutput>) -> MatcherStep {
    let state = (!state.is_empty()).then_some(state);
    MatcherStep { state, outputs }
}

#[cfg(test)]
mod tests;

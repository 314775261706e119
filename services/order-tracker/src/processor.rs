//! Decoding for the tracker's two input topics, and what it refuses before deciding.
//!
//! A record passes every bound before it touches any state: size, field lengths
//! and counts as it decodes, its times against its own timestamp and what the
//! order knows (its shipments, the holds) before it is decided. A record refused
//! goes to `dead-letter`, and the order's state stays as it was.

use crate::{metrics, records};
use std::collections::BTreeSet;
use wismo_codec::{dead_letter_kind, subjects, Codec};
use wismo_config::Topics;
use wismo_core::hold::{held_size, scan_bytes, HoldBudget};
use wismo_core::model::limits::check_key;
use wismo_core::model::{InvalidEvent, OrderEvent, RoutedScan, Timestamp};
use wismo_core::quote::bounded;
use wismo_core::tracker::{self, OrderState, TrackerConfig, TrackerInput, TrackerOutput};
use wismo_engine::metrics::holds;
use wismo_engine::OwnedInput;
use wismo_engine::{
    DeadLetters, Decoded, Input, InputRecord, OutRecord, Processor, Rejection, Step, Topology,
};

pub const SERVICE: &str = "order-tracker";

/// A keyed input with the record it came from, for a dead letter decided later.
pub struct Incoming {
    input: TrackerInput,
    raw: OwnedInput,
}

pub struct OrderTracker {
    config: TrackerConfig,
    topics: Topics,
    dead_letters: DeadLetters,
    /// Carriers that may be metric labels.
    known_carriers: BTreeSet<String>,
    /// Scans held across every order this instance decides.
    budget: HoldBudget,
}

/// A record refused by a validation rule, counted by the bound it passed.
fn invalid(e: InvalidEvent) -> Rejection {
    if let Some(limit) = e.limit() {
        holds()
            .limit_refusals
            .with_label_values(&[limit.as_str()])
            .inc();
    }
    Rejection::invalid(bounded(&e.to_string()))
}

fn undecodable(e: impl ToString) -> Rejection {
    Rejection::decode(bounded(&e.to_string()))
}

impl OrderTracker {
    pub fn new(config: TrackerConfig, topics: Topics) -> Self {
        OrderTracker {
            dead_letters: DeadLetters::new(SERVICE, &topics.dead_letter),
            known_carriers: config.known_carriers(),
            config,
            topics,
            budget: HoldBudget::default(),
        }
    }

    fn records(&self, outputs: Vec<TrackerOutput>, now: Timestamp) -> Vec<OutRecord> {
        records::records(
            &self.topics,
            &self.dead_letters,
            &self.known_carriers,
            outputs,
            now,
        )
    }

    /// Why `input` may not be decided against `state` at `now`, if so.
    fn refusal(
        &mut self,
        state: Option<&OrderState>,
        input: &TrackerInput,
        now: Timestamp,
    ) -> Option<(&'static str, String)> {
        let m = metrics::get();
        let limits = &self.config.limits;
        let times = match input {
            TrackerInput::Order(event) => limits.check_order_times(event, now),
            TrackerInput::Scan { scan, .. } => limits.check_scan_times(scan, now),
        };
        if let Err(e) = times {
            return Some((dead_letter_kind::INVALID, invalid(e).reason));
        }
        if let Some(reason) = tracker::refusal(&self.config, state, input) {
            m.shipments_refused.inc();
            return Some((dead_letter_kind::INVALID, reason));
        }
        let TrackerInput::Scan { scan, .. } = input else {
            return None;
        };
        let applies = state.is_some_and(|s| s.shipments.contains_key(&scan.tracking_number));
        let resend =
            state.is_some_and(|s| s.held_scans.iter().any(|h| h.scan.scan_id == scan.scan_id));
        if applies || resend {
            // A new id for a shipment that remembers all it may: the oldest goes.
            let drops = state
                .and_then(|s| s.shipments.get(&scan.tracking_number))
                .is_some_and(|s| {
                    s.seen_scan_ids.len() >= self.config.seen_scans
                        && !s.seen_scan_ids.contains(&scan.scan_id)
                });
            if drops {
                m.seen_dropped.inc();
            }
            return None;
        }
        self.budget.expire(now);
        let c = &self.config;
        let full = self
            .budget
            .admits(scan_bytes(scan), c.max_held_total, c.max_held_total_bytes)
            .err()?;
        let bound = if self.budget.totals().0 >= c.max_held_total {
            "total_count"
        } else {
            "total_bytes"
        };
        holds().hold_refusals.with_label_values(&[bound]).inc();
        Some((
            dead_letter_kind::UNMATCHED,
            format!(
                "the holds for shipments orders do not have yet are full ({full}; WISMO_TRACKER_MAX_HELD_TOTAL, WISMO_TRACKER_MAX_HELD_TOTAL_BYTES)"
            ),
        ))
    }

    /// Follows what `key` holds after a decision, for the bound in total.
    fn track_hold(
        &mut self,
        key: &str,
        before: usize,
        state: Option<&OrderState>,
        outputs: &[TrackerOutput],
    ) {
        let c = &self.config;
        let (count, bytes) = state.map_or((0, 0), |s| held_size(&s.held_scans));
        let refused = count == before
            && outputs
                .iter()
                .any(|o| matches!(o, TrackerOutput::Unmatched { .. }));
        if refused {
            let bound = if count >= c.max_held_scans {
                "key_count"
            } else {
                "key_bytes"
            };
            holds().hold_refusals.with_label_values(&[bound]).inc();
        }
        let ends = state
            .and_then(|s| tracker::hold_ends(c, s))
            .unwrap_or_default();
        self.budget.set(key, count, bytes, ends);
        let (total, total_bytes) = self.budget.totals();
        holds().held_scans.set(total as i64);
        holds().held_bytes.set(total_bytes as i64);
    }
}

impl Processor for OrderTracker {
    type State = OrderState;
    const STATE_SUBJECT: &'static str = wismo_codec::subjects::ORDER_STATE;
    type Input = Incoming;

    /// Orders and the scans the matcher routed, co-partitioned by order id; every
    /// command goes to the outbox, keyed by customer, for the dispatcher.
    fn topology(&self) -> Topology {
        Topology {
            keyed: vec![
                Input::external(&self.topics.orders),
                Input::internal(&self.topics.routed_scans),
            ],
            keyed_writes: vec![self.topics.outbox.clone()],
            forward_only: Vec::new(),
            changelog: Some(self.topics.tracker_changelog.clone()),
        }
    }

    fn service(&self) -> &str {
        SERVICE
    }

    fn dead_letter_topic(&self) -> &str {
        &self.topics.dead_letter
    }

    /// `GET /orders/{order_id}`: the order's state, for support and tracking pages.
    fn lookup_route(&self) -> Option<&'static str> {
        Some("orders")
    }

    fn decode(&self, record: &InputRecord<'_>) -> Result<Decoded<Incoming>, Rejection> {
        let codec = Codec::default();
        let limits = &self.config.limits;
        let value = record.value()?;
        limits.check_record_size(value.len()).map_err(invalid)?;
        let (key, input) = if record.topic == self.topics.orders {
            let event: OrderEvent = codec
                .decode(subjects::ORDER_EVENT, value)
                .map_err(undecodable)?;
            limits.check_order_event(&event).map_err(invalid)?;
            check_key(record.key, "order_id", &event.order_id).map_err(invalid)?;
            (event.order_id.clone(), TrackerInput::Order(event))
        } else {
            let routed: RoutedScan = codec
                .decode(subjects::ROUTED_SCAN, value)
                .map_err(undecodable)?;
            limits.check_routed_scan(&routed).map_err(invalid)?;
            check_key(record.key, "order_id", &routed.order_id).map_err(invalid)?;
            let input = TrackerInput::Scan {
                scan: routed.scan,
                origin: record.origin(),
            };
            (routed.order_id, input)
        };
        let raw = OwnedInput::of(record, value);
        Ok(Decoded::keyed(key, Incoming { input, raw }))
    }

    fn decide(
        &mut self,
        key: &str,
        state: Option<OrderState>,
        incoming: Incoming,
        now: Timestamp,
    ) -> Step<OrderState> {
        let Incoming { input, raw } = incoming;
        if let Some((kind, reason)) = self.refusal(state.as_ref(), &input, now) {
            return Step {
                state,
                records: vec![self.dead_letters.refuse(&raw, kind, &reason, now)],
            };
        }
        let before = state.as_ref().map_or(0, |s| s.held_scans.len());
        let step = tracker::decide(&self.config, state, key, input, now);
        self.track_hold(key, before, step.state.as_ref(), &step.outputs);
        Step {
            state: step.state,
            records: self.records(step.outputs, now),
        }
    }

    fn on_timer(&mut self, key: &str, state: OrderState, now: Timestamp) -> Step<OrderState> {
        let step = tracker::on_timer(&self.config, state, now);
        let kept = step.state.as_ref().map_or(0, |s| s.held_scans.len());
        // Expiry only shrinks a hold: no refusal to count.
        self.track_hold(key, kept + 1, step.state.as_ref(), &[]);
        Step {
            state: step.state,
            records: self.records(step.outputs, now),
        }
    }

    fn next_deadline(&self, state: &OrderState) -> Option<Timestamp> {
        tracker::next_deadline(&self.config, state)
    }
}

//! Decoding for the matcher's input topics, and its outputs as records.
//!
//! A record passes every bound before it touches any state: size, field lengths
//! and counts as it decodes, its times against its own timestamp and what the
//! state knows (the owner of its number, the holds) before it is decided. A record
//! refused goes to `dead-letter`, and the state stays as it was.

use crate::metrics;
use wismo_codec::{dead_letter_kind, subjects, Codec};
use wismo_config::Topics;
use wismo_core::hold::{held_size, scan_bytes, HoldBudget};
use wismo_core::matcher::{
    self, MatcherConfig, MatcherInput, MatcherOutput, RefusalCause, TrackingState,
};
use wismo_core::model::limits::{check_key, check_record_time};
use wismo_core::model::{CarrierScan, InvalidEvent, OrderEvent, ShipmentRegistered, Timestamp};
use wismo_core::quote::bounded;
use wismo_engine::metrics::holds;
use wismo_engine::OwnedInput;
use wismo_engine::{
    DeadLetters, Decoded, ForwardOnly, Input, InputRecord, OutRecord, Processor, Rejection, Step,
    Topology,
};

pub const SERVICE: &str = "scan-matcher";

/// A keyed input with the record it came from, for a dead letter decided later.
pub struct Incoming {
    input: MatcherInput,
    raw: OwnedInput,
}

pub struct ScanMatcher {
    config: MatcherConfig,
    topics: Topics,
    dead_letters: DeadLetters,
    /// Scans held across every tracking number this instance decides.
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

impl ScanMatcher {
    pub fn new(config: MatcherConfig, topics: Topics) -> Self {
        ScanMatcher {
            dead_letters: DeadLetters::new(SERVICE, &topics.dead_letter),
            config,
            topics,
            budget: HoldBudget::default(),
        }
    }

    fn records(&self, outputs: Vec<MatcherOutput>, now: Timestamp) -> Vec<OutRecord> {
        outputs
            .into_iter()
            .filter_map(|out| match out {
                MatcherOutput::Routed { routed, held_since } => OutRecord::avro(
                    &self.topics.routed_scans,
                    &routed.order_id,
                    subjects::ROUTED_SCAN,
                    &routed,
                )
                .map(|r| OutRecord {
                    not_before: held_since,
                    ..r
                }),
                MatcherOutput::Unmatched {
                    scan,
                    origin,
                    reason,
                } => Some(
                    self.dead_letters
                        .for_unmatched_scan(&origin, &scan, &reason, now),
                ),
            })
            .collect()
    }

    /// Why `input` may not be decided against `state` at `now`, if so.
    fn refusal(
        &mut self,
        state: Option<&TrackingState>,
        input: &MatcherInput,
        now: Timestamp,
    ) -> Option<(&'static str, String)> {
        let m = metrics::get();
        let times = match input {
            MatcherInput::Scan { scan, .. } => self.config.limits.check_scan_times(scan, now),
            MatcherInput::ShipmentRegistered(_) => check_record_time(now),
        };
        if let Err(e) = times {
            let Rejection { reason, .. } = invalid(e);
            return Some((dead_letter_kind::INVALID, reason));
        }
        if let Some(r) = matcher::refusal(state, input) {
            match r.cause {
                RefusalCause::RegistrationConflict => m.registration_conflicts.inc(),
                RefusalCause::OrderMismatch => m.order_mismatches.inc(),
            }
            return Some((dead_letter_kind::INVALID, r.reason));
        }
        let MatcherInput::Scan { scan, .. } = input else {
            return None;
        };
        let routed = state.is_some_and(|s| s.order_id.is_some()) || scan.order_id.is_some();
        let resend = state.is_some_and(|s| s.held.iter().any(|h| h.scan.scan_id == scan.scan_id));
        if routed || resend {
            return None;
        }
        self.budget.expire(now);
        let (count, _) = self.budget.totals();
        let more = scan_bytes(scan);
        let c = &self.config;
        let full = self
            .budget
            .admits(more, c.max_held_total, c.max_held_total_bytes)
            .err()?;
        let bound = if count >= c.max_held_total {
            "total_count"
        } else {
            "total_bytes"
        };
        holds().hold_refusals.with_label_values(&[bound]).inc();
        Some((
            dead_letter_kind::UNMATCHED,
            format!(
                "the holds for tracking numbers no shipment has yet are full ({full}; WISMO_MATCHER_MAX_HELD_TOTAL, WISMO_MATCHER_MAX_HELD_TOTAL_BYTES)"
            ),
        ))
    }

    /// Follows what `key` holds after a decision, for the bound in total.
    fn track_hold(
        &mut self,
        key: &str,
        before: usize,
        state: Option<&TrackingState>,
        outputs: &[MatcherOutput],
    ) {
        let c = &self.config;
        let (count, bytes) = state.map_or((0, 0), |s| held_size(&s.held));
        // A scan that stayed out of a hold that did not grow met the key's bound.
        let refused = outputs
            .iter()
            .any(|o| matches!(o, MatcherOutput::Unmatched { .. }))
            && count == before;
        if refused {
            let bound = if count >= c.max_held_per_tracking {
                "key_count"
            } else {
                "key_bytes"
            };
            holds().hold_refusals.with_label_values(&[bound]).inc();
        }
        let ends = state
            .and_then(|s| matcher::hold_ends(c, s))
            .unwrap_or_default();
        self.budget.set(key, count, bytes, ends);
        let (total, total_bytes) = self.budget.totals();
        holds().held_scans.set(total as i64);
        holds().held_bytes.set(total_bytes as i64);
    }
}

impl Processor for ScanMatcher {
    type State = TrackingState;
    const STATE_SUBJECT: &'static str = wismo_codec::subjects::TRACKING_STATE;
    type Input = Incoming;

    /// Scans and registrations, co-partitioned by tracking number, in one keyed
    /// task; `orders` forward-only: its shipment-created events re-keyed onto the
    /// registrations topic, so routing never waits on another service and `orders`
    /// may have its own partition count. Registrations go first at equal times.
    fn topology(&self) -> Topology {
        Topology {
            keyed: vec![
                Input::internal(&self.topics.shipment_registrations),
                Input::external(&self.topics.carrier_scans),
            ],
            keyed_writes: vec![self.topics.routed_scans.clone()],
            forward_only: vec![ForwardOnly {
                input: Input::external(&self.topics.orders),
                writes: vec![self.topics.shipment_registrations.clone()],
            }],
            changelog: Some(self.topics.matcher_changelog.clone()),
        }
    }

    /// `GET /tracking/{tracking_number}`: which order a number belongs to, and the
    /// scans still waiting for their shipment.
    fn lookup_route(&self) -> Option<&'static str> {
        Some("tracking")
    }

    fn service(&self) -> &str {
        SERVICE
    }

    fn dead_letter_topic(&self) -> &str {
        &self.topics.dead_letter
    }

    fn decode(&self, record: &InputRecord<'_>) -> Result<Decoded<Incoming>, Rejection> {
        let codec = Codec::default();
        let limits = &self.config.limits;
        if record.topic == self.topics.orders {
            // Only an event the order-tracker accepts registers its number (every
            // check it makes but the time window, which needs the record's time):
            // a bad order record is the order-tracker's to dead-letter, one letter each.
            let registration = record
                .payload
                .filter(|p| limits.check_record_size(p.len()).is_ok())
                .and_then(|p| codec.decode::<OrderEvent>(subjects::ORDER_EVENT, p).ok())
                .filter(|event| {
                    limits.check_order_event(event).is_ok()
                        && check_key(record.key, "order_id", &event.order_id).is_ok()
                })
                .and_then(|event| matcher::registration(&event));
            return Ok(Decoded::Forward(
                registration
                    .and_then(|reg| {
                        OutRecord::avro(
                            &self.topics.shipment_registrations,
                            &reg.tracking_number,
                            subjects::SHIPMENT_REGISTERED,
                            &reg,
                        )
                    })
                    .into_iter()
                    .collect(),
            ));
        }
        let value = record.value()?;
        limits.check_record_size(value.len()).map_err(invalid)?;
        let input = if record.topic == self.topics.carrier_scans {
            let scan: CarrierScan = codec
                .decode(subjects::CARRIER_SCAN, value)
                .map_err(undecodable)?;
            limits.check_scan(&scan).map_err(invalid)?;
            check_key(record.key, "tracking_number", &scan.tracking_number).map_err(invalid)?;
            MatcherInput::Scan {
                scan,
                origin: record.origin(),
            }
        } else {
            let reg: ShipmentRegistered = codec
                .decode(subjects::SHIPMENT_REGISTERED, value)
                .map_err(undecodable)?;
            limits.check_registration(&reg).map_err(invalid)?;
            check_key(record.key, "tracking_number", &reg.tracking_number).map_err(invalid)?;
            MatcherInput::ShipmentRegistered(reg)
        };
        let key = match &input {
            MatcherInput::Scan { scan, .. } => scan.tracking_number.clone(),
            MatcherInput::ShipmentRegistered(reg) => reg.tracking_number.clone(),
        };
        Ok(Decoded::keyed(
            key,
            Incoming {
                input,
                raw: OwnedInput::of(record, value),
            },
        ))
    }

    fn decide(
        &mut self,
        key: &str,
        state: Option<TrackingState>,
        incoming: Incoming,
        now: Timestamp,
    ) -> Step<TrackingState> {
        let Incoming { input, raw } = incoming;
        if let Some((kind, reason)) = self.refusal(state.as_ref(), &input, now) {
            return Step {
                state,
                records: vec![self.dead_letters.refuse(&raw, kind, &reason, now)],
            };
        }
        let before = state.as_ref().map_or(0, |s| s.held.len());
        let step = matcher::decide(&self.config, state, input, now);
        self.track_hold(key, before, step.state.as_ref(), &step.outputs);
        Step {
            state: step.state,
            records: self.records(step.outputs, now),
        }
    }

    fn on_timer(&mut self, key: &str, state: TrackingState, now: Timestamp) -> Step<TrackingState> {
        let step = matcher::on_timer(&self.config, state, now);
        let kept = step.state.as_ref().map_or(0, |s| s.held.len());
        // Expiry only shrinks a hold: no refusal to count.
        self.track_hold(key, kept + 1, step.state.as_ref(), &[]);
        Step {
            state: step.state,
            records: self.records(step.outputs, now),
        }
    }

    fn next_deadline(&self, state: &TrackingState) -> Option<Timestamp> {
        matcher::next_deadline(&self.config, state)
    }
}

//! Decoding outbox records, the cap, the egress rate, and routing to the command topics.

use crate::metrics;
use governor::clock::{Clock, DefaultClock};
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use wismo_codec::{subjects, unframe, Codec, SchemaCatalog};
use wismo_config::Topics;
use wismo_core::dispatch::{Gate, GateOutput, OutboundCommand, RecipientHold};
use wismo_core::model::limits::check_key;
use wismo_core::model::Timestamp;
use wismo_core::policy::NotificationPolicy;
use wismo_core::quote::bounded;
use wismo_core::tracker::{HoldReason, Outcome};
use wismo_engine::{Decoded, Input, InputRecord, OutRecord, Processor, Rejection, Step, Topology};

pub const SERVICE: &str = "dispatcher";

/// A decided command and its bytes, forwarded unchanged when admitted.
pub struct Outbound {
    command: OutboundCommand,
    payload: Vec<u8>,
}

pub struct Dispatcher {
    gate: Gate,
    /// The global egress rate, per second; `None`: not limited (replay, where
    /// time is virtual and nothing reaches a provider).
    egress_rate: Option<u32>,
    egress: Option<RateLimiter<NotKeyed, InMemoryState, DefaultClock>>,
    topics: Topics,
}

/// This instance's share of a global rate: the rate times the share of the
/// partitions it owns, rounded down so that the replicas together stay within it
/// (at least one per second while it owns any).
pub fn egress_share(rate: u32, owned: usize, of: usize) -> u32 {
    if owned == 0 {
        return 0;
    }
    let share = u64::from(rate) * owned as u64 / of.max(1) as u64;
    u32::try_from(share).unwrap_or(u32::MAX).max(1)
}

impl Dispatcher {
    pub fn new(policy: &NotificationPolicy, topics: Topics) -> Self {
        Dispatcher {
            gate: Gate::new(policy),
            egress_rate: Some(policy.egress_per_second.max(1)),
            egress: None,
            topics,
        }
    }

    /// A dispatcher that never waits for the egress rate: for replay.
    pub fn unthrottled(policy: &NotificationPolicy, topics: Topics) -> Self {
        Dispatcher {
            egress_rate: None,
            ..Dispatcher::new(policy, topics)
        }
    }

    /// Blocks until this instance's share of the global egress rate allows one
    /// more command: backpressure that protects the downstream providers.
    fn wait_for_egress(&self) {
        let Some(egress) = &self.egress else {
            return;
        };
        while let Err(not_until) = egress.check() {
            metrics::get().egress_waits.inc();
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            std::thread::sleep(wait);
        }
    }

    fn topic(&self, command: &OutboundCommand) -> &str {
        match command {
            OutboundCommand::Notification(_) => &self.topics.notifications,
            OutboundCommand::DelayApology(_) => &self.topics.delay_apologies,
            OutboundCommand::ReviewRequest(_) => &self.topics.review_requests,
        }
    }
}

fn decode(payload: &[u8]) -> Result<OutboundCommand, Rejection> {
    let (id, _) = unframe(payload).map_err(Rejection::decode)?;
    let subject = SchemaCatalog::builtin()
        .entry(id)
        .map(|e| e.subject)
        .ok_or_else(|| Rejection::decode(format!("schema id {id} is not known")))?;
    let codec = Codec::default();
    match subject {
        subjects::NOTIFICATION_COMMAND => codec
            .decode(subject, payload)
            .map(OutboundCommand::Notification),
        subjects::DELAY_APOLOGY_COMMAND => codec
            .decode(subject, payload)
            .map(OutboundCommand::DelayApology),
        subjects::REVIEW_REQUEST_COMMAND => codec
            .decode(subject, payload)
            .map(OutboundCommand::ReviewRequest),
        other => return Err(Rejection::invalid(format!("`{other}` is not a command"))),
    }
    .map_err(|e| Rejection::decode(bounded(&e.to_string())))
}

impl Dispatcher {
    /// The gate's outputs as records: sends (the decided bytes, or re-encoded when
    /// the cap moved the command), and counts for what it held back.
    fn records(&self, outputs: Vec<GateOutput>, payload: Option<Vec<u8>>) -> Vec<OutRecord> {
        let m = metrics::get();
        let mut records = Vec::new();
        let mut payload = payload;
        for out in outputs {
            let (command, changed) = match out {
                GateOutput::Note(note) => {
                    let kind = if note.what.starts_with("delay_apology") {
                        "delay_apology"
                    } else if note.what == "review_request" {
                        "review_request"
                    } else {
                        "notification"
                    };
                    let outcome = match (note.outcome, note.reason) {
                        (Outcome::Held, _) => "released",
                        (_, HoldReason::Superseded) => "superseded",
                        _ => "overflow",
                    };
                    m.cap_outcomes.with_label_values(&[kind, outcome]).inc();
                    tracing::info!(kind, outcome, command_id = note.command_id.as_deref().unwrap_or(""), order_id = %wismo_core::quote::quote(&note.order_id), "per-recipient cap");
                    continue;
                }
                GateOutput::Send { command, changed } => (command, changed),
            };
            self.wait_for_egress();
            m.dispatched.with_label_values(&[command.kind()]).inc();
            let detectable_at = match &command {
                OutboundCommand::DelayApology(a) => Some(a.detectable_at),
                _ => None,
            };
            let bytes = match (changed, payload.take()) {
                (false, Some(bytes)) => Some(bytes),
                _ => encode(&command),
            };
            if let Some(bytes) = bytes {
                records.push(OutRecord {
                    topic: self.topic(&command).to_string(),
                    key: command.order_id().to_string(),
                    payload: bytes,
                    detectable_at,
                    not_before: None,
                });
            }
        }
        records
    }
}

fn encode(command: &OutboundCommand) -> Option<Vec<u8>> {
    let codec = Codec::default();
    let encoded = match command {
        OutboundCommand::Notification(c) => codec.encode(subjects::NOTIFICATION_COMMAND, c),
        OutboundCommand::DelayApology(c) => codec.encode(subjects::DELAY_APOLOGY_COMMAND, c),
        OutboundCommand::ReviewRequest(c) => codec.encode(subjects::REVIEW_REQUEST_COMMAND, c),
    };
    encoded
        .map_err(|e| tracing::error!(error = %e, "released command does not encode; dropped"))
        .ok()
}

impl Processor for Dispatcher {
    /// What the cap holds for one recipient, and the cap's own state for it.
    type State = RecipientHold;
    const STATE_SUBJECT: &'static str = wismo_codec::subjects::RECIPIENT_HOLD;
    type Input = Outbound;

    /// The outbox, keyed by customer: one recipient's commands meet in one task,
    /// in the time order they were decided.
    fn topology(&self) -> Topology {
        Topology {
            keyed: vec![Input::internal(&self.topics.outbox)],
            keyed_writes: Vec::new(),
            forward_only: Vec::new(),
            changelog: Some(self.topics.dispatcher_changelog.clone()),
        }
    }

    fn service(&self) -> &str {
        SERVICE
    }

    fn dead_letter_topic(&self) -> &str {
        &self.topics.dead_letter
    }

    fn decode(&self, record: &InputRecord<'_>) -> Result<Decoded<Outbound>, Rejection> {
        let payload = record.value()?;
        let command = decode(payload)?;
        // The key is named only as a short, sanitised prefix (it may be anything).
        check_key(record.key, "customer_id", command.customer_id())
            .map_err(|e| Rejection::invalid(e.to_string()))?;
        Ok(Decoded::keyed(
            command.customer_id().to_string(),
            Outbound {
                command,
                payload: payload.to_vec(),
            },
        ))
    }

    fn decide(
        &mut self,
        _key: &str,
        state: Option<RecipientHold>,
        input: Outbound,
        now: Timestamp,
    ) -> Step<RecipientHold> {
        let held_before = state.as_ref().map_or(0, |s| s.held.len());
        let kind = input.command.kind();
        let step = self.gate.offer(state, input.command, now);
        let held_after = step.state.as_ref().map_or(0, |s| s.held.len());
        if held_after > held_before
            || step
                .outputs
                .iter()
                .any(|o| matches!(o, GateOutput::Note(n) if n.reason == HoldReason::Superseded))
        {
            metrics::get().capped.with_label_values(&[kind]).inc();
        }
        Step {
            records: self.records(step.outputs, Some(input.payload)),
            state: step.state,
        }
    }

    fn on_timer(
        &mut self,
        _key: &str,
        state: RecipientHold,
        now: Timestamp,
    ) -> Step<RecipientHold> {
        let step = self.gate.on_timer(state, now);
        Step {
            records: self.records(step.outputs, None),
            state: step.state,
        }
    }

    fn next_deadline(&self, state: &RecipientHold) -> Option<Timestamp> {
        state.next_deadline()
    }

    /// Re-divides the global egress rate: each replica takes the share of the
    /// outbox partitions it owns.
    fn on_assignment(&mut self, owned: usize, of: usize) {
        let Some(rate) = self.egress_rate else {
            return;
        };
        let share = egress_share(rate, owned, of);
        metrics::get().egress_share.set(i64::from(share));
        self.egress = NonZeroU32::new(share).map(|s| RateLimiter::direct(Quota::per_second(s)));
        tracing::info!(owned, of, per_second = share, "egress share");
    }
}

#[cfg(test)]
mod tests {
    use super::egress_share;

    #[test]
    fn replicas_together_stay_within_the_global_egress_rate() {
        for (rate, partitions) in [(100, 12), (50, 7), (1_000, 3), (7, 6)] {
            // Every way of dividing the partitions between three replicas.
            for a in 0..=partitions {
                for b in 0..=partitions - a {
                    let c = partitions - a - b;
                    let total: u32 = [a, b, c]
                        .iter()
                        .map(|&owned| egress_share(rate, owned, partitions))
                        .sum();
                    let owners = [a, b, c].iter().filter(|&&o| o > 0).count() as u32;
                    assert!(
                        total <= rate.max(owners),
                        "rate {rate}, partitions {a}/{b}/{c}: {total}"
                    );
                }
            }
            assert_eq!(
                egress_share(rate, partitions, partitions),
                rate,
                "one replica owns all"
            );
        }
        assert_eq!(egress_share(100, 0, 12), 0);
    }
}

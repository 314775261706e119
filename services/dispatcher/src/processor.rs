//! Decoding outbox records, the cap, the egress rate, and routing to the command topics.

use crate::metrics;
use governor::clock::{Clock, DefaultClock};
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use wismo_codec::{subjects, unframe, Codec, SchemaCatalog};
use wismo_config::Topics;
use wismo_core::dispatch::{OutboundCommand, RecipientCap};
use wismo_core::model::Timestamp;
use wismo_core::policy::NotificationPolicy;
use wismo_runtime::{Decoded, InputRecord, OutRecord, Processor, Rejection, Step};

/// A decided command and its bytes, forwarded unchanged when admitted.
pub struct Outbound {
    command: OutboundCommand,
    payload: Vec<u8>,
}

pub struct Dispatcher {
    cap: RecipientCap,
    egress: RateLimiter<NotKeyed, InMemoryState, DefaultClock>,
    topics: Topics,
}

impl Dispatcher {
    pub fn new(policy: &NotificationPolicy, topics: Topics) -> Self {
        let rate = NonZeroU32::new(policy.egress_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        Dispatcher {
            cap: RecipientCap::new(policy),
            egress: RateLimiter::direct(Quota::per_second(rate)),
            topics,
        }
    }

    /// Blocks until the global egress rate allows one more command: backpressure
    /// that protects the downstream providers.
    fn wait_for_egress(&self) {
        while let Err(not_until) = self.egress.check() {
            metrics::get().egress_waits.inc();
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            tokio::task::block_in_place(|| std::thread::sleep(wait));
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
    .map_err(Rejection::decode)
}

impl Processor for Dispatcher {
    type State = ();
    type Input = Outbound;

    fn input_topics(&self) -> Vec<String> {
        vec![self.topics.outbox.clone()]
    }

    fn stateful(&self) -> bool {
        false
    }

    fn decode(&self, record: &InputRecord<'_>) -> Result<Decoded<Outbound>, Rejection> {
        let payload = record.value()?;
        let command = decode(payload)?;
        record.require_key("customer_id", command.customer_id())?;
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
        _state: Option<()>,
        input: Outbound,
        now: Timestamp,
    ) -> Step<()> {
        let m = metrics::get();
        let cmd = &input.command;
        let admitted = self.cap.admit(cmd.customer_id(), now);
        m.tracked_recipients.set(self.cap.tracked() as i64);
        if !admitted {
            m.capped.with_label_values(&[cmd.kind()]).inc();
            tracing::warn!(
                kind = cmd.kind(),
                command_id = cmd.command_id(),
                order_id = cmd.order_id(),
                "command dropped by the per-recipient cap"
            );
            return Step {
                state: None,
                records: Vec::new(),
            };
        }
        self.wait_for_egress();
        m.dispatched.with_label_values(&[cmd.kind()]).inc();
        let detectable_at = match cmd {
            OutboundCommand::DelayApology(a) => Some(a.detectable_at),
            _ => None,
        };
        let record = OutRecord {
            topic: self.topic(cmd).to_string(),
            key: cmd.order_id().to_string(),
            payload: input.payload,
            detectable_at,
            not_before: None,
        };
        Step {
            state: None,
            records: vec![record],
        }
    }

    fn on_timer(&mut self, _key: &str, _state: (), _now: Timestamp) -> Step<()> {
        Step {
            state: None,
            records: Vec::new(),
        }
    }

    fn next_deadline(&self, _state: &()) -> Option<Timestamp> {
        None
    }
}

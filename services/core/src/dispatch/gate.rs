//! The per-recipient cap as a safety net that keeps what matters.
//!
//! A command the cap refuses is held in the recipient's state, not dropped. At the
//! next slot the cap allows, the most important held command goes out (delivered
//! and action-needed first, then apologies, then routine milestones, then review
//! requests; oldest first within a rank), its `send_at` moved to that slot and out
//! of the recipient's quiet hours. A held command is dropped only when a newer one
//! about the same order supersedes it; the newer one names what it absorbed
//! (`merged_milestones`). Same inputs, same outputs: the gate is pure, the cap's
//! state is part of the recipient's.

use super::{OutboundCommand, RecipientCap};
use crate::model::{Milestone, Timestamp};
use crate::policy::NotificationPolicy;
use crate::tracker::{HeldBack, HoldReason, Outcome};
use serde::{Deserialize, Serialize};

/// How many commands one recipient may have held; beyond, the least important go.
const MAX_HELD: usize = 50;

/// How many of a recipient's sent command ids the gate remembers (within the
/// cap's period), to know a command offered again.
const KEPT_SENT: usize = 32;

/// How many of its recent decisions the gate keeps per recipient, and how long.
const KEPT_NOTES: usize = 20;
const NOTES_FOR: chrono::Duration = chrono::Duration::days(30);

/// What the gate holds for one recipient, and what it recently held back (for the
/// lookup and `replay --explain`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecipientHold {
    pub held: Vec<HeldCommand>,
    /// The next slot the cap allows, while anything is held.
    #[serde(default, with = "crate::model::serde_time::opt_millis")]
    pub retry_at: Option<Timestamp>,
    #[serde(default)]
    pub recent: Vec<HeldBack>,
    /// The cap's state for this recipient (GCRA's theoretical arrival time, in
    /// nanoseconds since the epoch); none once the cap is full again.
    #[serde(default)]
    pub cap: Option<u64>,
    /// Commands sent within the cap's period. One offered again (a repeat from
    /// upstream, or a redo after a crash whose state was saved ahead of its
    /// offsets) was sent already and is not counted again.
    #[serde(default)]
    pub sent: Vec<SentCommand>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentCommand {
    pub command_id: String,
    /// When the cap stops counting it, and it is forgotten.
    #[serde(with = "crate::model::serde_time::millis")]
    pub until: Timestamp,
}

impl RecipientHold {
    /// Records the step's notes; `None` once nothing is held or remembered.
    fn settle(mut self, outputs: &[GateOutput], now: Timestamp) -> Option<Self> {
        let since = now.checked_sub_signed(NOTES_FOR).unwrap_or(now);
        self.recent.retain(|n| n.at >= since);
        for out in outputs {
            if let GateOutput::Note(n) = out {
                self.recent.push(n.clone());
            }
        }
        if self.recent.len() > KEPT_NOTES {
            let excess = self.recent.len() - KEPT_NOTES;
            self.recent.drain(..excess);
        }
        if RecipientCap::is_full(self.cap, now) {
            self.cap = None;
        }
        (!self.held.is_empty()
            || !self.recent.is_empty()
            || self.cap.is_some()
            || !self.sent.is_empty())
        .then_some(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldCommand {
    pub command: OutboundCommand,
    #[serde(with = "crate::model::serde_time::millis")]
    pub held_at: Timestamp,
    /// Kinds of the held commands this one superseded.
    #[serde(default)]
    pub merged: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GateOutput {
    /// Goes out now. `changed`: its `send_at` or variables differ from the command
    /// as decided (it was held).
    Send {
        command: OutboundCommand,
        changed: bool,
    },
    /// A command the cap held (when it went out) or dropped as superseded.
    Note(HeldBack),
}

#[derive(Debug, Clone, PartialEq)]
pub struct GateStep {
    /// `None` once nothing is held.
    pub state: Option<RecipientHold>,
    pub outputs: Vec<GateOutput>,
}

/// Higher goes first: delivered and action-needed (3), apologies (2), routine
/// milestones (1), review requests (0).
pub fn priority(cmd: &OutboundCommand) -> u8 {
    match cmd {
        OutboundCommand::Notification(n) => match n.milestone {
            Milestone::Delivered
            | Milestone::Exception
            | Milestone::FailedAttempt
            | Milestone::AvailableForPickup
            | Milestone::ReturnedToSender => 3,
            Milestone::OrderConfirmed | Milestone::Shipped | Milestone::OutForDelivery => 1,
        },
        OutboundCommand::DelayApology(_) => 2,
        OutboundCommand::ReviewRequest(_) => 0,
    }
}

/// Whether `newer` makes the held `older` pointless: both about the same order,
/// and a later word on the same parcel, or on the order after a routine one, or a
/// later stage of the same apology (episode or incident).
pub fn supersedes(newer: &OutboundCommand, older: &OutboundCommand) -> bool {
    if newer.order_id() != older.order_id() {
        return false;
    }
    match (newer, older) {
        (OutboundCommand::Notification(n), OutboundCommand::Notification(o)) => {
            let same_parcel = n.shipment_id.is_some() && n.shipment_id == o.shipment_id;
            same_parcel || o.shipment_id.is_none() || priority(older) == 1
        }
        (OutboundCommand::DelayApology(n), OutboundCommand::DelayApology(o)) => {
            n.incident_id == o.incident_id
        }
        _ => false,
    }
}

pub struct Gate {
    cap: RecipientCap,
    policy: NotificationPolicy,
}

impl Gate {
    pub fn new(policy: &NotificationPolicy) -> Self {
        Gate {
            cap: RecipientCap::new(policy),
            policy: policy.clone(),
        }
    }

    /// A command decided for its recipient, whose held commands are `state`.
    pub fn offer(
        &mut self,
        state: Option<RecipientHold>,
        command: OutboundCommand,
        now: Timestamp,
    ) -> GateStep {
        let mut hold = state.unwrap_or_default();
        let mut outputs = Vec::new();
        let id = command.command_id();
        if hold.sent.iter().any(|s| s.command_id == id)
            || hold.held.iter().any(|h| h.command.command_id() == id)
        {
            // Offered again: sent or held already, and nothing changes.
            return GateStep {
                state: hold.settle(&outputs, now),
                outputs,
            };
        }
        if hold.held.is_empty() {
            match self.cap.check(&mut hold.cap, now) {
                Ok(()) => {
                    outputs.push(GateOutput::Send {
                        command,
                        changed: false,
                    });
                    self.remember_sent(&mut hold, &outputs, now);
                    return GateStep {
                        state: hold.settle(&outputs, now),
                        outputs,
                    };
                }
                Err(next) => hold.retry_at = Some(next),
            }
        }
        self.hold(&mut hold, command, now, &mut outputs);
        self.release(&mut hold, now, &mut outputs);
        self.remember_sent(&mut hold, &outputs, now);
        GateStep {
            state: hold.settle(&outputs, now),
            outputs,
        }
    }

    /// Remembers what went out, for as long as the cap counts it.
    fn remember_sent(&self, hold: &mut RecipientHold, outputs: &[GateOutput], now: Timestamp) {
        hold.sent.retain(|s| s.until > now);
        let until = now
            .checked_add_signed(self.policy.per_recipient_period)
            .unwrap_or(now);
        for out in outputs {
            if let GateOutput::Send { command, .. } = out {
                hold.sent.push(SentCommand {
                    command_id: command.command_id().to_string(),
                    until,
                });
            }
        }
        if hold.sent.len() > KEPT_SENT {
            let excess = hold.sent.len() - KEPT_SENT;
            hold.sent.drain(..excess);
        }
    }

    /// The recipient's next slot came.
    pub fn on_timer(&mut self, state: RecipientHold, now: Timestamp) -> GateStep {
        let mut hold = state;
        let mut outputs = Vec::new();
        self.release(&mut hold, now, &mut outputs);
        self.remember_sent(&mut hold, &outputs, now);
        GateStep {
            state: hold.settle(&outputs, now),
            outputs,
        }
    }

    fn hold(
        &self,
        hold: &mut RecipientHold,
        command: OutboundCommand,
        now: Timestamp,
        outputs: &mut Vec<GateOutput>,
    ) {
        let mut merged = Vec::new();
        let mut kept = Vec::with_capacity(hold.held.len());
        for h in std::mem::take(&mut hold.held) {
            if supersedes(&command, &h.command) {
                outputs.push(GateOutput::Note(note(
                    &h.command,
                    h.held_at,
                    Outcome::Suppressed,
                    HoldReason::Superseded,
                )));
                merged.extend(h.merged);
                merged.push(h.command.what());
            } else {
                kept.push(h);
            }
        }
        kept.push(HeldCommand {
            command,
            held_at: now,
            merged,
        });
        if kept.len() > MAX_HELD {
            // The least important, and among them the oldest, makes room.
            if let Some(i) =
                (0..kept.len()).min_by_key(|&i| (priority(&kept[i].command), kept[i].held_at, i))
            {
                let dropped = kept.remove(i);
                outputs.push(GateOutput::Note(note(
                    &dropped.command,
                    dropped.held_at,
                    Outcome::Suppressed,
                    HoldReason::Cap,
                )));
            }
        }
        hold.held = kept;
    }

    /// Sends held commands, most important first, while the cap allows.
    fn release(&mut self, hold: &mut RecipientHold, now: Timestamp, outputs: &mut Vec<GateOutput>) {
        hold.retry_at = None;
        while let Some(i) = (0..hold.held.len()).max_by_key(|&i| {
            let h = &hold.held[i];
            (
                priority(&h.command),
                std::cmp::Reverse(h.held_at),
                std::cmp::Reverse(i),
            )
        }) {
            if let Err(next) = self.cap.check(&mut hold.cap, now) {
                hold.retry_at = Some(next);
                return;
            }
            let h = hold.held.remove(i);
            let command = self.released(h.command, &h.merged, now);
            outputs.push(GateOutput::Note(
                note(&command, h.held_at, Outcome::Held, HoldReason::Cap).until(command.send_at()),
            ));
            outputs.push(GateOutput::Send {
                command,
                changed: true,
            });
        }
    }

    /// A held command as it goes out: at the slot, outside quiet hours, naming
    /// what it absorbed.
    fn released(
        &self,
        mut command: OutboundCommand,
        merged: &[String],
        now: Timestamp,
    ) -> OutboundCommand {
        let at = command.send_at().max(now);
        let (tz, country) = command.recipient();
        let at = match tz.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) {
            Some(tz) => self.policy.quiet_hours_for(country).next_allowed(at, tz),
            None => at,
        };
        command.set_send_at(at);
        if let (OutboundCommand::Notification(n), false) = (&mut command, merged.is_empty()) {
            n.variables
                .insert("merged_milestones".into(), merged.join(","));
        }
        command
    }
}

impl RecipientHold {
    /// When the gate next has something to do for this recipient: release what
    /// it holds, or forget a cap that is full again.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.retry_at
            .or_else(|| RecipientCap::full_at(self.cap))
            .or_else(|| self.sent.iter().map(|s| s.until).max())
    }
}

fn note(cmd: &OutboundCommand, at: Timestamp, outcome: Outcome, reason: HoldReason) -> HeldBack {
    HeldBack::new(cmd.order_id(), at, cmd.what(), outcome, reason)
        .tracking(cmd.tracking_number())
        .command(cmd.command_id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delay::Severity;
    use crate::model::{ChannelKind, DelayApologyCommand, DelayReason};
    use chrono::TimeZone;

    fn apology(incident: &str, stage: i32) -> OutboundCommand {
        let t = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap();
        OutboundCommand::DelayApology(DelayApologyCommand {
            command_id: format!("{incident}-{stage}"),
            order_id: "o1".into(),
            customer_id: "c".into(),
            incident_id: format!("o1:{incident}"),
            reason: DelayReason::Late,
            stage,
            severity: Severity::Minor,
            days_late: None,
            silent_hours: None,
            promised_delivery_date: None,
            new_estimated_delivery_date: None,
            compensation: None,
            tracking_numbers: vec![],
            channel: ChannelKind::Email,
            template_key: "delay_apology.late".into(),
            locale: "en-US".into(),
            send_at: t,
            decided_at: t,
            detectable_at: t,
            recipient_timezone: None,
            recipient_country: None,
        })
    }

    #[test]
    fn a_later_stage_of_the_same_apology_supersedes_another_apology_does_not() {
        assert!(supersedes(
            &apology("episode-1", 2),
            &apology("episode-1", 1)
        ));
        assert!(!supersedes(
            &apology("delay-1", 1),
            &apology("damaged-1", 1)
        ));
        assert_eq!(priority(&apology("episode-1", 1)), 2);
    }

    #[test]
    fn held_apologies_go_out_one_per_slot_and_a_later_stage_replaces_its_earlier_one() {
        let policy = NotificationPolicy {
            per_recipient_max: 1,
            ..NotificationPolicy::default()
        };
        let mut gate = Gate::new(&policy);
        let t = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap();
        let step = gate.offer(None, apology("delay-1", 1), t);
        assert!(matches!(
            step.outputs[..],
            [GateOutput::Send { changed: false, .. }]
        ));
        let minute = chrono::Duration::minutes(1);
        let step = gate.offer(step.state, apology("damaged-1", 1), t + minute);
        let step = gate.offer(step.state, apology("delay-1", 2), t + minute * 2);
        let step = gate.offer(step.state, apology("delay-1", 3), t + minute * 3);
        let held: Vec<&str> = step
            .state
            .as_ref()
            .unwrap()
            .held
            .iter()
            .map(|h| h.command.command_id())
            .collect();
        assert_eq!(held, ["damaged-1-1", "delay-1-3"]);
        let retry = step.state.as_ref().and_then(RecipientHold::next_deadline);
        assert_eq!(retry, Some(t + chrono::Duration::hours(1)));
        let step = gate.on_timer(step.state.unwrap(), t + chrono::Duration::hours(1));
        let sent: Vec<&str> = step
            .outputs
            .iter()
            .filter_map(|o| match o {
                GateOutput::Send { command, .. } => Some(command.command_id()),
                _ => None,
            })
            .collect();
        assert_eq!(sent, ["damaged-1-1"], "equal rank: the older first");
    }

    #[test]
    fn a_command_offered_again_is_neither_sent_nor_counted_again() {
        let policy = NotificationPolicy {
            per_recipient_max: 2,
            ..NotificationPolicy::default()
        };
        let mut gate = Gate::new(&policy);
        let t = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap();
        let first = gate.offer(None, apology("delay-1", 1), t);
        assert_eq!(first.outputs.len(), 1);
        // The same command again (a redo after a crash): nothing goes out and the
        // cap still has room for one more.
        let again = gate.offer(first.state, apology("delay-1", 1), t);
        assert!(again.outputs.is_empty());
        let other = gate.offer(again.state, apology("damaged-1", 1), t);
        assert!(matches!(
            other.outputs[..],
            [GateOutput::Send { changed: false, .. }]
        ));
        // Forgotten once the cap no longer counts it.
        let state = other.state.unwrap();
        let forget_at = state.next_deadline().unwrap();
        assert!(forget_at > t);
        let mut state = Some(state);
        while let Some(s) = state.take() {
            let at = s.next_deadline().unwrap();
            state = gate.on_timer(s, at).state;
            if at > t + policy.per_recipient_period * 2 {
                panic!("never forgotten");
            }
        }
    }
}

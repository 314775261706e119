//! The last gate before a command leaves: the per-recipient cap, a safety net
//! against notification storms, on `governor`'s GCRA ([`cap`]).
//!
//! The cap's state is the recipient's, kept with what it holds, and the limiter
//! runs on the decision's clock, so the same commands at the same times are
//! admitted or capped the same way live, after a restart and in `replay`. A command over the cap is held, not dropped ([`gate`]): it goes out
//! at the recipient's next allowed slot, merged into a newer message about the same
//! order when one supersedes it, the important ones first.

mod cap;
mod gate;

pub use cap::RecipientCap;
pub use gate::{
    priority, supersedes, Gate, GateOutput, GateStep, HeldCommand, RecipientHold, SentCommand,
};

use crate::model::{DelayApologyCommand, NotificationCommand, ReviewRequestCommand, Timestamp};
use serde::{Deserialize, Serialize};

/// Any command on its way out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "command", rename_all = "snake_case")]
pub enum OutboundCommand {
    Notification(NotificationCommand),
    DelayApology(DelayApologyCommand),
    ReviewRequest(ReviewRequestCommand),
}

impl OutboundCommand {
    pub fn kind(&self) -> &'static str {
        match self {
            OutboundCommand::Notification(_) => "notification",
            OutboundCommand::DelayApology(_) => "delay_apology",
            OutboundCommand::ReviewRequest(_) => "review_request",
        }
    }

    pub fn command_id(&self) -> &str {
        match self {
            OutboundCommand::Notification(c) => &c.command_id,
            OutboundCommand::DelayApology(c) => &c.command_id,
            OutboundCommand::ReviewRequest(c) => &c.command_id,
        }
    }

    pub fn order_id(&self) -> &str {
        match self {
            OutboundCommand::Notification(c) => &c.order_id,
            OutboundCommand::DelayApology(c) => &c.order_id,
            OutboundCommand::ReviewRequest(c) => &c.order_id,
        }
    }

    /// The recipient the cap counts against.
    pub fn customer_id(&self) -> &str {
        match self {
            OutboundCommand::Notification(c) => &c.customer_id,
            OutboundCommand::DelayApology(c) => &c.customer_id,
            OutboundCommand::ReviewRequest(c) => &c.customer_id,
        }
    }

    pub fn send_at(&self) -> Timestamp {
        match self {
            OutboundCommand::Notification(c) => c.send_at,
            OutboundCommand::DelayApology(c) => c.send_at,
            OutboundCommand::ReviewRequest(c) => c.send_at,
        }
    }

    pub fn set_send_at(&mut self, t: Timestamp) {
        match self {
            OutboundCommand::Notification(c) => c.send_at = t,
            OutboundCommand::DelayApology(c) => c.send_at = t,
            OutboundCommand::ReviewRequest(c) => c.send_at = t,
        }
    }

    /// The command kind as in template keys (`shipped`, `back_on_track`,
    /// `delay_apology.late`, `review_request`).
    pub fn what(&self) -> String {
        match self {
            OutboundCommand::Notification(c) => match c.template_key.as_str() {
                k @ ("back_on_track" | crate::tracker::RETURNING_TO_SENDER) => k.to_string(),
                _ => c.milestone.as_str().to_string(),
            },
            OutboundCommand::DelayApology(c) => format!("delay_apology.{}", c.reason.as_str()),
            OutboundCommand::ReviewRequest(_) => "review_request".to_string(),
        }
    }

    pub fn tracking_number(&self) -> Option<&str> {
        match self {
            OutboundCommand::Notification(c) => c.tracking_number.as_deref(),
            _ => None,
        }
    }

    /// Where the recipient's quiet hours are counted, when the command says.
    pub fn recipient(&self) -> (Option<&str>, Option<&str>) {
        let (tz, country) = match self {
            OutboundCommand::Notification(c) => (&c.recipient_timezone, &c.recipient_country),
            OutboundCommand::DelayApology(c) => (&c.recipient_timezone, &c.recipient_country),
            OutboundCommand::ReviewRequest(c) => (&c.recipient_timezone, &c.recipient_country),
        };
        (tz.as_deref(), country.as_deref())
    }
}

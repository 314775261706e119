//! Decisions that did not become a command, or became a deferred one, and why:
//! emitted as outputs (for `replay --explain` and metrics) and kept, the most recent
//! few, in the order's state (for the order lookup a support agent reads).

use crate::model::{serde_time, Timestamp};
use serde::{Deserialize, Serialize};

/// How many held-back decisions an order's state keeps.
pub const KEPT_NOTES: usize = 20;
/// How many status changes a shipment's state keeps.
pub const KEPT_TIMELINE: usize = 16;

/// What became of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not sent, and never will be.
    Suppressed,
    /// Sent later than decided (`until`), or waiting to be.
    Held,
    /// Not sent: the order's situation rules it out for good.
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Suppressed => "suppressed",
            Outcome::Held => "held",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// Why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// No channel with transactional consent.
    NoConsentedChannel,
    /// A review request needs marketing consent.
    NoMarketingConsent,
    /// The event was older than the stale window when it arrived.
    Stale,
    /// A later milestone of the parcel was already sent.
    Backwards,
    /// A newer status arrived within the coalescing window and replaced it.
    CollapsedBurst,
    /// Decided inside the recipient's quiet hours; `send_at` is the next allowed time.
    QuietHours,
    /// An apology waits for the least gap after the order's last apology.
    EpisodeGap,
    /// Over the per-recipient cap: deferred to the next allowed slot.
    Cap,
    /// Over the cap, and a newer message about the same order replaced it.
    Superseded,
    /// A review request while a delay episode or carrier exception is open.
    OpenProblem,
    /// The parcel is going or went back to the sender.
    Return,
    /// The parcel is lost (reported by the carrier, or presumed).
    Loss,
    /// The recipient refused the parcel.
    Refused,
    /// The order was cancelled.
    OrderCancelled,
    /// A held apology was no longer warranted when its time came.
    Resolved,
}

impl HoldReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::NoConsentedChannel => "no_consented_channel",
            HoldReason::NoMarketingConsent => "no_marketing_consent",
            HoldReason::Stale => "stale",
            HoldReason::Backwards => "backwards",
            HoldReason::CollapsedBurst => "collapsed_burst",
            HoldReason::QuietHours => "quiet_hours",
            HoldReason::EpisodeGap => "episode_gap",
            HoldReason::Cap => "cap",
            HoldReason::Superseded => "superseded",
            HoldReason::OpenProblem => "open_problem",
            HoldReason::Return => "return",
            HoldReason::Loss => "loss",
            HoldReason::Refused => "refused",
            HoldReason::OrderCancelled => "order_cancelled",
            HoldReason::Resolved => "resolved",
        }
    }
}

/// One held-back decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBack {
    pub order_id: String,
    /// When it was decided.
    #[serde(with = "serde_time::millis")]
    pub at: Timestamp,
    /// The command kind, as in template keys: `shipped`, `delay_apology.late`,
    /// `review_request`, `returning_to_sender`, …
    pub what: String,
    #[serde(default)]
    pub tracking_number: Option<String>,
    pub outcome: Outcome,
    pub reason: HoldReason,
    /// For a held decision: when it goes (or went) out.
    #[serde(default, with = "serde_time::opt_millis")]
    pub until: Option<Timestamp>,
    /// The command, when one was or will be sent.
    #[serde(default)]
    pub command_id: Option<String>,
}

impl HeldBack {
    pub fn new(
        order_id: &str,
        at: Timestamp,
        what: impl Into<String>,
        outcome: Outcome,
        reason: HoldReason,
    ) -> Self {
        HeldBack {
            order_id: order_id.to_string(),
            at,
            what: what.into(),
            tracking_number: None,
            outcome,
            reason,
            until: None,
            command_id: None,
        }
    }

    pub fn tracking(mut self, tracking: Option<&str>) -> Self {
        self.tracking_number = tracking.map(str::to_string);
        self
    }

    pub fn until(mut self, until: Timestamp) -> Self {
        self.until = Some(until);
        self
    }

    pub fn command(mut self, id: &str) -> Self {
        self.command_id = Some(id.to_string());
        self
    }
}

/// A held-back decision as its order's state keeps it: a [`HeldBack`] without the
/// order, which is the state's own.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderNote {
    #[serde(with = "serde_time::millis")]
    pub at: Timestamp,
    pub what: String,
    #[serde(default)]
    pub tracking_number: Option<String>,
    pub outcome: Outcome,
    pub reason: HoldReason,
    #[serde(default, with = "serde_time::opt_millis")]
    pub until: Option<Timestamp>,
    #[serde(default)]
    pub command_id: Option<String>,
}

/// In Avro with an empty `order_id` first: version 1 of the state's schema requires
/// the field, and versions stay fully compatible both ways. JSON (the lookup)
/// leaves it out.
impl Serialize for OrderNote {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let binary = !s.is_human_readable();
        let mut st = s.serialize_struct("HeldBack", 7 + usize::from(binary))?;
        if binary {
            st.serialize_field("order_id", "")?;
        }
        st.serialize_field("at", &self.at.timestamp_millis())?;
        st.serialize_field("what", &self.what)?;
        st.serialize_field("tracking_number", &self.tracking_number)?;
        st.serialize_field("outcome", &self.outcome)?;
        st.serialize_field("reason", &self.reason)?;
        st.serialize_field("until", &self.until.map(|t| t.timestamp_millis()))?;
        st.serialize_field("command_id", &self.command_id)?;
        st.end()
    }
}

impl OrderNote {
    pub fn of(note: &HeldBack) -> Self {
        OrderNote {
            at: note.at,
            what: note.what.clone(),
            tracking_number: note.tracking_number.clone(),
            outcome: note.outcome,
            reason: note.reason,
            until: note.until,
            command_id: note.command_id.clone(),
        }
    }

    /// The decision as it was made, about `order_id`.
    pub fn decision(&self, order_id: &str) -> HeldBack {
        HeldBack {
            order_id: order_id.to_string(),
            at: self.at,
            what: self.what.clone(),
            tracking_number: self.tracking_number.clone(),
            outcome: self.outcome,
            reason: self.reason,
            until: self.until,
            command_id: self.command_id.clone(),
        }
    }
}

/// Keeps the most recent notes, oldest dropped first.
pub fn keep(notes: &mut Vec<OrderNote>, note: &HeldBack) {
    keep_last(notes, OrderNote::of(note), KEPT_NOTES);
}

/// Appends, keeping at most `max`, oldest dropped first.
pub fn keep_last<T>(items: &mut Vec<T>, item: T, max: usize) {
    super::vec_set::insert_exact(items, items.len(), item);
    if items.len() > max {
        let excess = items.len() - max;
        items.drain(..excess);
    }
}

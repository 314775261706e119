//! Decisions that did not become a command, or became a deferred one, and why:
//! emitted as outputs (for `replay --explain` and metrics) and kept, the most recent
//! few, in the order's state (for the order lookup a support agent reads).

use crate::model::{serde_time, Timestamp};
use serde::{Deserialize, Serialize};

/// How many held-back decisions an order's state keeps.
pub const KEPT_NOTES: usize = 20;
/// How many status changes an order's state keeps.
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

/// Keeps the most recent notes, oldest dropped first.
pub fn keep(notes: &mut Vec<HeldBack>, note: HeldBack) {
    keep_last(notes, note, KEPT_NOTES);
}

/// Appends, keeping at most `max`, oldest dropped first.
pub fn keep_last<T>(items: &mut Vec<T>, item: T, max: usize) {
    super::vec_set::insert_exact(items, items.len(), item);
    if items.len() > max {
        let excess = items.len() - max;
        items.drain(..excess);
    }
}

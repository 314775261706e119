//! Delay apologies: wismo noticed a problem with an order and says sorry first.

use super::{serde_time, ChannelKind, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Why an order is late or at risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DelayReason {
    /// The promised date passed (end of that day, customer's time) undelivered.
    Late,
    /// The carrier's estimate moved past the promised date.
    PredictedLate,
    /// A label was created but the carrier never picked the parcel up.
    NotPickedUp,
    /// In transit with no scan for longer than the lane allows.
    StuckInTransit,
    /// Out for delivery, but not delivered by the end of the local day.
    NotDeliveredToday,
    /// No scan for so long the parcel is presumed lost.
    PresumedLost,
    Damaged,
    /// The carrier reports the parcel lost.
    Lost,
    Weather,
    Customs,
}

impl DelayReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DelayReason::Late => "late",
            DelayReason::PredictedLate => "predicted_late",
            DelayReason::NotPickedUp => "not_picked_up",
            DelayReason::StuckInTransit => "stuck_in_transit",
            DelayReason::NotDeliveredToday => "not_delivered_today",
            DelayReason::PresumedLost => "presumed_lost",
            DelayReason::Damaged => "damaged",
            DelayReason::Lost => "lost",
            DelayReason::Weather => "weather",
            DelayReason::Customs => "customs",
        }
    }
}

/// One apology for the messaging service to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelayApologyCommand {
    /// Deterministic from the incident and its stage.
    pub command_id: String,
    pub order_id: String,
    pub customer_id: String,
    /// Stable id of the incident; an escalation keeps the id with a higher stage.
    pub incident_id: String,
    pub reason: DelayReason,
    /// 1 for the first apology, 2 for the escalation.
    pub stage: i32,
    pub severity: crate::delay::Severity,
    /// Business days late (or predicted late), when the delay is about the promise.
    pub days_late: Option<i32>,
    /// Hours since the last carrier scan, when the parcel went quiet.
    pub silent_hours: Option<i32>,
    #[serde(with = "serde_time::opt_date")]
    pub promised_delivery_date: Option<NaiveDate>,
    /// The carrier's latest estimate, when known.
    #[serde(with = "serde_time::opt_date")]
    pub new_estimated_delivery_date: Option<NaiveDate>,
    /// An offer from the compensation policy for this severity.
    pub compensation: Option<String>,
    pub tracking_numbers: Vec<String>,
    pub channel: ChannelKind,
    pub template_key: String,
    pub locale: String,
    #[serde(with = "serde_time::millis")]
    pub send_at: Timestamp,
    #[serde(with = "serde_time::millis")]
    pub decided_at: Timestamp,
    /// The instant the problem became detectable (a deadline, or the scan's arrival).
    #[serde(with = "serde_time::millis")]
    pub detectable_at: Timestamp,
    /// The recipient's IANA timezone and the order's destination country: where
    /// quiet hours are counted, for a send time moved after the decision.
    #[serde(default)]
    pub recipient_timezone: Option<String>,
    #[serde(default)]
    pub recipient_country: Option<String>,
}

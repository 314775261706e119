//! Commands wismo sends to the messaging services.

use super::{serde_time, ChannelKind, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The customer-facing milestones that produce a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Milestone {
    OrderConfirmed,
    Shipped,
    OutForDelivery,
    AvailableForPickup,
    FailedAttempt,
    Exception,
    Delivered,
    ReturnedToSender,
}

impl Milestone {
    /// The snake-case name used in template keys and command ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::OrderConfirmed => "order_confirmed",
            Milestone::Shipped => "shipped",
            Milestone::OutForDelivery => "out_for_delivery",
            Milestone::AvailableForPickup => "available_for_pickup",
            Milestone::FailedAttempt => "failed_attempt",
            Milestone::Exception => "exception",
            Milestone::Delivered => "delivered",
            Milestone::ReturnedToSender => "returned_to_sender",
        }
    }
}

/// One notification for the messaging service to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationCommand {
    /// Deterministic from the cause: the same input always yields the same id.
    pub command_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub shipment_id: Option<String>,
    pub tracking_number: Option<String>,
    pub milestone: Milestone,
    pub channel: ChannelKind,
    pub template_key: String,
    pub locale: String,
    /// Earliest time the message may go out.
    #[serde(with = "serde_time::millis")]
    pub send_at: Timestamp,
    /// When wismo made the decision.
    #[serde(with = "serde_time::millis")]
    pub decided_at: Timestamp,
    pub variables: BTreeMap<String, String>,
    /// The recipient's IANA timezone and the order's destination country: where
    /// quiet hours are counted, for a send time moved after the decision.
    #[serde(default)]
    pub recipient_timezone: Option<String>,
    #[serde(default)]
    pub recipient_country: Option<String>,
}

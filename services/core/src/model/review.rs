//! Review requests: ask for a review once the customer has had time to use the product.

use super::{serde_time, ChannelKind, Timestamp};
use serde::{Deserialize, Serialize};

/// What the timing was counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewBasis {
    /// Delivered (the last shipment of the order) + the category's delay.
    Delivered,
    /// Delivery never confirmed: fulfilled (last shipment created) + the fallback delay.
    FulfilledFallback,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRequestCommand {
    /// Deterministic from the order: one review request per order.
    pub command_id: String,
    pub order_id: String,
    pub customer_id: String,
    pub basis: ReviewBasis,
    #[serde(with = "serde_time::opt_millis")]
    pub delivered_at: Option<Timestamp>,
    pub skus: Vec<String>,
    pub categories: Vec<String>,
    /// A channel the customer gave marketing consent on.
    pub channel: ChannelKind,
    pub template_key: String,
    pub locale: String,
    #[serde(with = "serde_time::millis")]
    pub send_at: Timestamp,
    #[serde(with = "serde_time::millis")]
    pub decided_at: Timestamp,
    /// The recipient's IANA timezone and the order's destination country: where
    /// quiet hours are counted, for a send time moved after the decision.
    #[serde(default)]
    pub recipient_timezone: Option<String>,
    #[serde(default)]
    pub recipient_country: Option<String>,
}

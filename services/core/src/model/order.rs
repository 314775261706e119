//! Order lifecycle events from the shop (`orders` topic, keyed by order id).

use super::{serde_time, InvalidEvent, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One order lifecycle event. Exactly one of the optional payloads is set; a
/// record with none or several is invalid and goes to the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub event_id: String,
    pub order_id: String,
    #[serde(with = "serde_time::millis")]
    pub occurred_at: Timestamp,
    pub placed: Option<OrderPlaced>,
    pub shipment_created: Option<ShipmentCreated>,
    pub cancelled: Option<OrderCancelled>,
    pub return_requested: Option<ReturnRequested>,
}

/// The payload of an [`OrderEvent`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderEventKind<'a> {
    Placed(&'a OrderPlaced),
    ShipmentCreated(&'a ShipmentCreated),
    Cancelled(&'a OrderCancelled),
    ReturnRequested(&'a ReturnRequested),
}

impl OrderEvent {
    /// The single payload of this event, or why the record is invalid.
    pub fn kind(&self) -> Result<OrderEventKind<'_>, InvalidEvent> {
        let mut kinds = [
            self.placed.as_ref().map(OrderEventKind::Placed),
            self.shipment_created
                .as_ref()
                .map(OrderEventKind::ShipmentCreated),
            self.cancelled.as_ref().map(OrderEventKind::Cancelled),
            self.return_requested
                .as_ref()
                .map(OrderEventKind::ReturnRequested),
        ]
        .into_iter()
        .flatten();
        match (kinds.next(), kinds.next()) {
            (Some(kind), None) => Ok(kind),
            (None, _) => Err(InvalidEvent::field("placed", "no event payload is set")),
            (Some(_), Some(_)) => Err(InvalidEvent::field(
                "placed",
                "more than one event payload is set",
            )),
        }
    }

    /// Checks what the schema cannot express: ids present, one payload, a real timezone.
    pub fn validate(&self) -> Result<(), InvalidEvent> {
        if self.order_id.trim().is_empty() {
            return Err(InvalidEvent::field("order_id", "is empty"));
        }
        if self.event_id.trim().is_empty() {
            return Err(InvalidEvent::field("event_id", "is empty"));
        }
        match self.kind()? {
            OrderEventKind::Placed(p) => p.validate(),
            OrderEventKind::ShipmentCreated(s) => s.validate(),
            OrderEventKind::Cancelled(_) | OrderEventKind::ReturnRequested(_) => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderPlaced {
    pub customer: Customer,
    pub items: Vec<Item>,
    /// The delivery date promised at checkout, in the customer's timezone.
    #[serde(with = "serde_time::opt_date")]
    pub promised_delivery_date: Option<NaiveDate>,
    /// ISO 3166-1 alpha-2 country the order ships to.
    pub destination_country: Option<String>,
}

impl OrderPlaced {
    fn validate(&self) -> Result<(), InvalidEvent> {
        if self.customer.customer_id.trim().is_empty() {
            return Err(InvalidEvent::field("customer.customer_id", "is empty"));
        }
        if self.customer.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(InvalidEvent::field(
                "customer.timezone",
                format!(
                    "{} is not an IANA timezone",
                    crate::quote::quote(&self.customer.timezone)
                ),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub customer_id: String,
    /// BCP 47 tag, e.g. `en-US`.
    pub locale: String,
    /// IANA timezone name, e.g. `America/Chicago`.
    pub timezone: String,
    /// Contact channels in the customer's order of preference. Addresses stay with the
    /// messaging service; wismo only needs the kind and the consent.
    pub channels: Vec<ContactChannel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactChannel {
    pub kind: ChannelKind,
    pub transactional_consent: bool,
    pub marketing_consent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChannelKind {
    Email,
    Sms,
    Push,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub sku: String,
    pub category: String,
    pub quantity: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentCreated {
    pub shipment_id: String,
    pub tracking_number: String,
    pub carrier: String,
    pub service_level: Option<String>,
    /// ISO 3166-1 alpha-2 country the parcel leaves from.
    pub origin_country: Option<String>,
    /// SKUs in this parcel.
    pub skus: Vec<String>,
}

impl ShipmentCreated {
    fn validate(&self) -> Result<(), InvalidEvent> {
        if self.shipment_id.trim().is_empty() {
            return Err(InvalidEvent::field(
                "shipment_created.shipment_id",
                "is empty",
            ));
        }
        if self.tracking_number.trim().is_empty() {
            return Err(InvalidEvent::field(
                "shipment_created.tracking_number",
                "is empty",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnRequested {
    pub reason: Option<String>,
    pub skus: Vec<String>,
}

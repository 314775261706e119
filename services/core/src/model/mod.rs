//! The event and command model. Field names and types mirror the Avro schemas in
//! `schemas/` one to one, so the same structs serve Avro binary, Avro-shaped JSON
//! (for `replay`) and the decision core.

mod apology;
mod command;
mod internal;
pub mod limits;
mod order;
mod review;
mod scan;
pub mod serde_time;

pub use apology::{DelayApologyCommand, DelayReason};
pub use command::{Milestone, NotificationCommand};
pub use internal::{RoutedScan, ShipmentRegistered};
pub use limits::{InputLimits, Limit};
pub use order::{
    ChannelKind, ContactChannel, Customer, Item, OrderCancelled, OrderEvent, OrderEventKind,
    OrderPlaced, ReturnRequested, ShipmentCreated,
};
pub use review::{ReviewBasis, ReviewRequestCommand};
pub use scan::{CarrierScan, ScanLocation};

/// Instant in UTC; carried on the wire as Avro `timestamp-millis`.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Where an input record came from: a topic position live, a file line in `replay`.
/// Carried with held records so that one leaving unmatched can name its source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Why an input record was refused by the model's own validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEvent {
    #[error("field `{field}` is invalid: {reason}")]
    Field { field: &'static str, reason: String },
    /// Over one of the configurable [`InputLimits`]; the reason names the field.
    #[error("{reason} ({})", .limit.key())]
    Limit { limit: Limit, reason: String },
}

impl InvalidEvent {
    /// The configurable bound the record is over, if that is why it is invalid.
    pub fn limit(&self) -> Option<Limit> {
        match self {
            InvalidEvent::Limit { limit, .. } => Some(*limit),
            InvalidEvent::Field { .. } => None,
        }
    }

    pub(crate) fn field(field: &'static str, reason: impl Into<String>) -> Self {
        InvalidEvent::Field {
            field,
            reason: reason.into(),
        }
    }
}

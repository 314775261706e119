use crate::model::{serde_time, CarrierScan, Origin, Timestamp};
use serde::{Deserialize, Serialize};

/// What the matcher knows about one tracking number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackingState {
    pub order_id: Option<String>,
    #[serde(default, with = "serde_time::opt_millis")]
    pub registered_at: Option<Timestamp>,
    pub held: Vec<HeldScan>,
}

impl TrackingState {
    pub fn is_empty(&self) -> bool {
        self.order_id.is_none() && self.held.is_empty()
    }
}

/// A scan waiting for its shipment to be registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldScan {
    pub scan: CarrierScan,
    pub origin: Origin,
    #[serde(with = "serde_time::millis")]
    pub held_at: Timestamp,
}

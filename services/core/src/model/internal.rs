//! Records on wismo's internal topics between its own services.

use super::CarrierScan;
use serde::{Deserialize, Serialize};

/// scan-matcher → scan-matcher: "scans for this tracking number belong to this order",
/// re-keyed from a shipment-created order event by tracking number so it lands beside
/// that number's scans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentRegistered {
    pub tracking_number: String,
    pub carrier: String,
    pub order_id: String,
    pub shipment_id: String,
}

/// scan-matcher → order-tracker: a scan re-keyed by the order it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutedScan {
    pub order_id: String,
    pub scan: CarrierScan,
}

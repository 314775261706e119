//! Carrier scans from 3PLs and carriers (`carrier-scans` topic, keyed by tracking number).

use super::{serde_time, InvalidEvent, Timestamp};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarrierScan {
    /// The publisher's id for this scan; a resend carries the same id.
    pub scan_id: String,
    pub tracking_number: String,
    /// Carrier code, e.g. `ups`, `fedex`, `usps`, `dhl`, `easypost`, `shopify`.
    pub carrier: String,
    /// The carrier's own status code, kept verbatim.
    pub raw_status: String,
    /// A second-level code where the source has one (EasyPost `status_detail`).
    pub raw_status_detail: Option<String>,
    pub description: Option<String>,
    #[serde(with = "serde_time::millis")]
    pub occurred_at: Timestamp,
    pub location: Option<ScanLocation>,
    /// The carrier's estimated delivery date, when this scan carries one.
    #[serde(with = "serde_time::opt_date")]
    pub carrier_edd: Option<NaiveDate>,
    /// The order id, when the publisher knows it.
    pub order_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanLocation {
    pub city: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

impl CarrierScan {
    pub fn validate(&self) -> Result<(), InvalidEvent> {
        for (field, value) in [
            ("scan_id", &self.scan_id),
            ("tracking_number", &self.tracking_number),
            ("carrier", &self.carrier),
            ("raw_status", &self.raw_status),
        ] {
            if value.trim().is_empty() {
                return Err(InvalidEvent::field(field, "is empty"));
            }
        }
        Ok(())
    }
}

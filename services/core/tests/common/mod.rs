//! Builders for tests that decide straight on the tracker.

use chrono::{Duration, TimeZone};
use wismo_core::model::*;
use wismo_core::tracker::{TrackerConfig, TrackerInput};

/// Minutes after a fixed Monday morning, 2026-03-02 09:00 UTC.
pub fn t(minutes: i64) -> Timestamp {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

pub fn origin() -> Origin {
    Origin {
        topic: "test".into(),
        partition: 0,
        offset: 0,
    }
}

/// Placed by a customer in America/Chicago, promised for Friday 2026-03-06, with
/// consent for transactional and marketing email.
pub fn placed(order: &str, at: i64) -> TrackerInput {
    TrackerInput::Order(OrderEvent {
        event_id: format!("{order}-placed"),
        order_id: order.into(),
        occurred_at: t(at),
        placed: Some(OrderPlaced {
            customer: Customer {
                customer_id: format!("cust-{order}"),
                locale: "en-US".into(),
                timezone: "America/Chicago".into(),
                channels: vec![ContactChannel {
                    kind: ChannelKind::Email,
                    transactional_consent: true,
                    marketing_consent: true,
                }],
            },
            items: vec![Item {
                sku: "sku-1".into(),
                category: "apparel".into(),
                quantity: 1,
            }],
            promised_delivery_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 6),
            destination_country: Some("US".into()),
        }),
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    })
}

pub fn shipment(
    order: &str,
    shipment_id: &str,
    tracking: &str,
    carrier: &str,
    at: i64,
) -> TrackerInput {
    TrackerInput::Order(OrderEvent {
        event_id: format!("{order}-{shipment_id}-created"),
        order_id: order.into(),
        occurred_at: t(at),
        placed: None,
        shipment_created: Some(ShipmentCreated {
            shipment_id: shipment_id.into(),
            tracking_number: tracking.into(),
            carrier: carrier.into(),
            service_level: Some("ground".into()),
            origin_country: Some("US".into()),
            skus: vec!["sku-1".into()],
        }),
        cancelled: None,
        return_requested: None,
    })
}

/// A scan as the matcher routes it to its order.
pub fn scan(id: &str, tracking: &str, carrier: &str, code: &str, at: i64) -> TrackerInput {
    TrackerInput::Scan {
        scan: CarrierScan {
            scan_id: id.into(),
            tracking_number: tracking.into(),
            carrier: carrier.into(),
            raw_status: code.into(),
            raw_status_detail: None,
            description: None,
            occurred_at: t(at),
            location: None,
            carrier_edd: None,
            order_id: None,
        },
        origin: origin(),
    }
}

pub fn tracker_config() -> TrackerConfig {
    TrackerConfig {
        coalesce_window: Duration::seconds(30),
        ..TrackerConfig::default()
    }
}

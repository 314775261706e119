//! Realistic records for every subject, and helpers shared by the tests.

use chrono::{NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;
use std::path::PathBuf;
use wismo_codec::DeadLetter;
use wismo_core::delay::Severity;
pub use wismo_core::dispatch::RecipientHold;
use wismo_core::dispatch::SentCommand;
pub use wismo_core::matcher::TrackingState;
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, DelayApologyCommand, DelayReason, Item,
    Milestone, NotificationCommand, OrderCancelled, OrderEvent, OrderPlaced, ReturnRequested,
    ReviewBasis, ReviewRequestCommand, ScanLocation, ShipmentCreated, Timestamp,
};
pub use wismo_core::model::{RoutedScan, ShipmentRegistered};
use wismo_core::status::{Status, SubStatus};
pub use wismo_core::tracker::OrderState;
use wismo_core::tracker::{PendingMilestone, StatusStep};

pub fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// A timestamp with a non-zero millisecond part, so truncation to seconds would show.
pub fn ts(ms: i64) -> Timestamp {
    Utc.timestamp_millis_opt(ms)
        .single()
        .expect("valid test timestamp")
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

pub fn order_placed() -> OrderEvent {
    OrderEvent {
        event_id: "evt-1001".into(),
        order_id: "ord-1001".into(),
        occurred_at: ts(1_709_649_000_123),
        placed: Some(OrderPlaced {
            customer: Customer {
                customer_id: "cus-42".into(),
                locale: "en-US".into(),
                timezone: "America/Chicago".into(),
                channels: vec![
                    ContactChannel {
                        kind: ChannelKind::Email,
                        transactional_consent: true,
                        marketing_consent: false,
                    },
                    ContactChannel {
                        kind: ChannelKind::Sms,
                        transactional_consent: true,
                        marketing_consent: true,
                    },
                    ContactChannel {
                        kind: ChannelKind::Push,
                        transactional_consent: false,
                        marketing_consent: false,
                    },
                ],
            },
            items: vec![
                Item {
                    sku: "SKU-RUN-42".into(),
                    category: "shoes".into(),
                    quantity: 1,
                },
                Item {
                    sku: "SKU-SOCK-3".into(),
                    category: "socks".into(),
                    quantity: 3,
                },
            ],
            promised_delivery_date: Some(date(2024, 3, 8)),
            destination_country: Some("US".into()),
        }),
        shipment_created: None,
        cancelled: None,
        return_requested: None,
    }
}

pub fn shipment_created() -> OrderEvent {
    OrderEvent {
        event_id: "evt-1002".into(),
        order_id: "ord-1001".into(),
        occurred_at: ts(1_709_735_400_456),
        placed: None,
        shipment_created: Some(ShipmentCreated {
            shipment_id: "shp-1".into(),
            tracking_number: "1Z999AA10123456784".into(),
            carrier: "ups".into(),
            service_level: Some("ground".into()),
            origin_country: None,
            skus: vec!["SKU-RUN-42".into(), "SKU-SOCK-3".into()],
        }),
        cancelled: None,
        return_requested: None,
    }
}

pub fn cancelled() -> OrderEvent {
    OrderEvent {
        event_id: "evt-1003".into(),
        order_id: "ord-1002".into(),
        occurred_at: ts(1_709_650_000_000),
        placed: None,
        shipment_created: None,
        cancelled: Some(OrderCancelled {
            reason: Some("customer request".into()),
        }),
        return_requested: None,
    }
}

pub fn return_requested() -> OrderEvent {
    OrderEvent {
        event_id: "evt-1004".into(),
        order_id: "ord-1001".into(),
        occurred_at: ts(1_710_000_000_999),
        placed: None,
        shipment_created: None,
        cancelled: None,
        return_requested: Some(ReturnRequested {
            reason: None,
            skus: vec!["SKU-SOCK-3".into()],
        }),
    }
}

pub fn order_events() -> Vec<OrderEvent> {
    vec![
        order_placed(),
        shipment_created(),
        cancelled(),
        return_requested(),
    ]
}

pub fn scan_full() -> CarrierScan {
    CarrierScan {
        scan_id: "ep-trk-evt-778".into(),
        tracking_number: "1Z999AA10123456784".into(),
        carrier: "easypost".into(),
        raw_status: "out_for_delivery".into(),
        raw_status_detail: Some("arrived_at_destination".into()),
        description: Some("Out for delivery — Chicago, IL".into()),
        occurred_at: ts(1_709_896_200_789),
        location: Some(ScanLocation {
            city: Some("Chicago".into()),
            postal_code: Some("60601".into()),
            country: Some("US".into()),
        }),
        carrier_edd: Some(date(2024, 3, 8)),
        order_id: Some("ord-1001".into()),
    }
}

pub fn scan_minimal() -> CarrierScan {
    CarrierScan {
        scan_id: "ups-0001".into(),
        tracking_number: "1Z999AA10123456784".into(),
        carrier: "ups".into(),
        raw_status: "M".into(),
        raw_status_detail: None,
        description: None,
        occurred_at: ts(1_709_740_000_001),
        location: None,
        carrier_edd: None,
        order_id: None,
    }
}

pub fn command() -> NotificationCommand {
    NotificationCommand {
        command_id: "cmd-ord-1001-out_for_delivery-sms".into(),
        order_id: "ord-1001".into(),
        customer_id: "cus-42".into(),
        shipment_id: Some("shp-1".into()),
        tracking_number: Some("1Z999AA10123456784".into()),
        milestone: Milestone::OutForDelivery,
        channel: ChannelKind::Sms,
        template_key: "out_for_delivery.sms".into(),
        locale: "en-US".into(),
        send_at: ts(1_709_899_200_000),
        decided_at: ts(1_709_896_201_002),
        variables: BTreeMap::from([
            ("carrier".to_string(), "UPS".to_string()),
            ("edd".to_string(), "2024-03-08".to_string()),
            (
                "tracking_url".to_string(),
                "https://track.example/1Z999AA10123456784".to_string(),
            ),
        ]),
        recipient_timezone: Some("America/New_York".into()),
        recipient_country: Some("US".into()),
    }
}

pub fn command_minimal() -> NotificationCommand {
    NotificationCommand {
        shipment_id: None,
        tracking_number: None,
        milestone: Milestone::OrderConfirmed,
        channel: ChannelKind::Email,
        variables: BTreeMap::new(),
        recipient_timezone: None,
        recipient_country: None,
        ..command()
    }
}

pub fn dead_letter() -> DeadLetter {
    DeadLetter {
        reason: "bad magic byte 0x7b; Confluent-framed records start with 0x00".into(),
        error_kind: wismo_codec::dead_letter_kind::DECODE.into(),
        source_topic: "carrier-scans".into(),
        source_partition: 7,
        source_offset: 9_876_543_210,
        original_key: Some(b"1Z999AA10123456784".to_vec()),
        // Not UTF-8 on purpose: bytes must survive verbatim.
        original_value: Some(vec![0x7b, 0x00, 0xff, 0xfe, 0x80, 0x0a]),
        original_size: None,
        original_sha256: None,
        service: "scan-matcher".into(),
        failed_at: ts(1_709_896_201_333),
    }
}

pub fn dead_letter_tombstone() -> DeadLetter {
    DeadLetter {
        original_key: Some(Vec::new()),
        original_value: None,
        error_kind: wismo_codec::dead_letter_kind::INVALID.into(),
        ..dead_letter()
    }
}

pub fn shipment_registered() -> ShipmentRegistered {
    ShipmentRegistered {
        tracking_number: "1Z999AA10123456784".into(),
        carrier: "ups".into(),
        order_id: "ord-1001".into(),
        shipment_id: "shp-1".into(),
    }
}

pub fn routed_scan() -> RoutedScan {
    RoutedScan {
        order_id: "ord-1001".into(),
        scan: scan_full(),
    }
}

pub fn delay_apology() -> DelayApologyCommand {
    DelayApologyCommand {
        command_id: "9f2c0d4b7a1e4c3d8b6a5f4e3d2c1b0a".into(),
        order_id: "ord-1001".into(),
        customer_id: "cust-77".into(),
        incident_id: "ord-1001:delay-1".into(),
        reason: DelayReason::Late,
        stage: 2,
        severity: Severity::Moderate,
        days_late: Some(3),
        silent_hours: None,
        promised_delivery_date: NaiveDate::from_ymd_opt(2026, 3, 6),
        new_estimated_delivery_date: NaiveDate::from_ymd_opt(2026, 3, 10),
        compensation: Some("free_shipping_next_order".into()),
        tracking_numbers: vec!["1Z999AA10123456784".into()],
        channel: ChannelKind::Email,
        template_key: "delay_apology.late".into(),
        locale: "en-US".into(),
        send_at: Utc.with_ymd_and_hms(2026, 3, 7, 6, 0, 1).unwrap(),
        decided_at: Utc.with_ymd_and_hms(2026, 3, 7, 6, 0, 1).unwrap(),
        detectable_at: Utc.with_ymd_and_hms(2026, 3, 7, 6, 0, 0).unwrap(),
        recipient_timezone: Some("America/Chicago".into()),
        recipient_country: Some("US".into()),
    }
}

pub fn review_request() -> ReviewRequestCommand {
    ReviewRequestCommand {
        command_id: "0a1b2c3d4e5f60718293a4b5c6d7e8f9".into(),
        order_id: "ord-1001".into(),
        customer_id: "cust-77".into(),
        basis: ReviewBasis::Delivered,
        delivered_at: Some(Utc.with_ymd_and_hms(2026, 3, 5, 17, 30, 0).unwrap()),
        skus: vec!["sku-tee".into()],
        categories: vec!["apparel".into()],
        channel: ChannelKind::Email,
        template_key: "review_request".into(),
        locale: "en-US".into(),
        send_at: Utc.with_ymd_and_hms(2026, 3, 12, 13, 0, 0).unwrap(),
        decided_at: Utc.with_ymd_and_hms(2026, 3, 12, 13, 0, 0).unwrap(),
        recipient_timezone: None,
        recipient_country: None,
    }
}

/// States as the services wrote them to their changelogs in JSON (formats 1 and
/// 2), the changelog fuzz target's seeds named `<prefix>*`.
pub fn changelog_states<T: serde::de::DeserializeOwned>(prefix: &str) -> Vec<T> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/changelog");
    let mut states = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fuzz/corpus/changelog exists")
        .map(|e| e.expect("readable").path())
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let bytes = std::fs::read(&path).expect("readable seed");
        let json = match bytes.first() {
            Some(1) => &bytes[1..],
            Some(2) => {
                let marks = usize::from(u16::from_le_bytes([bytes[1], bytes[2]]));
                &bytes[3 + 13 * marks..]
            }
            _ => continue,
        };
        if name.starts_with(prefix) {
            states.push(serde_json::from_slice(json).expect("a JSON state"));
        }
    }
    assert!(!states.is_empty(), "no JSON seed named {prefix}*");
    states
}

pub fn order_states() -> Vec<OrderState> {
    let mut states: Vec<OrderState> = changelog_states("order_state");
    // One with what the seeds lack: a scan held for its shipment, a milestone
    // waiting out its window.
    let held = tracking_states()
        .into_iter()
        .flat_map(|t| t.held)
        .collect::<Vec<_>>();
    let mut fuller = states[0].clone();
    fuller.held_scans = held;
    if let Some(shipment) = fuller.shipments.values_mut().next() {
        shipment.pending = Some(PendingMilestone {
            milestone: Milestone::Delivered,
            due: ts(1_772_614_800_123),
            notice: Some("returning_to_sender".into()),
        });
        shipment.notices_sent.insert("returning_to_sender".into());
        shipment.return_started_at = Some(ts(1_772_614_000_000));
        // Its timeline: a mapped step, and an unmapped code from a hand-off carrier.
        shipment.timeline = vec![
            StatusStep {
                occurred_at: ts(1_772_613_000_000),
                status: Status::InTransit,
                sub_status: SubStatus::Generic,
                raw_status: "DP".into(),
                mapped: true,
                carrier: None,
            },
            StatusStep {
                occurred_at: ts(1_772_613_500_000),
                status: Status::Unknown,
                sub_status: SubStatus::Unmapped,
                raw_status: "ZQ".into(),
                mapped: false,
                carrier: Some("usps".into()),
            },
        ];
    }
    states.push(fuller);
    states
}

pub fn tracking_states() -> Vec<TrackingState> {
    changelog_states("tracking_state")
}

pub fn recipient_holds() -> Vec<RecipientHold> {
    let mut holds: Vec<RecipientHold> = changelog_states("recipient_hold");
    // One with what the seeds lack: notes, a cap in use, commands it counts.
    let mut fuller = holds[0].clone();
    fuller.recent = order_states()
        .into_iter()
        .flat_map(|s| s.held_back_decisions())
        .collect();
    fuller.cap = Some(1_772_614_800_123_456_789);
    fuller.sent = vec![SentCommand {
        command_id: "b843c2c8531d2150eed613953f909529".into(),
        until: ts(1_772_701_200_000),
    }];
    holds.push(fuller);
    holds
}

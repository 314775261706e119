//! Input records for tests, in the event-file shape `wismoctl publish` takes.

use crate::{unique_name, Stage};
use anyhow::Context;
use serde_json::{json, Value};

/// An order placed by `customer` in `timezone`, who allows email (transactional and
/// marketing); promised `promised_days_from_now` days after `at`'s UTC date, if given.
pub fn order(
    id: &str,
    customer: &str,
    timezone: &str,
    promised_days_from_now: Option<i64>,
    at: i64,
) -> Value {
    let promised = promised_days_from_now.map(|d| at.div_euclid(86_400_000) + d);
    json!({"topic": "orders", "key": id, "timestamp": at, "value": {
        "event_id": format!("{id}-placed"), "order_id": id, "occurred_at": at,
        "placed": {"customer": {"customer_id": customer, "locale": "en-US", "timezone": timezone,
                   "channels": [{"kind": "EMAIL", "transactional_consent": true, "marketing_consent": true}]},
                   "items": [{"sku": "sku-1", "category": "home", "quantity": 1}],
                   "promised_delivery_date": promised, "destination_country": "US"},
        "shipment_created": null, "cancelled": null, "return_requested": null}})
}

/// A shipment `<id>-s1` with tracking number `TRK-<id>` on the generic carrier.
pub fn shipment(id: &str, at: i64) -> Value {
    json!({"topic": "orders", "key": id, "timestamp": at, "value": {
        "event_id": format!("{id}-s1"), "order_id": id, "occurred_at": at, "placed": null,
        "shipment_created": {"shipment_id": format!("{id}-s1"), "tracking_number": format!("TRK-{id}"), "carrier": "generic",
                             "service_level": null, "origin_country": "US", "skus": ["sku-1"]},
        "cancelled": null, "return_requested": null}})
}

/// Scan number `n` of that shipment with a generic-table code.
pub fn scan(id: &str, n: u32, code: &str, at: i64) -> Value {
    let tracking = format!("TRK-{id}");
    json!({"topic": "carrier-scans", "key": tracking, "timestamp": at, "value": {
        "scan_id": format!("{id}-scan-{n}"), "tracking_number": tracking, "carrier": "generic", "raw_status": code,
        "raw_status_detail": null, "description": null, "occurred_at": at, "location": null, "carrier_edd": null, "order_id": null}})
}

/// Orders `<prefix>-1` to `<prefix>-n` in New York, each with one shipment and its
/// label scan, all at `at`.
pub fn labelled_orders(prefix: &str, n: usize, at: i64) -> Vec<Value> {
    let mut lines = Vec::new();
    for i in 1..=n {
        let id = format!("{prefix}-{i}");
        lines.push(order(&id, &format!("c-{id}"), "America/New_York", None, at));
        lines.push(shipment(&id, at));
        lines.push(scan(&id, 1, "label_created", at));
    }
    lines
}

/// Publishes the lines at once (one wave per timestamp, no gap) on `stage`.
pub fn publish(stage: &Stage, lines: &[Value]) -> anyhow::Result<()> {
    let path = std::env::temp_dir().join(unique_name("wismo-events") + ".jsonl");
    std::fs::write(
        &path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )?;
    stage.wismoctl(&[
        "publish",
        path.to_str().context("path")?,
        "--wave-gap",
        "0s",
    ])?;
    Ok(())
}

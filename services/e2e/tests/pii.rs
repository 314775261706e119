//! No customer data in logs, none in lookups. Orders and scans carry a name, an
//! email address and a phone number in every free-text field the input schemas
//! have (a scan's description, city and postal code, a cancellation's and a
//! return's reason), and another set in the product and service fields (sku,
//! category, service level). They take every path that logs: notifications, a
//! review request, an unmapped carrier code, scans held by the matcher and by the
//! tracker, an unmatched scan, undecodable and invalid records, a cancellation, a
//! return, a clean restart with a restore. No log line of any service, at debug
//! level, holds any of those strings; and the lookups of the orders and parcels
//! involved show no free-text field.

mod common;

use common::{now_ms, policy_file};
use serde_json::{json, Value};
use std::time::Duration;
use wismo_e2e::events::{order, publish, shipment};
use wismo_e2e::{http_get, produce, wait_until, Service, Stage};

/// What a 3PL or a shop might type into free text.
const NAME: &str = "Janet Piiwhistle";
const EMAIL: &str = "janet.piiwhistle@example.com";
const PHONE: &str = "+1 555 0100 4242";
/// What might end up in product and service fields.
const NAME_2: &str = "Oskar Piivonen";
const EMAIL_2: &str = "oskar.piivonen@example.org";
const PHONE_2: &str = "+44 7700 900123";

/// Never quiet, reviews due in seconds.
const POLICY: &str = r#"
[notifications]
quiet_hours = { start = "00:00", end = "00:00" }

[reviews]
default_delay = "3s"
late_extra = "2s"
fallback_after_fulfilled = "1h"
"#;

fn free_text() -> String {
    format!("Left with {NAME} by the back door; call {PHONE} or write to {EMAIL}")
}

/// Everything that must never be logged, in forms a log might shorten it to.
fn needles() -> Vec<String> {
    let mut n: Vec<String> = [NAME, EMAIL, PHONE, NAME_2, EMAIL_2, PHONE_2]
        .iter()
        .map(|s| s.to_string())
        .collect();
    n.extend(["piiwhistle", "piivonen", "555 0100", "7700 900"].map(String::from));
    n
}

fn contains_any(text: &str, needles: &[&str]) -> Option<String> {
    let lower = text.to_lowercase();
    needles
        .iter()
        .find(|n| lower.contains(&n.to_lowercase()))
        .map(|n| n.to_string())
}

/// A scan with personal data in its description and location.
fn scan(tracking: &str, scan_id: &str, code: &str, order_id: Option<&str>, at: i64) -> Value {
    json!({"topic": "carrier-scans", "key": tracking, "timestamp": at, "value": {
        "scan_id": scan_id, "tracking_number": tracking, "carrier": "generic", "raw_status": code,
        "raw_status_detail": null, "description": free_text(), "occurred_at": at,
        "location": {"city": format!("{NAME}'s house, {PHONE}"), "postal_code": EMAIL, "country": "US"},
        "carrier_edd": null, "order_id": order_id}})
}

/// An order whose items and shipment carry the second set in their product fields.
fn product_order(id: &str, at: i64) -> [Value; 2] {
    let mut placed = order(id, &format!("c-{id}"), "UTC", Some(3), at);
    placed["value"]["placed"]["items"] = json!([
        {"sku": EMAIL_2, "category": NAME_2, "quantity": 1},
        {"sku": "sku-1", "category": "home", "quantity": 2},
    ]);
    let mut ship = shipment(id, at);
    ship["value"]["shipment_created"]["service_level"] = json!(PHONE_2);
    ship["value"]["shipment_created"]["skus"] = json!([EMAIL_2, "sku-1"]);
    [placed, ship]
}

fn order_event(id: &str, at: i64, kind: &str, payload: Value) -> Value {
    let mut v = json!({"event_id": format!("{id}-{kind}"), "order_id": id, "occurred_at": at,
        "placed": null, "shipment_created": null, "cancelled": null, "return_requested": null});
    v[kind] = payload;
    json!({"topic": "orders", "key": id, "timestamp": at, "value": v})
}

fn inputs(t: i64) -> Vec<Value> {
    let mut lines = Vec::new();
    // Delivered: notifications, then a review request.
    lines.extend(product_order("pii-a", t));
    for (n, code) in [(1, "picked_up"), (2, "out_for_delivery"), (3, "delivered")] {
        lines.push(scan(
            "TRK-pii-a",
            &format!("pii-a-{n}"),
            code,
            None,
            t + n * 200,
        ));
    }
    // A code no table maps.
    lines.push(scan(
        "TRK-pii-a",
        "pii-a-x",
        "zz_no_such_code",
        None,
        t + 700,
    ));
    // Named its order before the shipment exists: the tracker holds it.
    lines.push(order("pii-h", "c-pii-h", "UTC", None, t));
    lines.push(scan(
        "TRK-pii-h",
        "pii-h-1",
        "picked_up",
        Some("pii-h"),
        t + 100,
    ));
    // A tracking number no shipment ever has: held by the matcher, then unmatched.
    lines.push(scan("TRK-pii-u", "pii-u-1", "picked_up", None, t + 100));
    // Invalid: no status code; keyed by something else than its tracking number.
    lines.push(scan("TRK-pii-a", "pii-bad-1", " ", None, t + 800));
    let mut wrong_key = scan("TRK-pii-a", "pii-bad-2", "in_transit", None, t + 800);
    wrong_key["key"] = json!("not-the-tracking-number");
    lines.push(wrong_key);
    // Cancelled and returned, each with a reason in the customer's words.
    lines.extend(product_order("pii-c", t));
    lines.push(order_event(
        "pii-c",
        t + 300,
        "cancelled",
        json!({"reason": free_text()}),
    ));
    lines.extend(product_order("pii-r", t));
    lines.push(scan("TRK-pii-r", "pii-r-1", "delivered", None, t + 200));
    lines.push(order_event(
        "pii-r",
        t + 900,
        "return_requested",
        json!({"reason": free_text(), "skus": [EMAIL_2]}),
    ));
    lines
}

/// A lookup's body, once it answers 200 with `expected` in it.
fn lookup(svc: &Service, path: &str, expected: &str) -> anyhow::Result<String> {
    wait_until(
        &format!("{path} to show {expected}"),
        Duration::from_secs(30),
        || {
            Ok(http_get(svc.http, path)
                .and_then(|(s, b)| (s == 200 && b.contains(expected)).then_some(b)))
        },
    )
}

#[test]
fn no_customer_data_in_any_log_line_or_lookup() -> anyhow::Result<()> {
    let stage = Stage::new(2)?;
    let policy = policy_file(POLICY)?;
    let env = [
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_COALESCE_WINDOW", "1s"),
        ("WISMO_MATCHER_HOLD_WINDOW", "10s"),
        ("RUST_LOG", "debug"),
    ];
    let matcher = stage.start("scan-matcher", &env)?;
    let dispatcher = stage.start("dispatcher", &env)?;
    let mut tracker = stage.start("order-tracker", &env)?;

    let t = now_ms();
    publish(&stage, &inputs(t))?;
    let garbage = format!("{{\"description\": \"{}\"}}", free_text());
    produce(
        &stage.bootstrap,
        &stage.topic("carrier-scans"),
        "TRK-pii-a",
        garbage,
    )?;

    // Held scans are in the lookups while they wait, without their free text.
    let free = [NAME, EMAIL, PHONE];
    let held_by_matcher = lookup(&matcher, "/tracking/TRK-pii-u", "pii-u-1")?;
    let held_by_tracker = lookup(&tracker, "/orders/pii-h", "pii-h-1")?;
    for body in [&held_by_matcher, &held_by_tracker] {
        assert_eq!(
            contains_any(body, &free),
            None,
            "lookup shows free text: {body}"
        );
    }

    // Every path has run: the review request, and four dead letters (one
    // undecodable, two invalid, the unmatched scan after its hold window).
    wait_until("the review request", Duration::from_secs(60), || {
        let reviews = stage.read("review-request-commands", 0)?;
        Ok(reviews
            .iter()
            .any(|r| r["order_id"] == "pii-a")
            .then_some(()))
    })?;
    let dead = wait_until("four dead letters", Duration::from_secs(60), || {
        let dead = stage.read("dead-letter", 0)?;
        Ok((dead.len() >= 4).then_some(dead))
    })?;
    let kinds: Vec<&str> = dead
        .iter()
        .filter_map(|d| d["error_kind"].as_str())
        .collect();
    for kind in ["decode", "invalid", "unmatched"] {
        assert!(kinds.contains(&kind), "dead letters: {kinds:?}");
    }

    // A clean restart restores every order from the changelog.
    assert!(tracker.process.terminate()?.success());
    let first_tracker = std::mem::replace(&mut tracker, stage.start("order-tracker", &env)?);
    for id in ["pii-a", "pii-c", "pii-r", "pii-h"] {
        let body = lookup(
            &tracker,
            &format!("/orders/{id}"),
            &format!("\"order_id\":\"{id}\""),
        )?;
        assert_eq!(
            contains_any(&body, &free),
            None,
            "/orders/{id} shows free text: {body}"
        );
    }

    let needles = needles();
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
    let processes = [
        &matcher.process,
        &dispatcher.process,
        &first_tracker.process,
        &tracker.process,
    ];
    let mut lines = 0;
    for p in processes {
        let logs = p.logs();
        lines += logs.lines().count();
        for line in logs.lines() {
            if let Some(n) = contains_any(line, &needles) {
                panic!("{} logged {n:?}: {line}", p.name());
            }
        }
    }
    // The logs are there to be searched: the paths above did log.
    let all: String = processes.iter().map(|p| p.logs()).collect();
    for expected in [
        "notification decided",
        "review request decided",
        "carrier status code has no mapping",
        "record rejected to dead-letter",
        "scan never matched",
        "state restored",
    ] {
        assert!(all.contains(expected), "no {expected:?} in the logs");
    }
    eprintln!("searched {lines} log lines of 4 service runs");
    Ok(())
}

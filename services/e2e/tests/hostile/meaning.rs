//! Meaning comes only from records that may have it: a tracking number registered
//! to one order cannot be taken by another, a scan cannot name another order, and
//! a scan dated years ahead cannot freeze its shipment.

use crate::support::{assert_bounded, letter, Pipeline};
use chrono::{Duration, Utc};
use wismo_e2e::hostile::{order_bytes, placed, scan, scan_bytes, shipment, Rec};

#[test]
fn a_conflicting_registration_is_dead_lettered_and_the_rightful_order_notified(
) -> anyhow::Result<()> {
    let mut p = Pipeline::start(&[], &[])?;
    let (orders, scans) = (p.topic("orders"), p.topic("carrier-scans"));
    let now = Utc::now();
    let shared = "TRK-shared";
    p.send(&[
        Rec::new(&orders, "own-a", order_bytes(&placed("own-a", now))?),
        Rec::new(
            &orders,
            "own-a",
            order_bytes(&shipment("own-a", shared, now))?,
        ),
    ])?;
    p.wait_registered(shared)?;
    // Another order claims the number; then a scan names that other order.
    let later = now + Duration::seconds(1);
    let mut claims = scan(shared, "claim-1", "picked_up", later);
    claims.order_id = Some("own-b".into());
    p.send(&[
        Rec::new(&orders, "own-b", order_bytes(&placed("own-b", later))?),
        Rec::new(
            &orders,
            "own-b",
            order_bytes(&shipment("own-b", shared, later))?,
        ),
    ])?;
    let dead = p.dead_letters(1)?;
    p.send(&[Rec::new(&scans, shared, scan_bytes(&claims)?)])?;
    let dead2 = p.dead_letters(2)?;
    let real = scan(shared, "real-1", "picked_up", later + Duration::seconds(1));
    p.send(&[Rec::new(&scans, shared, scan_bytes(&real)?)])?;

    let told = p.wait_notified("SHIPPED", &["own-a"])?;
    assert!(
        !told
            .iter()
            .any(|c| c["order_id"] == "own-b" && c["milestone"] == "SHIPPED"),
        "{told:#?}"
    );
    let conflict = letter(&dead, shared);
    assert_eq!(conflict["error_kind"], "invalid");
    assert_eq!(
        conflict["source_topic"],
        p.topic("wismo-scan-matcher-shipments").as_str()
    );
    let reason = conflict["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("already belongs to order `own-a`") && reason.contains("`own-b`"),
        "{reason}"
    );
    let mismatch = dead2
        .iter()
        .find(|d| d["source_topic"] == scans.as_str())
        .expect("the scan naming another order");
    assert!(
        mismatch["reason"]
            .as_str()
            .is_some_and(|r| r.contains("names order `own-b`")),
        "{mismatch:#}"
    );
    assert_bounded(&dead2, &[]);
    assert_eq!(dead2.len(), 2, "{}", crate::support::summary(&dead2));
    assert_eq!(
        p.metric("scan-matcher", "wismo_registration_conflicts_total"),
        1.0
    );
    assert_eq!(
        p.metric("scan-matcher", "wismo_scan_order_mismatches_total"),
        1.0
    );
    let a = p.order("own-a").expect("own-a");
    assert_eq!(a["shipments"][shared]["last_scan"]["scan_id"], "real-1");
    p.assert_all_running();
    Ok(())
}

#[test]
fn a_far_future_scan_cannot_freeze_its_shipment() -> anyhow::Result<()> {
    let mut p = Pipeline::start(&[], &[])?;
    let (orders, scans) = (p.topic("orders"), p.topic("carrier-scans"));
    let now = Utc::now();
    let tracking = "TRK-future";
    p.send(&[
        Rec::new(&orders, "future", order_bytes(&placed("future", now))?),
        Rec::new(
            &orders,
            "future",
            order_bytes(&shipment("future", tracking, now))?,
        ),
    ])?;
    p.wait_registered(tracking)?;
    // Years ahead: refused, or it would rank as the parcel's latest scan until
    // then. A scan dated ahead within the tolerance holds it at most that long.
    let years = scan(tracking, "years", "in_transit", now + Duration::days(3650));
    let delivered = scan(
        tracking,
        "delivered",
        "delivered",
        now + Duration::seconds(5),
    );
    p.send(&[
        Rec::new(&scans, tracking, scan_bytes(&years)?),
        Rec::new(&scans, tracking, scan_bytes(&delivered)?),
    ])?;
    p.wait_notified("DELIVERED", &["future"])?;
    let dead = p.dead_letters(1)?;
    assert_eq!(dead.len(), 1, "{}", crate::support::summary(&dead));
    assert_eq!(dead[0]["error_kind"], "invalid");
    assert!(
        dead[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("WISMO_LIMIT_SCAN_FUTURE")),
        "{:#}",
        dead[0]
    );
    assert_bounded(&dead, &[]);
    let state = p.order("future").expect("the order");
    assert!(
        state["shipments"][tracking]["delivered_at"].is_number(),
        "{state:#}"
    );
    p.assert_all_running();
    Ok(())
}

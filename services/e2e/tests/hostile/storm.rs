//! A storm of distinct scans for one parcel cannot grow its order's state: the
//! tracker remembers the most recent scan ids only, so the state and its changelog
//! record stay small, and the parcel's next milestone still goes out.

use crate::support::Pipeline;
use chrono::{Duration, Utc};
use std::time::Duration as Wait;
use wismo_e2e::hostile::{order_bytes, placed, scan, scan_bytes, shipment, Rec};
use wismo_e2e::{consume_records, wait_until};

const STORM: usize = 50_001;
/// `WISMO_TRACKER_SEEN_SCANS`' default.
const SEEN: usize = 256;
/// The broker's default `message.max.bytes`.
const BROKER_MAX: usize = 1_048_588;

#[test]
fn fifty_thousand_distinct_scans_for_one_order_leave_its_state_bounded() -> anyhow::Result<()> {
    let mut p = Pipeline::start(&[], &[])?;
    let (orders, scans) = (p.topic("orders"), p.topic("carrier-scans"));
    let now = Utc::now();
    let tracking = "TRK-storm";
    p.send(&[
        Rec::new(&orders, "storm", order_bytes(&placed("storm", now))?),
        Rec::new(
            &orders,
            "storm",
            order_bytes(&shipment("storm", tracking, now))?,
        ),
    ])?;
    // Registered first, so that no scan waits in a hold.
    p.wait_registered(tracking)?;
    p.wait_orders(&["storm"])?;

    let start = now - Duration::seconds(120);
    let storm: Vec<Rec> = (0..STORM)
        .map(|n| {
            let at = start + Duration::milliseconds(n as i64);
            let s = scan(tracking, &format!("storm-{n}"), "in_transit", at);
            Ok(Rec::new(&scans, tracking, scan_bytes(&s)?))
        })
        .collect::<anyhow::Result<_>>()?;
    p.send(&storm)?;
    let delivered = scan(tracking, "storm-delivered", "delivered", Utc::now());
    p.send(&[Rec::new(&scans, tracking, scan_bytes(&delivered)?)])?;
    p.wait_notified("DELIVERED", &["storm"])?;

    let state = p.order("storm").expect("the order");
    let seen = state["shipments"][tracking]["seen_scan_ids"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(seen, SEEN, "{state:#}");
    let dropped = p.metric("order-tracker", "wismo_seen_scan_ids_dropped_total");
    assert!(dropped >= (STORM + 1 - SEEN) as f64, "dropped {dropped}");

    // Every state the order ever had on its changelog stayed far below the
    // broker's limit.
    let changelog = p.topic("wismo-order-tracker-changelog");
    let written = wait_until("the changelog", Wait::from_secs(60), || {
        let r = consume_records(&p.stage.bootstrap, &changelog, 1, Wait::from_secs(30))?;
        Ok(Some(r).filter(|r| !r.is_empty()))
    })?;
    let largest = written
        .iter()
        .filter(|r| r.key.as_deref() == Some(b"storm".as_slice()))
        .filter_map(|r| r.payload.as_ref().map(Vec::len))
        .max()
        .unwrap_or(0);
    assert!(largest > 0, "no changelog record for the order");
    assert!(
        largest < BROKER_MAX / 20,
        "a changelog record of {largest} bytes"
    );
    eprintln!("storm: {seen} scan ids kept, largest changelog record {largest} bytes");

    // Nothing valid was refused.
    assert!(p.stage.read("dead-letter", 0)?.is_empty());
    p.assert_all_running();
    Ok(())
}

//! An output that cannot be produced never stops a service: one over
//! `WISMO_MAX_OUTPUT_BYTES`, and one the broker refuses (its topic takes smaller
//! records than wismo's limit), each become an `undeliverable` dead letter that
//! keeps the first bytes, the size and a hash, and the next scan is routed.

use crate::support::{assert_bounded, Pipeline};
use chrono::{Duration, Utc};
use wismo_e2e::alter_topic_config;
use wismo_e2e::hostile::{order_bytes, placed, scan, scan_bytes, shipment, Rec};

const MAX_OUTPUT: usize = 40_000;
const KEEP: usize = 1_024;

#[test]
fn outputs_too_large_to_produce_become_undeliverable_dead_letters() -> anyhow::Result<()> {
    let (max_output, keep) = (MAX_OUTPUT.to_string(), KEEP.to_string());
    // Scans may carry long descriptions here, so a routed scan can be large.
    let text = [("WISMO_LIMIT_TEXT_BYTES", "60000")];
    let matcher: &[(&str, &str)] = &[
        ("WISMO_MAX_OUTPUT_BYTES", &max_output),
        ("WISMO_DEAD_LETTER_MAX_ORIGINAL_BYTES", &keep),
    ];
    let mut p = Pipeline::start(&text, &[("scan-matcher", matcher)])?;
    let (orders, scans) = (p.topic("orders"), p.topic("carrier-scans"));
    let routed = p.topic("wismo-scan-matcher-routed-scans");
    alter_topic_config(
        &p.stage.bootstrap,
        &routed,
        &[("max.message.bytes", "20000")],
    )?;
    let now = Utc::now();
    let tracking = "TRK-big";
    p.send(&[
        Rec::new(&orders, "big", order_bytes(&placed("big", now))?),
        Rec::new(
            &orders,
            "big",
            order_bytes(&shipment("big", tracking, now))?,
        ),
    ])?;
    p.wait_registered(tracking)?;

    let mut over_ours = scan(tracking, "over-ours", "in_transit", now);
    over_ours.description = Some("a".repeat(50_000));
    let mut over_broker = scan(tracking, "over-broker", "in_transit", now);
    over_broker.description = Some("b".repeat(30_000));
    p.send(&[
        Rec::new(&scans, tracking, scan_bytes(&over_ours)?),
        Rec::new(&scans, tracking, scan_bytes(&over_broker)?),
    ])?;
    // The broker refuses a whole batch: a record sent with the one it refuses
    // would be refused too, so the next scan goes once both are dead letters.
    p.dead_letters(2)?;
    let next = scan(tracking, "next", "picked_up", now + Duration::seconds(1));
    p.send(&[Rec::new(&scans, tracking, scan_bytes(&next)?)])?;
    p.wait_notified("SHIPPED", &["big"])?;

    let dead = p.stage.read("dead-letter", 0)?;
    assert_eq!(dead.len(), 2, "{}", crate::support::summary(&dead));
    for d in &dead {
        assert_eq!(d["error_kind"], "undeliverable", "{}", d["reason"]);
        assert_eq!(d["service"], "scan-matcher");
        // The first bytes, the whole size and its hash.
        let size = d["original_size"].as_i64().unwrap_or(0);
        assert!(size > 20_000, "{}: size {size}", d["reason"]);
        assert_eq!(d["original_sha256"].as_str().map(str::len), Some(64));
        let kept = d["original_value"].as_str().map_or(0, str::len);
        assert!(kept <= KEEP * 3, "kept {kept} bytes");
    }
    let reasons: Vec<&str> = dead.iter().filter_map(|d| d["reason"].as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&format!("over the limit of {MAX_OUTPUT} bytes"))),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("the broker refused")),
        "{reasons:?}"
    );
    assert_bounded(&dead, &["a".repeat(60).as_str(), "b".repeat(60).as_str()]);
    assert_eq!(
        p.metric(
            "scan-matcher",
            "wismo_dead_letters_total{kind=\"undeliverable\"}"
        ),
        2.0
    );
    let state = p.order("big").expect("the order");
    assert_eq!(state["shipments"][tracking]["last_scan"]["scan_id"], "next");
    p.assert_all_running();
    Ok(())
}

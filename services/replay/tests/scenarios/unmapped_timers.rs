//! Unmapped carrier codes and the stuck timers: an unknown code is no evidence of
//! a pick-up, so it never re-arms "not picked up"; once the carrier has the parcel,
//! any scan of it (mapped or not) is a sign of life for "stuck in transit" and
//! "presumed lost".

use crate::common::*;
use wismo_core::model::DelayReason;

fn order() -> Vec<(i64, Input)> {
    vec![
        (
            0,
            order_to("o1", 0, "America/Chicago", Some(date(2026, 3, 31)), "US"),
        ),
        (0, shipment_from("o1", "s1", "T1", "generic", 0, "US")),
    ]
}

#[test]
fn an_unmapped_code_cannot_hide_a_parcel_that_was_never_collected() {
    // Label on Monday 09:00 UTC (03:00 Chicago); only unknown codes follow. Two
    // business days from the label: Wednesday 03:00 Chicago, in quiet hours, so
    // sent at 08:00 (14:00 UTC).
    let mut inputs = order();
    inputs.push(scan_at(
        "l",
        "T1",
        "generic",
        "label_created",
        utc(2026, 3, 2, 9, 0),
    ));
    inputs.push(scan_at(
        "u1",
        "T1",
        "generic",
        "zz_manifest_update",
        utc(2026, 3, 3, 15, 0),
    ));
    inputs.push(scan_at(
        "u2",
        "T1",
        "generic",
        "zz_manifest_update",
        utc(2026, 3, 4, 8, 0),
    ));
    let out = run_with(tracker_config(), &inputs, utc(2026, 3, 5, 0, 0));
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::NotPickedUp, 1, utc(2026, 3, 4, 14, 0))]
    );
    let unmapped: Vec<_> = timeline(&out)
        .into_iter()
        .filter(|c| !c.mapped)
        .map(|c| c.raw_status)
        .collect();
    assert_eq!(unmapped, ["zz_manifest_update", "zz_manifest_update"]);
}

#[test]
fn once_collected_an_unmapped_scan_is_a_sign_of_life() {
    // In transit Monday 15:00 UTC, then unknown codes on Wednesday and Friday at
    // 09:00 Chicago: stuck three business days after the last of them, Wednesday 11
    // March 09:00 CDT (14:00 UTC), not Thursday 5 March.
    let mut inputs = order();
    inputs.push(scan_at(
        "p",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 2, 15, 0),
    ));
    inputs.push(scan_at(
        "u1",
        "T1",
        "generic",
        "zz_hub_event",
        utc(2026, 3, 4, 15, 0),
    ));
    inputs.push(scan_at(
        "u2",
        "T1",
        "generic",
        "zz_hub_event",
        utc(2026, 3, 6, 15, 0),
    ));
    let out = run_with(tracker_config(), &inputs, utc(2026, 3, 12, 0, 0));
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::StuckInTransit, 1, utc(2026, 3, 11, 14, 0))]
    );
}

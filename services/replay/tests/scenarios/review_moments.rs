//! Reviews wait for a good moment: never while a delay episode or a carrier
//! exception is open, timed from the delivery that resolves the trouble plus an
//! extra wait, cancelled by a lost, returned or refused parcel; one per order.
//! The customer is in America/Chicago; the policy's defaults apply (7 days after
//! delivery, 3 more for an order that had trouble, quiet 21:00-08:00).

use crate::common::*;
use wismo_core::model::ReviewBasis;
use wismo_core::tracker::{HoldReason, Outcome};

fn order(promised: u32) -> Vec<(i64, Input)> {
    vec![
        (
            0,
            order_to(
                "o1",
                0,
                "America/Chicago",
                Some(date(2026, 3, promised)),
                "US",
            ),
        ),
        (1, shipment_from("o1", "s1", "T1", "generic", 1, "US")),
    ]
}

fn review_notes(out: &Run) -> Vec<(Outcome, HoldReason)> {
    held_back(out)
        .into_iter()
        .filter(|(what, _, _)| what == "review_request")
        .map(|(_, o, r)| (o, r))
        .collect()
}

#[test]
fn presumed_lost_gives_no_review_request() {
    // Picked up Monday, then nothing: stuck, then presumed lost. The fallback
    // (21 days after the shipment) comes while the episode is still open.
    let mut inputs = order(5);
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 2, 15, 0),
    ));
    let out = run_with(tracker_config(), &inputs, utc(2026, 4, 20, 0, 0));
    assert!(reviews(&out).is_empty());
    assert_eq!(
        review_notes(&out),
        vec![(Outcome::Held, HoldReason::OpenProblem)]
    );
    assert!(apologies(&out)
        .iter()
        .any(|a| a.reason == wismo_core::model::DelayReason::PresumedLost));
}

#[test]
fn a_late_order_is_asked_from_the_delivery_that_ended_its_trouble_plus_the_extra_wait() {
    // Promised Thursday 5 March, delivered Tuesday 10 March 16:00 CDT: late, one
    // episode, closed by the delivery. 7 days + 3 days of extra wait.
    let mut inputs = order(5);
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 3, 15, 0),
    ));
    inputs.push(scan_at(
        "b",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 6, 15, 0),
    ));
    inputs.push(scan_at(
        "c",
        "T1",
        "generic",
        "delivered",
        utc(2026, 3, 10, 21, 0),
    ));
    let out = run_with(tracker_config(), &inputs, utc(2026, 4, 1, 0, 0));
    assert_eq!(
        apology_summary(&out),
        vec![(
            wismo_core::model::DelayReason::Late,
            1,
            utc(2026, 3, 6, 14, 0)
        )]
    );
    let r = reviews(&out);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].basis, ReviewBasis::Delivered);
    assert_eq!(r[0].delivered_at, Some(utc(2026, 3, 10, 21, 0)));
    assert_eq!(r[0].send_at, utc(2026, 3, 20, 21, 0));
}

#[test]
fn an_open_episode_holds_the_request_until_delivery_resolves_it() {
    // One parcel delivered; the other goes quiet (stuck, then presumed lost) and is
    // still missing when the fallback (21 days after the shipments) comes: the
    // request is held. The parcel turns up and is delivered on 30 March: the request
    // counts from that delivery, with the extra wait for trouble.
    let mut inputs = order(30);
    inputs.push((1, shipment_from("o1", "s2", "T2", "generic", 1, "US")));
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "delivered",
        utc(2026, 3, 3, 15, 0),
    ));
    inputs.push(scan_at(
        "b",
        "T2",
        "generic",
        "in_transit",
        utc(2026, 3, 3, 15, 0),
    ));
    inputs.push(scan_at(
        "c",
        "T2",
        "generic",
        "delivered",
        utc(2026, 3, 30, 15, 0),
    ));
    let out = run_with(tracker_config(), &inputs, utc(2026, 4, 20, 0, 0));
    assert_eq!(
        review_notes(&out),
        vec![(Outcome::Held, HoldReason::OpenProblem)]
    );
    let held_at = notes(&out)
        .into_iter()
        .find_map(|n| (n.what == "review_request").then_some(n.at));
    // 2 March 09:01 UTC + 21 days + 3 days for the trouble is 04:01 in Chicago:
    // moved to the morning, 08:00 CDT.
    assert_eq!(held_at, Some(utc(2026, 3, 26, 13, 0)));
    let r = reviews(&out);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].delivered_at, Some(utc(2026, 3, 30, 15, 0)));
    assert_eq!(r[0].send_at, utc(2026, 4, 9, 15, 0));
}

#[test]
fn a_lost_returned_or_refused_parcel_cancels_the_request() {
    for (code, why) in [
        ("lost", HoldReason::Loss),
        ("refused", HoldReason::Refused),
        ("return_to_sender", HoldReason::Return),
    ] {
        let mut inputs = order(30);
        inputs.push((1, shipment_from("o1", "s2", "T2", "generic", 1, "US")));
        inputs.push(scan_at(
            "a",
            "T1",
            "generic",
            "delivered",
            utc(2026, 3, 3, 15, 0),
        ));
        inputs.push(scan_at("b", "T2", "generic", code, utc(2026, 3, 3, 16, 0)));
        let out = run_with(tracker_config(), &inputs, utc(2026, 5, 1, 0, 0));
        assert!(reviews(&out).is_empty(), "{code}");
        assert_eq!(
            review_notes(&out),
            vec![(Outcome::Cancelled, why)],
            "{code}"
        );
    }
}

#[test]
fn exactly_one_request_per_order_whatever_the_resends() {
    let mut inputs = order(30);
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "delivered",
        utc(2026, 3, 3, 15, 0),
    ));
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "delivered",
        utc(2026, 3, 3, 15, 0),
    ));
    inputs.push((
        at(utc(2026, 3, 12, 0, 0)),
        scan(
            "a",
            "T1",
            "generic",
            "delivered",
            at(utc(2026, 3, 3, 15, 0)),
        ),
    ));
    let out = run_with(tracker_config(), &inputs, utc(2026, 4, 1, 0, 0));
    let r = reviews(&out);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].send_at, utc(2026, 3, 10, 15, 0));
    assert!(apologies(&out).is_empty());
}

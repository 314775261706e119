//! Return to sender reaches the customer: one notice that the parcel is on its way
//! back, one when it is back, with the codes carriers send (their return codes,
//! then ordinary transit scans, then an ordinary "delivered" at the sender), no
//! delay apology on the way back, and no review request.

use crate::common::*;
use proptest::prelude::*;
use std::sync::OnceLock;
use wismo_core::model::{DelayReason, Milestone};
use wismo_core::tracker::{HoldReason, Outcome};

fn order() -> Vec<(i64, Input)> {
    vec![
        (
            0,
            order_to("o1", 0, "America/Chicago", Some(date(2026, 3, 6)), "US"),
        ),
        (1, shipment_from("o1", "s1", "T1", "usps", 1, "US")),
    ]
}

/// `(template, milestone, decided_at)` of each notification.
fn notices(out: &Run) -> Vec<(String, Milestone, wismo_core::model::Timestamp)> {
    notifications(out)
        .into_iter()
        .map(|n| (n.template_key.clone(), n.milestone, n.decided_at))
        .collect()
}

fn returned_usps() -> Vec<(i64, Input)> {
    let mut inputs = order();
    inputs.push(scan_at("a", "T1", "usps", "03", utc(2026, 3, 2, 15, 0)));
    // Undeliverable: USPS returns it (21: no such number), then scans the way
    // back with its usual codes and delivers it to the sender.
    inputs.push(scan_at("b", "T1", "usps", "21", utc(2026, 3, 4, 15, 0)));
    inputs.push(scan_at("c", "T1", "usps", "10", utc(2026, 3, 6, 15, 0)));
    inputs.push(scan_at("d", "T1", "usps", "01", utc(2026, 3, 12, 15, 0)));
    inputs
}

#[test]
fn a_return_to_sender_gives_the_two_notices_and_no_delay_apology() {
    let out = run_with(tracker_config(), &returned_usps(), utc(2026, 4, 30, 0, 0));
    let s = chrono::Duration::seconds(30);
    assert_eq!(
        notices(&out),
        vec![
            (
                "order_confirmed".to_string(),
                Milestone::OrderConfirmed,
                t(0) + s
            ),
            (
                "shipped".to_string(),
                Milestone::Shipped,
                utc(2026, 3, 2, 15, 0) + s
            ),
            (
                "returning_to_sender".to_string(),
                Milestone::ReturnedToSender,
                utc(2026, 3, 4, 15, 0) + s
            ),
            (
                "returned_to_sender".to_string(),
                Milestone::ReturnedToSender,
                utc(2026, 3, 12, 15, 0) + s
            ),
        ]
    );
    // The promise (6 March) passes and the parcel is silent for days on its way
    // back: no apology. The review request is cancelled.
    assert_eq!(apology_summary(&out), vec![]);
    assert!(reviews(&out).is_empty());
    let review: Vec<_> = held_back(&out)
        .into_iter()
        .filter(|(w, _, _)| w == "review_request")
        .collect();
    assert_eq!(
        review,
        vec![(
            "review_request".to_string(),
            Outcome::Cancelled,
            HoldReason::Return
        )]
    );
    let ids: Vec<_> = notifications(&out)
        .iter()
        .map(|n| n.command_id.clone())
        .collect();
    assert_ne!(ids[2], ids[3], "each notice has its own id");
}

#[test]
fn the_way_back_is_read_the_same_in_any_arrival_order() {
    // The 3PL relays the return scans late and backwards in one burst.
    let mut inputs = order();
    inputs.push(scan_at("a", "T1", "usps", "03", utc(2026, 3, 2, 15, 0)));
    let burst = at(utc(2026, 3, 12, 16, 0));
    for (id, code, when) in [
        ("d", "01", utc(2026, 3, 12, 15, 0)),
        ("c", "10", utc(2026, 3, 6, 15, 0)),
        ("b", "21", utc(2026, 3, 4, 15, 0)),
    ] {
        inputs.push((burst, scan(id, "T1", "usps", code, at(when))));
    }
    let mut config = tracker_config();
    config.stale_window = chrono::Duration::days(30);
    let out = run_with(config, &inputs, utc(2026, 4, 30, 0, 0));
    let templates: Vec<String> = notices(&out).into_iter().map(|(t, _, _)| t).collect();
    // The burst collapses to its newest status: back at the sender.
    assert_eq!(
        templates,
        ["order_confirmed", "shipped", "returned_to_sender"]
    );
    // While nothing was relayed, the silence and the missed promise were all the
    // customer could be told; the burst ends that episode.
    assert_eq!(
        apology_summary(&out),
        vec![
            (DelayReason::StuckInTransit, 1, utc(2026, 3, 5, 15, 0)),
            (DelayReason::Late, 2, utc(2026, 3, 7, 14, 0)),
            (DelayReason::PresumedLost, 3, utc(2026, 3, 9, 15, 0)),
        ]
    );
    assert!(!notifications(&out)
        .iter()
        .any(|n| n.milestone == Milestone::Delivered));
}

#[test]
fn generic_codes_return_too() {
    let mut inputs = order();
    inputs[1] = (1, shipment_from("o1", "s1", "T1", "generic", 1, "US"));
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "picked_up",
        utc(2026, 3, 2, 15, 0),
    ));
    inputs.push(scan_at(
        "b",
        "T1",
        "generic",
        "return_to_sender",
        utc(2026, 3, 3, 15, 0),
    ));
    inputs.push(scan_at(
        "c",
        "T1",
        "generic",
        "returned_to_sender",
        utc(2026, 3, 5, 15, 0),
    ));
    let out = run_with(tracker_config(), &inputs, utc(2026, 3, 20, 0, 0));
    let templates: Vec<String> = notices(&out).into_iter().map(|(t, _, _)| t).collect();
    assert_eq!(
        templates,
        [
            "order_confirmed",
            "shipped",
            "returning_to_sender",
            "returned_to_sender"
        ]
    );
    assert_eq!(apology_summary(&out), vec![]);
}

/// The way back relayed late in one burst: its scans in the order given, then
/// the resend, if any.
fn way_back(order_of: &[usize], resend: Option<usize>) -> Run {
    let mut inputs = order();
    inputs.push(scan_at("a", "T1", "usps", "03", utc(2026, 3, 2, 15, 0)));
    let burst = at(utc(2026, 3, 12, 16, 0));
    let scans = way_back_scans();
    for &i in order_of.iter().chain(resend.iter()) {
        let (id, code, when) = scans[i];
        inputs.push((burst, scan(id, "T1", "usps", code, at(when))));
    }
    let mut config = tracker_config();
    config.stale_window = chrono::Duration::days(30);
    run_with(config, &inputs, utc(2026, 4, 30, 0, 0))
}

/// The way back: `(scan id, USPS code, when)`.
fn way_back_scans() -> [(&'static str, &'static str, wismo_core::model::Timestamp); 4] {
    [
        ("b", "21", utc(2026, 3, 4, 15, 0)),
        ("c", "10", utc(2026, 3, 6, 15, 0)),
        ("e", "EF", utc(2026, 3, 9, 15, 0)),
        ("d", "01", utc(2026, 3, 12, 15, 0)),
    ]
}

/// The commands of the way back relayed in event order, once.
fn in_event_order() -> &'static Vec<Out> {
    static OUT: OnceLock<Vec<Out>> = OnceLock::new();
    OUT.get_or_init(|| way_back(&[0, 1, 2, 3], None).out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The way back relayed in any order, in one burst, resends included: the same
    /// notices, the parcel back at the sender, never "delivered"; every command the
    /// same, field for field, as when relayed in event order.
    #[test]
    fn the_way_back_in_any_order_and_resent_gives_the_same_notices(
        order_of in Just((0..4usize).collect::<Vec<_>>()).prop_shuffle(),
        resend in proptest::option::of(0..4usize),
    ) {
        let out = way_back(&order_of, resend);
        let templates: Vec<String> = notices(&out).into_iter().map(|(t, _, _)| t).collect();
        prop_assert_eq!(templates, ["order_confirmed", "shipped", "returned_to_sender"]);
        prop_assert!(reviews(&out).is_empty());
        prop_assert_eq!(&out.out, in_event_order());
    }
}

//! Scenario tests: exact notification commands from sequences of events.

use crate::common::*;
use wismo_core::model::{ChannelKind, Milestone};
use wismo_core::tracker::HoldReason;

fn m(order: &str, shipment: &str, milestone: Milestone) -> (String, String, Milestone) {
    (order.into(), shipment.into(), milestone)
}

#[test]
fn a_parcel_life_notifies_each_milestone_once() {
    let out = run(&[
        (0, placed("o1", 0)),
        (60, shipment("o1", "s1", "1Z1", "ups", 60)),
        (120, scan("a", "1Z1", "ups", "M", 110)),
        (240, scan("b", "1Z1", "ups", "P", 230)),
        (600, scan("c", "1Z1", "ups", "AR", 590)),
        (1440, scan("d", "1Z1", "ups", "OF", 1430)),
        (1800, scan("e", "1Z1", "ups", "D", 1790)),
    ]);
    assert_eq!(
        milestones(&out),
        vec![
            m("o1", "-", Milestone::OrderConfirmed),
            m("o1", "s1", Milestone::Shipped),
            m("o1", "s1", Milestone::OutForDelivery),
            m("o1", "s1", Milestone::Delivered),
        ]
    );
    let delivered = notifications(&out)
        .into_iter()
        .find(|c| c.milestone == Milestone::Delivered)
        .unwrap();
    assert_eq!(delivered.template_key, "delivered");
    assert_eq!(delivered.channel, ChannelKind::Email);
    assert_eq!(delivered.locale, "en-US");
    assert_eq!(delivered.customer_id, "cust-o1");
    assert_eq!(delivered.variables["order_progress"], "all_delivered");
    assert_eq!(delivered.variables["tracking_number"], "1Z1");
}

#[test]
fn a_burst_collapses_to_the_latest_milestone() {
    let out = run(&[
        (0, placed("o1", 0)),
        (1, shipment("o1", "s1", "1Z1", "ups", 1)),
        (600, scan("a", "1Z1", "ups", "I", 100)),
        (600, scan("b", "1Z1", "ups", "OF", 500)),
        (600, scan("c", "1Z1", "ups", "D", 590)),
    ]);
    assert_eq!(
        milestones(&out),
        vec![
            m("o1", "-", Milestone::OrderConfirmed),
            m("o1", "s1", Milestone::Delivered)
        ]
    );
}

#[test]
fn nothing_goes_backwards_after_delivery_and_duplicates_change_nothing() {
    let out = run(&[
        (0, placed("o1", 0)),
        (1, shipment("o1", "s1", "T1", "generic", 1)),
        (100, scan("a", "T1", "generic", "delivered", 100)),
        (200, scan("a", "T1", "generic", "delivered", 100)),
        // A late, older out-for-delivery scan, then a confused newer in-transit one.
        (300, scan("b", "T1", "generic", "out_for_delivery", 90)),
        (400, scan("c", "T1", "generic", "in_transit", 400)),
    ]);
    assert_eq!(
        milestones(&out),
        vec![
            m("o1", "-", Milestone::OrderConfirmed),
            m("o1", "s1", Milestone::Delivered)
        ]
    );
}

#[test]
fn delivered_then_returned_moves_on() {
    let out = run(&[
        (0, placed("o1", 0)),
        (1, shipment("o1", "s1", "T1", "generic", 1)),
        (100, scan("a", "T1", "generic", "delivered", 100)),
        (3000, scan("b", "T1", "generic", "returned_to_sender", 3000)),
    ]);
    assert_eq!(
        milestones(&out),
        vec![
            m("o1", "-", Milestone::OrderConfirmed),
            m("o1", "s1", Milestone::Delivered),
            m("o1", "s1", Milestone::ReturnedToSender),
        ]
    );
}

#[test]
fn scans_before_their_order_are_held_and_applied() {
    let out = run(&[
        (0, scan("a", "T1", "generic", "in_transit", 0)),
        (5, placed("o1", 5)),
        (10, shipment("o1", "s1", "T1", "generic", 10)),
    ]);
    assert_eq!(
        milestones(&out),
        vec![
            m("o1", "-", Milestone::OrderConfirmed),
            m("o1", "s1", Milestone::Shipped)
        ]
    );
}

#[test]
fn a_scan_never_matched_leaves_with_a_reason() {
    let out = run(&[
        (0, placed("o1", 0)),
        (10, scan("a", "NOPE", "generic", "in_transit", 10)),
    ]);
    let dead = dead_letters(&out);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0.as_deref(), Some("a"));
    assert!(dead[0].1.contains("NOPE"), "{}", dead[0].1);
}

#[test]
fn split_shipment_reports_partial_then_all() {
    let out = run(&[
        (0, placed("o1", 0)),
        (1, shipment("o1", "s1", "T1", "generic", 1)),
        (2, shipment("o1", "s2", "T2", "fedex", 2)),
        (100, scan("a", "T1", "generic", "in_transit", 100)),
        (200, scan("b", "T2", "fedex", "PU", 200)),
        (1000, scan("c", "T1", "generic", "delivered", 1000)),
        (2000, scan("d", "T2", "fedex", "DL", 2000)),
    ]);
    let progress: Vec<(String, String)> = notifications(&out)
        .into_iter()
        .filter(|c| c.shipment_id.is_some())
        .map(|c| {
            (
                format!(
                    "{}:{}",
                    c.shipment_id.clone().unwrap(),
                    c.milestone.as_str()
                ),
                c.variables["order_progress"].clone(),
            )
        })
        .collect();
    assert_eq!(
        progress,
        vec![
            ("s1:shipped".to_string(), "partially_shipped".to_string()),
            ("s2:shipped".to_string(), "all_shipped".to_string()),
            (
                "s1:delivered".to_string(),
                "partially_delivered".to_string()
            ),
            ("s2:delivered".to_string(), "all_delivered".to_string()),
        ]
    );
}

#[test]
fn stale_events_notify_no_one() {
    let out = run(&[
        (0, placed("o1", 0)),
        (1, shipment("o1", "s1", "T1", "generic", 1)),
        // Delivered eight days before it reached us.
        (
            20_000,
            scan("a", "T1", "generic", "delivered", 20_000 - 8 * 24 * 60),
        ),
    ]);
    assert_eq!(
        milestones(&out),
        vec![m("o1", "-", Milestone::OrderConfirmed)]
    );
    assert!(suppressed(&out).contains(&(Milestone::Delivered, HoldReason::Stale)));
}

#[test]
fn exceptions_notify_only_when_the_customer_can_act() {
    let out = run(&[
        (0, placed("o1", 0)),
        (1, shipment("o1", "s1", "T1", "generic", 1)),
        (2, shipment("o1", "s2", "T2", "generic", 2)),
        (100, scan("a", "T1", "generic", "weather_delay", 100)),
        (100, scan("b", "T2", "generic", "address_issue", 100)),
    ]);
    assert_eq!(
        milestones(&out),
        vec![
            m("o1", "-", Milestone::OrderConfirmed),
            m("o1", "s2", Milestone::Exception)
        ]
    );
}

#[test]
fn no_transactional_consent_means_no_message_but_a_visible_suppression() {
    let out = run(&[
        (
            0,
            placed_with("o1", 0, vec![channel(ChannelKind::Sms, false, true)]),
        ),
        (1, shipment("o1", "s1", "T1", "generic", 1)),
        (100, scan("a", "T1", "generic", "delivered", 100)),
    ]);
    assert!(notifications(&out).is_empty());
    let suppressed = suppressed(&out)
        .into_iter()
        .filter(|(_, reason)| *reason == HoldReason::NoConsentedChannel)
        .count();
    assert_eq!(suppressed, 2);
}

#[test]
fn an_order_cancelled_before_confirmation_is_not_confirmed() {
    let out = run(&[(0, placed("o1", 0)), (0, cancelled("o1", 0))]);
    assert!(notifications(&out).is_empty());
}

#[test]
fn unmapped_codes_never_become_another_status() {
    let out = run(&[
        (0, placed("o1", 0)),
        (1, shipment("o1", "s1", "1Z1", "ups", 1)),
        (100, scan("a", "1Z1", "ups", "OF", 100)),
        (100, scan("b", "1Z1", "ups", "ZZ-NEW-CODE", 101)),
    ]);
    assert_eq!(
        milestones(&out),
        vec![
            m("o1", "-", Milestone::OrderConfirmed),
            m("o1", "s1", Milestone::OutForDelivery)
        ]
    );
}

#[test]
fn command_ids_are_deterministic_and_distinct() {
    let inputs = [
        (0, placed("o1", 0)),
        (1, shipment("o1", "s1", "T1", "generic", 1)),
        (100, scan("a", "T1", "generic", "in_transit", 100)),
        (1000, scan("b", "T1", "generic", "delivered", 1000)),
    ];
    let ids = |out: &Run| {
        notifications(out)
            .iter()
            .map(|c| c.command_id.clone())
            .collect::<Vec<_>>()
    };
    let first = ids(&run(&inputs));
    assert_eq!(first, ids(&run(&inputs)));
    let unique: std::collections::BTreeSet<_> = first.iter().collect();
    assert_eq!(unique.len(), first.len());
}

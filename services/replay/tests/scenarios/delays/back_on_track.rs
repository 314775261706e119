//! A parcel that moves again after a stuck apology: one "back on track" notice.

use super::*;

/// `(template, shipment, decided at)` of the notifications with template `back_on_track`.
fn back_on_track(emitted: &Run) -> Vec<(String, Option<String>, Timestamp)> {
    notifications(emitted)
        .into_iter()
        .filter(|c| c.template_key == "back_on_track")
        .map(|c| (c.command_id.clone(), c.shipment_id.clone(), c.decided_at))
        .collect()
}

#[test]
fn a_parcel_moving_again_after_a_stuck_apology_is_back_on_track_once() {
    let mut inputs = base(30);
    inputs.push(scan_at("a", "T1", "in_transit", utc(2, 15, 0)));
    // Stuck from Thursday 15:00 UTC; moving again at 18:00.
    inputs.push(scan_at("b", "T1", "in_transit", utc(5, 18, 0)));
    let got = emitted(inputs.clone(), DelayPolicy::default(), utc(11, 12, 0));
    let back = back_on_track(&got);
    assert_eq!(back.len(), 1, "{back:?}");
    let (id, shipment, decided_at) = &back[0];
    assert_eq!(shipment.as_deref(), Some("s1"));
    // Judged a coalescing window after the scan that cleared the incident.
    assert_eq!(*decided_at, utc(5, 18, 0) + Duration::seconds(30));
    let cmd = notifications(&got)
        .into_iter()
        .find(|c| &c.command_id == id)
        .cloned()
        .expect("the notification");
    assert_eq!(cmd.milestone, wismo_core::model::Milestone::Shipped);
    assert_eq!(
        cmd.variables.get("incident_id").map(String::as_str),
        Some("o1:stuck-1")
    );
    // The second silence (never cleared) sends nothing more, and a replay repeats
    // the same id.
    assert_eq!(
        back_on_track(&emitted(inputs, DelayPolicy::default(), utc(11, 12, 0))),
        back
    );
}

#[test]
fn back_on_track_can_be_switched_off() {
    let mut inputs = base(30);
    inputs.push(scan_at("a", "T1", "in_transit", utc(2, 15, 0)));
    inputs.push(scan_at("b", "T1", "in_transit", utc(5, 18, 0)));
    let policy = DelayPolicy {
        back_on_track: false,
        ..DelayPolicy::default()
    };
    assert!(back_on_track(&emitted(inputs, policy, utc(11, 12, 0))).is_empty());
}

#[test]
fn a_stuck_parcel_that_is_then_delivered_or_picked_up_needs_no_back_on_track() {
    // Delivered after the stuck apology: "delivered" says it all.
    let mut delivered = base(30);
    delivered.push(scan_at("a", "T1", "in_transit", utc(2, 15, 0)));
    delivered.push(scan_at("b", "T1", "delivered", utc(5, 18, 0)));
    let got = emitted(delivered, DelayPolicy::default(), utc(11, 12, 0));
    assert!(back_on_track(&got).is_empty());
    assert_eq!(apologies_in(&got), vec![DelayReason::StuckInTransit]);
    // Not picked up, then picked up: "shipped" says it all.
    let mut picked_up = base(30);
    picked_up.push(scan_at("a", "T1", "label_created", utc(2, 15, 0)));
    picked_up.push(scan_at("b", "T1", "picked_up", utc(5, 18, 0)));
    let got = emitted(picked_up, DelayPolicy::default(), utc(6, 12, 0));
    assert!(back_on_track(&got).is_empty());
    assert_eq!(apologies_in(&got), vec![DelayReason::NotPickedUp]);
}

fn apologies_in(emitted: &Run) -> Vec<DelayReason> {
    common::apologies(emitted)
        .into_iter()
        .map(|a| a.reason)
        .collect()
}

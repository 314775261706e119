//! Caps keep what matters: a command over the per-recipient cap is held, not
//! dropped; it goes out at the next allowed slot, delivered and action-needed
//! first, outside quiet hours; only what a newer message about the same order
//! supersedes is dropped, and the newer one names what it absorbed.

use crate::common::*;
use chrono::Duration;
use wismo_core::model::{Milestone, Timestamp};
use wismo_core::tracker::{HoldReason, Outcome, TrackerConfig};

/// Chicago customer `customer`'s order, placed at `when`, with one parcel.
fn order_of(customer: &str, order: &str, when: Timestamp) -> Vec<(i64, Input)> {
    let Input::Order(mut e) = order_to(
        order,
        at(when),
        "America/Chicago",
        Some(date(2026, 3, 20)),
        "US",
    ) else {
        unreachable!()
    };
    if let Some(p) = e.placed.as_mut() {
        p.customer.customer_id = customer.into();
    }
    let tracking = format!("T-{order}");
    vec![
        (at(when), Input::Order(e)),
        (
            at(when),
            shipment_from(
                order,
                &format!("{order}-s"),
                &tracking,
                "generic",
                at(when),
                "US",
            ),
        ),
    ]
}

fn capped(max: u32) -> TrackerConfig {
    let mut c = tracker_config();
    c.notifications.per_recipient_max = max;
    c.notifications.per_recipient_period = Duration::hours(1);
    c
}

/// `(order, milestone, send_at, merged)` of each notification, as sent.
fn sent(out: &Run) -> Vec<(String, Milestone, Timestamp, Option<String>)> {
    notifications(out)
        .into_iter()
        .map(|n| {
            (
                n.order_id.clone(),
                n.milestone,
                n.send_at,
                n.variables.get("merged_milestones").cloned(),
            )
        })
        .collect()
}

#[test]
fn a_storm_for_one_customer_still_delivers_the_latest_milestone() {
    // Eight orders at 09:00 Chicago (15:00 UTC): picked up at 15:10, delivered at
    // 15:30. At most five messages an hour, refilling one every 12 minutes.
    let start = utc(2026, 3, 2, 15, 0);
    let mut inputs = Vec::new();
    for n in 1..=8 {
        let order = format!("o{n}");
        let tracking = format!("T-{order}");
        inputs.extend(order_of("storm", &order, start));
        inputs.push(scan_at(
            &format!("p{n}"),
            &tracking,
            "generic",
            "picked_up",
            start + Duration::minutes(10),
        ));
        inputs.push(scan_at(
            &format!("d{n}"),
            &tracking,
            "generic",
            "delivered",
            start + Duration::minutes(30),
        ));
    }
    let out = run_with(capped(5), &inputs, utc(2026, 3, 2, 20, 0));
    let s = Duration::seconds(30);
    let slot = |k: i64| start + Duration::minutes(12 * k) + s;
    let mut expected = Vec::new();
    for n in 1..=5 {
        expected.push((format!("o{n}"), Milestone::OrderConfirmed, start + s, None));
    }
    // The three confirmations over the cap were superseded by their orders' own
    // "shipped"; of those, only two got a slot before the deliveries replaced them.
    expected.push(("o1".to_string(), Milestone::Shipped, slot(1), None));
    expected.push(("o2".to_string(), Milestone::Shipped, slot(2), None));
    for n in 1..=8 {
        let merged = match n {
            1 | 2 => None,
            3..=5 => Some("shipped".to_string()),
            _ => Some("order_confirmed,shipped".to_string()),
        };
        expected.push((format!("o{n}"), Milestone::Delivered, slot(2 + n), merged));
    }
    assert_eq!(sent(&out), expected);
    // Nothing was dropped but what a newer message superseded.
    let notes = held_back(&out);
    let superseded = notes
        .iter()
        .filter(|(_, _, r)| *r == HoldReason::Superseded)
        .count();
    let released = notes
        .iter()
        .filter(|(_, o, r)| *o == Outcome::Held && *r == HoldReason::Cap)
        .count();
    assert_eq!((superseded, released), (3 + 6, 2 + 8));
}

#[test]
fn delivered_and_action_needed_outrank_older_routine_messages() {
    // One a hour. Order A's confirmation uses it; order B's confirmation is held,
    // then A's parcel is delivered: at the next slot the delivery goes first.
    let a = utc(2026, 3, 2, 15, 0);
    let mut inputs = order_of("c", "oa", a);
    inputs.extend(order_of("c", "ob", a + Duration::minutes(5)));
    inputs.push(scan_at(
        "d",
        "T-oa",
        "generic",
        "delivered",
        a + Duration::minutes(10),
    ));
    let out = run_with(capped(1), &inputs, utc(2026, 3, 2, 20, 0));
    let s = Duration::seconds(30);
    assert_eq!(
        sent(&out),
        vec![
            ("oa".to_string(), Milestone::OrderConfirmed, a + s, None),
            (
                "oa".to_string(),
                Milestone::Delivered,
                a + Duration::hours(1) + s,
                None
            ),
            (
                "ob".to_string(),
                Milestone::OrderConfirmed,
                a + Duration::hours(2) + s,
                None
            ),
        ]
    );
}

#[test]
fn a_message_released_by_the_cap_keeps_out_of_quiet_hours() {
    // 20:00 Chicago: the first confirmation goes out; the second, ten minutes
    // later, gets the next slot at 21:00:30, inside quiet hours, so 08:00 next day.
    let a = utc(2026, 3, 3, 2, 0);
    let mut inputs = order_of("c", "oa", a);
    inputs.extend(order_of("c", "ob", a + Duration::minutes(10)));
    let out = run_with(capped(1), &inputs, utc(2026, 3, 3, 20, 0));
    let s = Duration::seconds(30);
    assert_eq!(
        sent(&out),
        vec![
            ("oa".to_string(), Milestone::OrderConfirmed, a + s, None),
            (
                "ob".to_string(),
                Milestone::OrderConfirmed,
                utc(2026, 3, 3, 14, 0),
                None
            ),
        ]
    );
    let released: Vec<_> = notes(&out)
        .into_iter()
        .filter(|n| n.reason == HoldReason::Cap)
        .map(|n| (n.what, n.at, n.until))
        .collect();
    assert_eq!(
        released,
        vec![(
            "order_confirmed".to_string(),
            a + Duration::minutes(10) + s,
            Some(utc(2026, 3, 3, 14, 0))
        )]
    );
}

//! One apology per delay episode: exact apologies on a virtual clock. The customer
//! is in America/Chicago (UTC-6, UTC-5 from 2026-03-08); parcels are domestic US.

use crate::common::*;
use chrono::Duration;
use wismo_core::delay::{ApologyMode, DelayPolicy};
use wismo_core::model::DelayReason;
use wismo_core::tracker::{HoldReason, Outcome, TrackerConfig};

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

fn episode_config() -> TrackerConfig {
    tracker_config()
}

#[test]
fn stuck_then_late_within_a_day_is_one_apology_then_one_escalation_after_the_gap() {
    let mut inputs = order(5);
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 2, 15, 0),
    ));
    let out = run_with(episode_config(), &inputs, utc(2026, 3, 12, 0, 0));
    // Stuck: Monday 09:00 Chicago + 3 business days = Thursday 09:00 (15:00 UTC).
    // Late: Thursday 5 March ends at 06:00 UTC on Friday, 15 hours later: one
    // episode, so the "late" waits for 24 h after the first apology. Presumed lost
    // (7 days without a scan) is graver still, and the gap has passed by then.
    assert_eq!(
        apology_summary(&out),
        vec![
            (DelayReason::StuckInTransit, 1, utc(2026, 3, 5, 15, 0)),
            (DelayReason::Late, 2, utc(2026, 3, 6, 15, 0)),
            (DelayReason::PresumedLost, 3, utc(2026, 3, 9, 15, 0)),
        ]
    );
    let a = apologies(&out);
    assert!(a.iter().all(|c| c.incident_id == "o1:episode-1"));
    assert_eq!(
        a[1].detectable_at,
        utc(2026, 3, 6, 6, 0),
        "detectable when the promise passed"
    );
    assert_eq!(a[1].days_late, Some(1));
    let ids: std::collections::BTreeSet<_> = a.iter().map(|c| c.command_id.clone()).collect();
    assert_eq!(ids.len(), 3);
    // The deferral is visible, with the time it waits for.
    let deferred: Vec<_> = notes(&out)
        .into_iter()
        .filter(|n| n.reason == HoldReason::EpisodeGap)
        .map(|n| (n.what, n.at, n.until))
        .collect();
    assert_eq!(
        deferred,
        vec![(
            "delay_apology.late".to_string(),
            utc(2026, 3, 6, 6, 0),
            Some(utc(2026, 3, 6, 15, 0))
        )]
    );
    // A replay decides the same ids.
    let again = run_with(episode_config(), &inputs, utc(2026, 3, 12, 0, 0));
    let again: Vec<_> = apologies(&again)
        .iter()
        .map(|c| c.command_id.clone())
        .collect();
    assert_eq!(
        again,
        a.iter().map(|c| c.command_id.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn a_persisting_problem_escalates_once_and_not_before_the_gap() {
    // Stuck from Thursday 09:00 Chicago; still stuck three business days later
    // (Tuesday 09:00 CDT = 14:00 UTC): one escalation. No promise in reach.
    let mut inputs = order(30);
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 2, 15, 0),
    ));
    let mut config = episode_config();
    config.delay.rules[0].presumed_lost = Some(Duration::days(30));
    let out = run_with(config, &inputs, utc(2026, 3, 20, 0, 0));
    assert_eq!(
        apology_summary(&out),
        vec![
            (DelayReason::StuckInTransit, 1, utc(2026, 3, 5, 15, 0)),
            (DelayReason::StuckInTransit, 2, utc(2026, 3, 10, 14, 0)),
        ]
    );
}

#[test]
fn other_parcels_fold_into_the_open_episode() {
    // Two parcels; the second goes quiet a day after the first. One apology naming
    // both parcels' episode; the second parcel adds no apology of its own.
    let mut inputs = order(30);
    inputs.push((1, shipment_from("o1", "s2", "T2", "generic", 1, "US")));
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 2, 15, 0),
    ));
    inputs.push(scan_at(
        "b",
        "T2",
        "generic",
        "in_transit",
        utc(2026, 3, 3, 15, 0),
    ));
    let mut config = episode_config();
    config.delay.escalate_after = Duration::days(30);
    config.delay.rules[0].presumed_lost = Some(Duration::days(30));
    let out = run_with(config, &inputs, utc(2026, 3, 9, 0, 0));
    let a = apologies(&out);
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::StuckInTransit, 1, utc(2026, 3, 5, 15, 0))]
    );
    assert_eq!(a[0].tracking_numbers, vec!["T1".to_string()]);
}

#[test]
fn the_episode_closes_when_the_parcel_moves_again_and_a_later_silence_is_a_new_one() {
    let mut inputs = order(30);
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 2, 15, 0),
    ));
    // Stuck Thursday 15:00 UTC; moving again at 18:00; silent again from then.
    inputs.push(scan_at(
        "b",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 5, 18, 0),
    ));
    let mut config = episode_config();
    config.delay.rules[0].presumed_lost = Some(Duration::days(30));
    let out = run_with(config, &inputs, utc(2026, 3, 12, 0, 0));
    // Thursday 12:00 Chicago + 3 business days = Tuesday 12:00 CDT (17:00 UTC): a
    // new episode, more than 24 h after the first apology, so not deferred.
    assert_eq!(
        apology_summary(&out),
        vec![
            (DelayReason::StuckInTransit, 1, utc(2026, 3, 5, 15, 0)),
            (DelayReason::StuckInTransit, 1, utc(2026, 3, 10, 17, 0)),
        ]
    );
    let a = apologies(&out);
    assert_eq!(
        (a[0].incident_id.as_str(), a[1].incident_id.as_str()),
        ("o1:episode-1", "o1:episode-2")
    );
    let back: Vec<_> = notifications(&out)
        .into_iter()
        .filter(|n| n.template_key == "back_on_track")
        .map(|n| n.decided_at)
        .collect();
    assert_eq!(back, vec![utc(2026, 3, 5, 18, 0) + Duration::seconds(30)]);
}

#[test]
fn a_carrier_estimate_further_out_is_a_further_apology_after_the_gap() {
    // Promised Friday 6 March; Monday's scan says Monday 9th (predicted late);
    // Monday evening's says Thursday 12th: further out, so a second apology, 24 h
    // after the first.
    let mut inputs = order(6);
    inputs.push(with_edd(
        scan_at("a", "T1", "generic", "in_transit", utc(2026, 3, 2, 15, 0)),
        date(2026, 3, 9),
    ));
    inputs.push(with_edd(
        scan_at("b", "T1", "generic", "in_transit", utc(2026, 3, 2, 23, 0)),
        date(2026, 3, 12),
    ));
    inputs.push(scan_at(
        "c",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 4, 15, 0),
    ));
    inputs.push(scan_at(
        "d",
        "T1",
        "generic",
        "delivered",
        utc(2026, 3, 5, 15, 0),
    ));
    let out = run_with(episode_config(), &inputs, utc(2026, 3, 8, 0, 0));
    let a = apologies(&out);
    assert_eq!(
        apology_summary(&out),
        vec![
            (
                DelayReason::PredictedLate,
                1,
                utc(2026, 3, 2, 15, 0) + Duration::seconds(30)
            ),
            (
                DelayReason::PredictedLate,
                2,
                utc(2026, 3, 3, 15, 0) + Duration::seconds(30)
            ),
        ]
    );
    assert_eq!(a[0].new_estimated_delivery_date, Some(date(2026, 3, 9)));
    assert_eq!(a[1].new_estimated_delivery_date, Some(date(2026, 3, 12)));
}

#[test]
fn a_deferred_apology_no_longer_warranted_when_due_is_not_sent() {
    // Stuck Thursday 15:00 UTC; late Friday 06:00 UTC, deferred to 15:00; delivered
    // at 10:00: the episode is over, the deferred apology is not sent.
    let mut inputs = order(5);
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 2, 15, 0),
    ));
    inputs.push(scan_at(
        "b",
        "T1",
        "generic",
        "delivered",
        utc(2026, 3, 6, 10, 0),
    ));
    let out = run_with(episode_config(), &inputs, utc(2026, 3, 9, 0, 0));
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::StuckInTransit, 1, utc(2026, 3, 5, 15, 0))]
    );
    let gap: Vec<_> = held_back(&out)
        .into_iter()
        .filter(|(w, _, _)| w.starts_with("delay_apology"))
        .collect();
    assert_eq!(
        gap,
        vec![
            (
                "delay_apology.late".to_string(),
                Outcome::Held,
                HoldReason::EpisodeGap
            ),
            (
                "delay_apology.late".to_string(),
                Outcome::Suppressed,
                HoldReason::Resolved
            ),
        ]
    );
}

#[test]
fn per_incident_mode_keeps_the_earlier_rule() {
    let mut inputs = order(5);
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 2, 15, 0),
    ));
    let mut config = episode_config();
    config.delay = DelayPolicy {
        apologies: ApologyMode::PerIncident,
        ..DelayPolicy::default()
    };
    let out = run_with(config, &inputs, utc(2026, 3, 6, 12, 0));
    // Stuck and late are separate incidents: two apologies 15 hours apart.
    assert_eq!(
        apology_summary(&out),
        vec![
            (DelayReason::StuckInTransit, 1, utc(2026, 3, 5, 15, 0)),
            (DelayReason::Late, 1, utc(2026, 3, 6, 6, 0)),
        ]
    );
    let a = apologies(&out);
    assert_eq!(
        (a[0].incident_id.as_str(), a[1].incident_id.as_str()),
        ("o1:stuck-1", "o1:delay-1")
    );
}

#[test]
fn a_delivery_relayed_overnight_spares_the_customer_a_false_late_apology() {
    // Delivered Thursday 22:00 Chicago, the promised day, but the 3PL relays the
    // scan at 04:00. The promise ends at midnight, in quiet hours: the apology waits
    // for 08:00 and is judged again then, with the delivery known.
    let mut inputs = order(5);
    inputs.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 3, 15, 0),
    ));
    inputs.push((
        at(utc(2026, 3, 6, 10, 0)),
        scan("b", "T1", "generic", "delivered", at(utc(2026, 3, 6, 4, 0))),
    ));
    let out = run_with(episode_config(), &inputs, utc(2026, 3, 7, 0, 0));
    assert_eq!(apology_summary(&out), vec![]);
    let late: Vec<_> = held_back(&out)
        .into_iter()
        .filter(|(w, _, _)| w == "delay_apology.late")
        .collect();
    assert_eq!(
        late,
        vec![
            (
                "delay_apology.late".to_string(),
                Outcome::Held,
                HoldReason::QuietHours
            ),
            (
                "delay_apology.late".to_string(),
                Outcome::Suppressed,
                HoldReason::Resolved
            ),
        ]
    );
    // Had it not been relayed by 08:00, the apology would go out then.
    let mut undelivered = order(5);
    undelivered.push(scan_at(
        "a",
        "T1",
        "generic",
        "in_transit",
        utc(2026, 3, 3, 15, 0),
    ));
    let out = run_with(episode_config(), &undelivered, utc(2026, 3, 7, 0, 0));
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::Late, 1, utc(2026, 3, 6, 14, 0))]
    );
}

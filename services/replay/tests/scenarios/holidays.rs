//! Carriers' public holidays are closed days: a parcel silent over a holiday
//! weekend gets no false "stuck" apology. Calendars are per carrier and per lane.

use crate::common::*;
use wismo_core::model::DelayReason;
use wismo_core::tracker::TrackerConfig;

/// An order placed on Monday 29 June 2026, promised far ahead, with one shipment.
fn order(tz: &str, country: &str, carrier: &str, origin: &str) -> Vec<(i64, Input)> {
    order_on(utc(2026, 6, 29, 14, 0), tz, country, carrier, origin)
}

fn order_on(
    when: wismo_core::model::Timestamp,
    tz: &str,
    country: &str,
    carrier: &str,
    origin: &str,
) -> Vec<(i64, Input)> {
    let placed = at(when);
    vec![
        (
            placed,
            order_to("o1", placed, tz, Some(date(2026, 7, 31)), country),
        ),
        (
            placed,
            shipment_from("o1", "s1", "T1", carrier, placed, origin),
        ),
    ]
}

fn without_holidays() -> TrackerConfig {
    let mut c = tracker_config();
    c.delay.holiday_countries.clear();
    c.delay.lane_holidays = false;
    c
}

#[test]
fn a_holiday_weekend_under_the_threshold_gives_no_stuck_apology() {
    // UPS, Chicago. In transit Thursday 2 July 12:00 CDT; Friday 3 July is the
    // observed Independence Day. Three business days: Thursday's 12 hours, Monday,
    // Tuesday, and Wednesday to 12:00. The next scan comes Tuesday evening.
    let mut inputs = order("America/Chicago", "US", "ups", "US");
    inputs.push(scan_at("a", "T1", "ups", "P", utc(2026, 6, 29, 20, 0)));
    inputs.push(scan_at("b", "T1", "ups", "AR", utc(2026, 7, 2, 17, 0)));
    inputs.push(scan_at("c", "T1", "ups", "DP", utc(2026, 7, 7, 23, 0)));
    let out = run_with(tracker_config(), &inputs, utc(2026, 7, 9, 0, 0));
    assert_eq!(apology_summary(&out), vec![]);

    // Without the holiday calendars, Friday counted: stuck on Tuesday at 12:00 CDT.
    let out = run_with(without_holidays(), &inputs, utc(2026, 7, 9, 0, 0));
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::StuckInTransit, 1, utc(2026, 7, 7, 17, 0))]
    );
}

#[test]
fn the_lane_decides_a_foreign_destination_holiday_closes_the_day() {
    // DHL from Germany to France (five business days international), customer in
    // Paris. In transit Friday 10 July 12:00 CEST; Tuesday 14 July is France's
    // national day (not a German holiday): due Monday 20 July 12:00, not Friday 17th.
    let mut inputs = order_on(utc(2026, 7, 9, 14, 0), "Europe/Paris", "FR", "dhl", "DE");
    inputs.push(scan_at("a", "T1", "dhl", "PU", utc(2026, 7, 10, 10, 0)));
    let until = utc(2026, 7, 21, 0, 0);
    let out = run_with(tracker_config(), &inputs, until);
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::StuckInTransit, 1, utc(2026, 7, 20, 10, 0))]
    );
    let out = run_with(without_holidays(), &inputs, until);
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::StuckInTransit, 1, utc(2026, 7, 17, 10, 0))]
    );
}

#[test]
fn an_operator_can_take_a_carriers_holidays_away() {
    // FedEx observes US holidays by default; a policy that gives it none (and no
    // lane holidays) counts 3 July again, like the calendar without holidays.
    let mut inputs = order("America/Chicago", "US", "fedex", "US");
    inputs.push(scan_at("a", "T1", "fedex", "PU", utc(2026, 6, 29, 20, 0)));
    inputs.push(scan_at("b", "T1", "fedex", "AR", utc(2026, 7, 2, 17, 0)));
    let mut c = tracker_config();
    c.delay.holiday_countries.insert("fedex".into(), vec![]);
    c.delay.lane_holidays = false;
    let out = run_with(c, &inputs, utc(2026, 7, 9, 0, 0));
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::StuckInTransit, 1, utc(2026, 7, 7, 17, 0))]
    );
    let out = run_with(tracker_config(), &inputs, utc(2026, 7, 9, 0, 0));
    assert_eq!(
        apology_summary(&out),
        vec![(DelayReason::StuckInTransit, 1, utc(2026, 7, 8, 17, 0))]
    );
}

//! What the tracker reports per carrier for dashboards: deliveries against the
//! promise (on-time rate) and carrier exceptions (exception rate).

mod common;

use common::*;
use wismo_core::model::Timestamp;
use wismo_core::status::SubStatus;
use wismo_core::tracker::{self, DeliveryTiming, OrderState, TrackerInput, TrackerOutput};

/// Decides the inputs for one order in order, straight on the tracker, and returns
/// the carrier outcomes it reported.
fn outcomes(order: &str, inputs: Vec<(i64, TrackerInput)>) -> Vec<TrackerOutput> {
    let config = tracker_config();
    let mut state: Option<OrderState> = None;
    let mut found = Vec::new();
    for (at, input) in inputs {
        let now: Timestamp = t(at);
        let step = tracker::decide(&config, state, order, input, now);
        state = step.state;
        found.extend(step.outputs.into_iter().filter(|o| {
            matches!(
                o,
                TrackerOutput::Delivered { .. } | TrackerOutput::CarrierException { .. }
            )
        }));
    }
    found
}

fn delivered(carrier: &str, timing: DeliveryTiming) -> TrackerOutput {
    TrackerOutput::Delivered {
        carrier: carrier.into(),
        timing,
    }
}

// Promised Friday 2026-03-06 in America/Chicago (UTC-6): the promise ends at
// 2026-03-07 06:00 UTC, which is minute 7_020 after t(0).
const FRIDAY_23H_CHICAGO: i64 = 6_960;
const SATURDAY_01H_CHICAGO: i64 = 7_080;

#[test]
fn a_delivery_by_the_end_of_the_promised_day_is_on_time_and_counted_once() {
    let found = outcomes(
        "o-1",
        vec![
            (0, placed("o-1", 0)),
            (10, shipment("o-1", "s-1", "T1", "generic", 10)),
            (20, scan("o-1-a", "T1", "generic", "picked_up", 20)),
            (
                FRIDAY_23H_CHICAGO,
                scan("o-1-b", "T1", "generic", "delivered", FRIDAY_23H_CHICAGO),
            ),
            // A resend and a second "delivered" scan change nothing.
            (
                FRIDAY_23H_CHICAGO + 5,
                scan("o-1-b", "T1", "generic", "delivered", FRIDAY_23H_CHICAGO),
            ),
            (
                FRIDAY_23H_CHICAGO + 9,
                scan(
                    "o-1-c",
                    "T1",
                    "generic",
                    "delivered_to_neighbour",
                    FRIDAY_23H_CHICAGO + 9,
                ),
            ),
        ],
    );
    assert_eq!(found, vec![delivered("generic", DeliveryTiming::OnTime)]);
}

#[test]
fn a_delivery_after_the_promised_day_in_the_customers_timezone_is_late() {
    let found = outcomes(
        "o-2",
        vec![
            (0, placed("o-2", 0)),
            (10, shipment("o-2", "s-1", "T2", "ups", 10)),
            (
                SATURDAY_01H_CHICAGO,
                scan("o-2-a", "T2", "generic", "delivered", SATURDAY_01H_CHICAGO),
            ),
        ],
    );
    assert_eq!(found, vec![delivered("ups", DeliveryTiming::Late)]);
}

#[test]
fn a_delivery_without_a_promise_is_counted_apart() {
    // The shipment is known before the order was placed: no promise to judge by.
    let found = outcomes(
        "o-3",
        vec![
            (10, shipment("o-3", "s-1", "T3", "fedex", 10)),
            (30, scan("o-3-a", "T3", "generic", "delivered", 30)),
        ],
    );
    assert_eq!(found, vec![delivered("fedex", DeliveryTiming::NoPromise)]);
}

#[test]
fn each_move_into_a_carrier_exception_is_reported_with_its_sub_status() {
    let found = outcomes(
        "o-4",
        vec![
            (0, placed("o-4", 0)),
            (10, shipment("o-4", "s-1", "T4", "dhl", 10)),
            (20, scan("o-4-a", "T4", "generic", "picked_up", 20)),
            (60, scan("o-4-b", "T4", "generic", "damaged", 60)),
            // The same scan again is a duplicate; an older in-transit scan does not
            // move the status back, so neither is a new exception.
            (70, scan("o-4-b", "T4", "generic", "damaged", 60)),
            (80, scan("o-4-c", "T4", "generic", "in_transit", 40)),
        ],
    );
    assert_eq!(
        found,
        vec![TrackerOutput::CarrierException {
            carrier: "dhl".into(),
            sub_status: SubStatus::Damaged,
        }]
    );
}

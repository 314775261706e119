//! One order's life compressed into seconds, so that a paced run of minutes
//! exercises every kind of decision, timers included, with the chaos policy's
//! thresholds of seconds ([`super::profile::policy`]): milestones (coalesced for a
//! second), parcels never picked up, stuck, presumed lost or back on track,
//! carrier exceptions, failed attempts, estimates past the promise, resent scans,
//! and review requests after delivery.
//!
//! Everything is deterministic in `(seed, order number)`. Times are absolute; the
//! load moves them by the time it was paused ([`shifted`]).

use super::rng::Rng;
use chrono::Duration;
use replay::Input;
use wismo_core::model::{
    CarrierScan, ChannelKind, ContactChannel, Customer, Item, OrderEvent, OrderPlaced,
    ScanLocation, ShipmentCreated, Timestamp,
};

/// One carrier's codes: label, pickup, arrival, departure, out for delivery,
/// delivered; exceptions that open an incident; a failed attempt.
struct Codes {
    name: &'static str,
    path: [&'static str; 6],
    exceptions: &'static [&'static str],
    attempt: (&'static str, Option<&'static str>),
}

const CARRIERS: [Codes; 4] = [
    Codes {
        name: "ups",
        path: ["MP", "PU", "AR", "DP", "OF", "D"],
        exceptions: &["DJ", "UP", "AG"],
        attempt: ("48", None),
    },
    Codes {
        name: "fedex",
        path: ["OC", "PU", "AR", "DP", "OD", "DL"],
        exceptions: &["CD", "DD", "SE"],
        attempt: ("DE", Some("08")),
    },
    Codes {
        name: "usps",
        path: ["GX", "03", "10", "EF", "OF", "01"],
        exceptions: &["WX", "12", "05"],
        attempt: ("02", None),
    },
    Codes {
        name: "generic",
        path: [
            "label_created",
            "picked_up",
            "arrived_at_facility",
            "departed_facility",
            "out_for_delivery",
            "delivered",
        ],
        exceptions: &["weather_delay", "damaged", "lost"],
        attempt: ("recipient_not_available", None),
    },
];

const TIMEZONES: [&str; 4] = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/Berlin",
];
const CATEGORIES: [&str; 4] = ["apparel", "electronics", "home", "toys"];

/// How a parcel's story goes.
#[derive(Clone, Copy)]
enum Outcome {
    Delivered,
    /// Stops after departing a facility: stuck in transit, then presumed lost.
    Stuck,
    /// Stuck past the threshold, then moves again and is delivered.
    BackOnTrack,
    /// A label and nothing more.
    NotPickedUp,
    Exception,
    FailedAttempt,
}

fn ms(n: u64) -> Duration {
    Duration::milliseconds(n as i64)
}

/// The events of order `n` placed at `placed_at`, as `(arrival, input)`.
pub fn story(seed: u64, n: u64, placed_at: Timestamp) -> Vec<(Timestamp, Input)> {
    let mut rng = Rng::new(seed, n.wrapping_add(1) << 8);
    let order = format!("chaos-{n:07}");
    let mut out = Vec::with_capacity(12);
    let items: Vec<Item> = (0..rng.range(1, 2))
        .map(|k| Item {
            sku: format!("sku-{}", rng.range(100, 9_999) * 10 + k),
            category: rng.pick(&CATEGORIES).to_string(),
            quantity: rng.range(1, 2) as i32,
        })
        .collect();
    let mut channels = vec![ContactChannel {
        kind: ChannelKind::Email,
        transactional_consent: true,
        marketing_consent: rng.chance(60),
    }];
    if rng.chance(30) {
        channels.push(ContactChannel {
            kind: ChannelKind::Sms,
            transactional_consent: true,
            marketing_consent: false,
        });
    }
    let promised = placed_at.date_naive() + Duration::days(rng.range(5, 7) as i64);
    out.push((
        placed_at + ms(rng.range(0, 300)),
        Input::Order(OrderEvent {
            event_id: format!("{order}-placed"),
            order_id: order.clone(),
            occurred_at: placed_at,
            placed: Some(OrderPlaced {
                customer: Customer {
                    // Some customers order more than once: the dispatcher's key.
                    customer_id: format!("cust-{}", rng.range(1, 1 + n / 2)),
                    locale: "en-US".into(),
                    timezone: rng.pick(&TIMEZONES).to_string(),
                    channels,
                },
                items: items.clone(),
                promised_delivery_date: Some(promised),
                destination_country: Some("US".into()),
            }),
            shipment_created: None,
            cancelled: None,
            return_requested: None,
        }),
    ));

    let shipments = if rng.chance(20) { 2 } else { 1 };
    for s in 0..shipments {
        let carrier = rng.pick(&CARRIERS);
        let tracking = format!("{}-{n:07}-{s}", carrier.name.to_uppercase());
        let shipment_id = format!("{order}-s{s}");
        let created_at = placed_at + ms(rng.range(1_000, 3_000) + 1_000 * s as u64);
        let skus = if shipments == 1 {
            items.iter().map(|i| i.sku.clone()).collect()
        } else {
            vec![items[s.min(items.len() - 1)].sku.clone()]
        };
        out.push((
            created_at + ms(rng.range(0, 300)),
            Input::Order(OrderEvent {
                event_id: format!("{shipment_id}-created"),
                order_id: order.clone(),
                occurred_at: created_at,
                placed: None,
                shipment_created: Some(ShipmentCreated {
                    shipment_id,
                    tracking_number: tracking.clone(),
                    carrier: carrier.name.into(),
                    service_level: Some(rng.pick(&["ground", "2day"]).to_string()),
                    origin_country: Some("US".into()),
                    skus,
                }),
                cancelled: None,
                return_requested: None,
            }),
        ));
        let outcome = match rng.range(0, 99) {
            0..=51 => Outcome::Delivered,
            52..=63 => Outcome::Stuck,
            64..=71 => Outcome::BackOnTrack,
            72..=79 => Outcome::NotPickedUp,
            80..=91 => Outcome::Exception,
            _ => Outcome::FailedAttempt,
        };
        let p = &carrier.path;
        // (code, detail, gap before it in ms)
        let steps: Vec<(&str, Option<&str>, u64)> = match outcome {
            Outcome::Delivered => p.iter().map(|c| (*c, None, 0)).collect(),
            Outcome::Stuck => p[..4].iter().map(|c| (*c, None, 0)).collect(),
            Outcome::BackOnTrack => p[..4]
                .iter()
                .map(|c| (*c, None, 0))
                .chain([(p[4], None, rng.range(11_000, 14_000)), (p[5], None, 0)])
                .collect(),
            Outcome::NotPickedUp => vec![(p[0], None, 0)],
            Outcome::Exception => p[..rng.range(2, 4) as usize]
                .iter()
                .map(|c| (*c, None, 0))
                .chain([(*rng.pick(carrier.exceptions), None, 0)])
                .collect(),
            Outcome::FailedAttempt => p[..5]
                .iter()
                .map(|c| (*c, None, 0))
                .chain([(carrier.attempt.0, carrier.attempt.1, 0)])
                .collect(),
        };
        // A carrier estimate on the second scan, now and then past the promise.
        let edd = promised + Duration::days(if rng.chance(8) { 2 } else { 0 });
        let mut at = created_at + ms(rng.range(1_000, 2_500));
        for (k, (code, detail, extra)) in steps.into_iter().enumerate() {
            if k > 0 {
                at += ms(rng.range(1_000, 3_000) + extra);
            }
            let scan = CarrierScan {
                scan_id: format!("{tracking}-{k}"),
                tracking_number: tracking.clone(),
                carrier: carrier.name.into(),
                raw_status: code.into(),
                raw_status_detail: detail.map(Into::into),
                description: Some(format!("{} scan {code}", carrier.name)),
                occurred_at: at,
                location: Some(ScanLocation {
                    city: Some("Memphis".into()),
                    postal_code: Some("38118".into()),
                    country: Some("US".into()),
                }),
                carrier_edd: (k == 1).then_some(edd),
                order_id: None,
            };
            let arrival = at + ms(rng.range(50, 700));
            // Publishers resend now and then; the tracker must see it once.
            if rng.chance(8) {
                out.push((
                    arrival + ms(rng.range(500, 3_000)),
                    Input::Scan(scan.clone()),
                ));
            }
            out.push((arrival, Input::Scan(scan)));
        }
    }
    out.sort_by_key(|(at, _)| *at);
    out
}

/// `input` with every instant in it moved by `by` (dates stay: they are days).
pub fn shifted(input: &Input, by: Duration) -> Input {
    let mut input = input.clone();
    match &mut input {
        Input::Order(e) => e.occurred_at += by,
        Input::Scan(s) => s.occurred_at += by,
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_story_is_repeatable_and_in_arrival_order() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let a = story(3, 17, at);
        assert_eq!(a, story(3, 17, at));
        assert_ne!(a, story(4, 17, at));
        assert!(a.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(a.len() >= 3, "placed, a shipment and a scan at least");
        // Short enough that many orders are open at once, long enough for timers.
        let span = a.last().unwrap().0 - a[0].0;
        assert!(span < Duration::seconds(60), "{span}");
    }

    #[test]
    fn the_stories_cover_every_outcome() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let scans: Vec<String> = (0..400)
            .flat_map(|n| story(1, n, at))
            .filter_map(|(_, i)| match i {
                Input::Scan(s) => Some(s.raw_status),
                Input::Order(_) => None,
            })
            .collect();
        for code in ["D", "lost", "recipient_not_available", "DP", "MP"] {
            assert!(scans.iter().any(|c| c == code), "no {code} scan");
        }
    }

    #[test]
    fn shifting_moves_instants_only() {
        let at = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let (_, first) = &story(1, 1, at)[0];
        let moved = shifted(first, Duration::seconds(30));
        match (first, &moved) {
            (Input::Order(a), Input::Order(b)) => {
                assert_eq!(b.occurred_at - a.occurred_at, Duration::seconds(30));
                assert_eq!(a.placed, b.placed);
            }
            _ => panic!("the first event is the placed order"),
        }
    }
}

//! Properties: duplicates, reordering within a burst, and replay give the same
//! commands, field for field.

use crate::common::*;
use proptest::prelude::*;

/// A small world: two orders, one split in two shipments, with scans across carriers.
fn events() -> Vec<Input> {
    vec![
        placed("o1", 0),
        shipment("o1", "s1", "1Z1", "ups", 1),
        shipment("o1", "s2", "T2", "generic", 2),
        scan("u1", "1Z1", "ups", "M", 3),
        scan("u2", "1Z1", "ups", "P", 10),
        scan("u3", "1Z1", "ups", "OF", 20),
        scan("u4", "1Z1", "ups", "D", 25),
        scan("g1", "T2", "generic", "in_transit", 12),
        scan("g2", "T2", "generic", "address_issue", 22),
        scan("g3", "T2", "generic", "zz_unmapped", 23),
        placed("o2", 4),
        shipment("o2", "s3", "F3", "fedex", 5),
        scan("f1", "F3", "fedex", "PU", 8),
        scan("f2", "F3", "fedex", "OD", 18),
        scan("x1", "UNKNOWN", "generic", "in_transit", 9),
    ]
}

/// Every command whole, and every dead letter whole but for its place on its
/// source topic (which arrival order decides), sorted: a duplicate counts.
fn fingerprint(run: &Run) -> Vec<String> {
    let mut v: Vec<String> = run
        .out
        .iter()
        .map(|o| match o {
            Out::DeadLetter(d) => {
                let mut d = d.clone();
                d.source_offset = 0;
                format!("{:?}", Out::DeadLetter(d))
            }
            command => format!("{command:?}"),
        })
        .collect();
    v.sort();
    v
}

/// What is in one fingerprint and not the other.
fn difference(a: &[String], b: &[String]) -> Vec<String> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

/// Runs to the same instant whatever arrives when, so only order and duplication differ.
fn run_to_horizon(inputs: &[(i64, Input)]) -> Run {
    run_with(
        tracker_config(),
        inputs,
        t(10 * 60) + chrono::Duration::days(4),
    )
}

fn arrivals(order: &[usize], burst_of: &[usize]) -> Vec<(i64, Input)> {
    let all = events();
    order
        .iter()
        .map(|&i| ((burst_of[i] as i64) * 60, all[i].clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Everything arrives in one burst: any order, any duplicates, same commands.
    #[test]
    fn one_burst_any_order_and_duplicates(perm in Just((0..events().len()).collect::<Vec<_>>()).prop_shuffle(),
                                          dups in proptest::collection::vec(0..15usize, 0..10)) {
        let bursts = vec![0; events().len()];
        let reference = fingerprint(&run_to_horizon(&arrivals(&(0..events().len()).collect::<Vec<_>>(), &bursts)));
        let mut order = perm.clone();
        order.extend(dups);
        let got = fingerprint(&run_to_horizon(&arrivals(&order, &bursts)));
        prop_assert!(got == reference, "missing {:?} extra {:?}", difference(&reference, &got), difference(&got, &reference));
    }

    /// Events arrive in bursts further apart than the coalescing window; order within
    /// a burst is arbitrary and resends arrive in any later burst.
    #[test]
    fn bursts_shuffled_within_and_resent_later(seed_bursts in proptest::collection::vec(0..4usize, 15),
                                               shuffle in Just((0..15usize).collect::<Vec<_>>()).prop_shuffle(),
                                               resends in proptest::collection::vec((0..15usize, 0..4usize), 0..8)) {
        let in_order: Vec<usize> = {
            let mut v: Vec<usize> = (0..15).collect();
            v.sort_by_key(|&i| (seed_bursts[i], i));
            v
        };
        let reference = fingerprint(&run_to_horizon(&arrivals(&in_order, &seed_bursts)));

        let mut shuffled: Vec<(i64, Input)> = {
            let mut v: Vec<usize> = shuffle.clone();
            v.sort_by_key(|&i| seed_bursts[i]);
            arrivals(&v, &seed_bursts)
        };
        for (i, extra) in resends {
            let burst = seed_bursts[i] + extra;
            shuffled.push(((burst as i64) * 60, events()[i].clone()));
        }
        shuffled.sort_by_key(|(at, _)| *at);
        let got = fingerprint(&run_to_horizon(&shuffled));
        prop_assert!(got == reference, "missing {:?} extra {:?}", difference(&reference, &got), difference(&got, &reference));
    }
}

const ZONES: [&str; 5] = [
    "America/Chicago",
    "Europe/Berlin",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Australia/Sydney",
];

fn with_timezone(input: Input, tz: &str) -> Input {
    match input {
        Input::Order(mut e) => {
            if let Some(p) = e.placed.as_mut() {
                p.customer.timezone = tz.into();
            }
            Input::Order(e)
        }
        other => other,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the order, timing and duplication of arrivals, no command of any
    /// kind is due inside its recipient's quiet hours.
    #[test]
    fn no_send_at_inside_quiet_hours(zones in proptest::collection::vec(0..ZONES.len(), 2),
                                     arrivals in proptest::collection::vec(0..(7 * 24 * 60i64), 15),
                                     dups in proptest::collection::vec((0..15usize, 0..(7 * 24 * 60i64)), 0..8)) {
        let tz_of = |order: &str| ZONES[zones[usize::from(order == "o2")]];
        let all = events();
        let mut inputs: Vec<(i64, Input)> = all
            .iter()
            .zip(&arrivals)
            .map(|(e, at)| (*at, e.clone()))
            .chain(dups.iter().map(|(i, at)| (*at, all[*i].clone())))
            .map(|(at, e)| {
                let order = match &e {
                    Input::Order(o) => o.order_id.clone(),
                    Input::Scan(_) => String::new(),
                };
                (at, if order.is_empty() { e } else { with_timezone(e, tz_of(&order)) })
            })
            .collect();
        inputs.sort_by_key(|(at, _)| *at);
        let quiet = wismo_core::policy::QuietHours::default();
        let mut checked = 0;
        for e in run(&inputs).out {
            let (customer, send_at) = match &e {
                Out::Notification(c) => (c.customer_id.clone(), c.send_at),
                Out::DelayApology(a) => (a.customer_id.clone(), a.send_at),
                Out::ReviewRequest(r) => (r.customer_id.clone(), r.send_at),
                Out::DeadLetter(_) => continue,
            };
            let tz: chrono_tz::Tz = tz_of(customer.trim_start_matches("cust-")).parse().unwrap();
            prop_assert!(!quiet.is_quiet(send_at, tz), "{:?} at {} in {}", e, send_at.with_timezone(&tz), tz);
            checked += 1;
        }
        prop_assert!(checked >= 3, "only {} commands checked", checked);
    }
}

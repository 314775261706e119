//! Properties: duplicates, reordering within a burst, and replay give the same
//! commands with the same ids.

mod common;

use common::*;
use proptest::prelude::*;
use std::collections::BTreeSet;
use wismo_core::pipeline::{Emitted, PipelineInput};

/// A small world: two orders, one split in two shipments, with scans across carriers.
fn events() -> Vec<PipelineInput> {
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

/// Commands as (id, milestone, template, variables), and dead letters by scan id.
fn fingerprint(out: &[Emitted]) -> BTreeSet<String> {
    out.iter()
        .filter_map(|e| match e {
            Emitted::Notification(c) => Some(format!(
                "{} {:?} {} {:?}",
                c.command_id, c.milestone, c.template_key, c.variables
            )),
            Emitted::DeadLetter { scan, .. } => Some(format!("dead {}", scan.scan_id)),
            Emitted::DelayApology(a) => Some(format!(
                "{} {:?} stage {} {:?}",
                a.command_id, a.reason, a.stage, a.tracking_numbers
            )),
            Emitted::ReviewRequest(r) => Some(format!("{} review {:?}", r.command_id, r.basis)),
            Emitted::Suppressed { .. } | Emitted::HeldBack(_) | Emitted::StatusChanged(_) => None,
        })
        .collect()
}

/// Runs to the same instant whatever arrives when, so only order and duplication differ.
fn run_to_horizon(inputs: &[(i64, PipelineInput)]) -> Vec<Emitted> {
    run_with(
        tracker_config(),
        inputs,
        t(10 * 60) + chrono::Duration::days(4),
    )
}

fn arrivals(order: &[usize], burst_of: &[usize]) -> Vec<(i64, PipelineInput)> {
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
        prop_assert_eq!(got, reference);
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

        let mut shuffled: Vec<(i64, PipelineInput)> = {
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
        let missing: Vec<_> = reference.difference(&got).collect();
        let extra: Vec<_> = got.difference(&reference).collect();
        prop_assert!(missing.is_empty() && extra.is_empty(), "missing {:?} extra {:?}", missing, extra);
    }
}

const ZONES: [&str; 5] = [
    "America/Chicago",
    "Europe/Berlin",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Australia/Sydney",
];

fn with_timezone(input: PipelineInput, tz: &str) -> PipelineInput {
    match input {
        PipelineInput::Order(mut e) => {
            if let Some(p) = e.placed.as_mut() {
                p.customer.timezone = tz.into();
            }
            PipelineInput::Order(e)
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
        let mut inputs: Vec<(i64, PipelineInput)> = all
            .iter()
            .zip(&arrivals)
            .map(|(e, at)| (*at, e.clone()))
            .chain(dups.iter().map(|(i, at)| (*at, all[*i].clone())))
            .map(|(at, e)| {
                let order = match &e {
                    PipelineInput::Order(o) => o.order_id.clone(),
                    PipelineInput::Scan(_) => String::new(),
                };
                (at, if order.is_empty() { e } else { with_timezone(e, tz_of(&order)) })
            })
            .collect();
        inputs.sort_by_key(|(at, _)| *at);
        let quiet = wismo_core::policy::QuietHours::default();
        let mut checked = 0;
        for e in run(&inputs) {
            let (customer, send_at) = match &e {
                Emitted::Notification(c) => (c.customer_id.clone(), c.send_at),
                Emitted::DelayApology(a) => (a.customer_id.clone(), a.send_at),
                Emitted::ReviewRequest(r) => (r.customer_id.clone(), r.send_at),
                _ => continue,
            };
            let tz: chrono_tz::Tz = tz_of(customer.trim_start_matches("cust-")).parse().unwrap();
            prop_assert!(!quiet.is_quiet(send_at, tz), "{:?} at {} in {}", e, send_at.with_timezone(&tz), tz);
            checked += 1;
        }
        prop_assert!(checked >= 3, "only {} commands checked", checked);
    }
}

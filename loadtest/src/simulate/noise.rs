//! Relay noise between the carriers and wismo: what makes real feeds messy.
//!
//! * 3PL batches: one parcel in five is relayed by a 3PL that forwards scans every
//!   two to four hours (plus up to twenty minutes of processing).
//! * Bursts: one in ten has its out-for-delivery relayed only with the delivery.
//! * Resends: one scan in twenty-five arrives again, a few hours to a day and a half later.
//! * Out of order: one scan in thirty-three arrives just after the scan that followed
//!   it, when that one came within six hours.
//! * (Carriers not scanning on Sundays and holidays, and split shipments, are in
//!   the generator.)

use super::generator::Order;
use super::model::Rng;
use chrono::Duration;
use replay::Input;
use wismo_core::model::Timestamp;

/// Every input of one order with the instant it reaches wismo.
pub fn arrivals(seed: u64, n: u64, order: &Order) -> Vec<(Timestamp, Input)> {
    let mut rng = Rng::fork(seed ^ 0xA5A5_5A5A, n);
    let mut out = vec![(order.placed.occurred_at, Input::Order(order.placed.clone()))];
    for s in &order.shipments {
        out.push((s.occurred_at, Input::Order(s.clone())));
    }
    for parcel in &order.parcels {
        let batch = rng.chance(200).then(|| rng.range(2, 4));
        let burst = rng.chance(100);
        let mut scans: Vec<(Timestamp, &wismo_core::model::CarrierScan)> = parcel
            .scans
            .iter()
            .map(|s| {
                let arrival = match batch {
                    Some(hours) => {
                        next_batch(s.occurred_at, hours) + Duration::minutes(rng.range(0, 20))
                    }
                    None => s.occurred_at + Duration::seconds(rng.range(5, 600)),
                };
                (arrival, s)
            })
            .collect();
        if burst {
            let ofd = scans.iter().position(|(_, s)| is_ofd(s));
            if let Some(i) = ofd.filter(|i| i + 1 < scans.len()) {
                scans[i].0 = scans[i + 1].0;
            }
        }
        for i in 0..scans.len().saturating_sub(1) {
            // Overtaken by the next scan when that one follows within hours.
            let close = scans[i + 1].0 - scans[i].0 <= Duration::hours(6);
            if close && rng.chance(30) {
                scans[i].0 = scans[i + 1].0 + Duration::minutes(rng.range(1, 10));
            }
        }
        for (at, scan) in scans {
            if rng.chance(40) {
                let again = at + Duration::minutes(rng.range(3 * 60, 36 * 60));
                out.push((again, Input::Scan(scan.clone())));
            }
            out.push((at, Input::Scan(scan.clone())));
        }
    }
    out
}

/// The next multiple of `hours` (UTC) at or after `t`.
fn next_batch(t: Timestamp, hours: i64) -> Timestamp {
    let step = hours * 3_600_000;
    let ms = t.timestamp_millis();
    let next = (ms + step - 1).div_euclid(step) * step;
    chrono::DateTime::from_timestamp_millis(next).unwrap_or(t)
}

fn is_ofd(s: &wismo_core::model::CarrierScan) -> bool {
    matches!(
        s.raw_status.as_str(),
        "OF" | "OD" | "WC" | "out_for_delivery"
    )
}

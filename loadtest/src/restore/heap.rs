//! `loadtest restore --heap-breakdown`: where a restored order's heap and its
//! changelog bytes go.
//!
//! Decodes generated states from their changelog entries, as a restore does, then
//! clears one part of every state at a time and reports what the Rust heap gave
//! back and how many bytes its encoding lost, per order. What is left at the end is the states' inline size where they
//! are held (here a `Vec`).

use crate::alloc;
use wismo_codec::subjects::ORDER_STATE;
use wismo_core::tracker::{OrderState, Placed, Shipment};
use wismo_engine::changelog;

type Clear = fn(&mut OrderState);

/// Each part, cleared in this order (a shipment's fields before its map).
const PARTS: &[(&str, Clear)] = &[
    ("shipment: timeline", |o| {
        o.shipments
            .values_mut()
            .for_each(|s| s.timeline = Vec::new())
    }),
    ("shipment: seen scan ids", |o| {
        o.shipments
            .values_mut()
            .for_each(|s| s.seen_scan_ids = Default::default())
    }),
    ("shipment: applied scans, estimates", |o| {
        for s in o.shipments.values_mut() {
            (s.current, s.last_scan, s.first_edd, s.latest_edd) = (None, None, None, None);
        }
    }),
    ("shipment: skus, sets, pending", |o| {
        for s in o.shipments.values_mut() {
            s.skus = Vec::new();
            s.milestones_sent = Default::default();
            s.notices_sent = Default::default();
            s.failed_attempts = Default::default();
            s.pending = None;
        }
    }),
    ("shipment: ids and codes", |o| {
        for s in o.shipments.values_mut() {
            (s.shipment_id, s.tracking_number, s.carrier) = Default::default();
            (s.service_level, s.origin_country) = (None, None);
        }
    }),
    ("shipments (inline)", |o| o.shipments = Default::default()),
    ("placed", |o| o.placed = None),
    ("held back notes", |o| o.held_back = Vec::new()),
    ("incidents, episodes", |o| {
        (o.incidents, o.episodes) = (Vec::new(), Vec::new());
        o.incident_seq = Default::default();
    }),
    ("order id, held scans", |o| {
        (o.order_id, o.held_scans) = (String::new(), Vec::new());
    }),
];

pub fn breakdown(orders: u64, batch: u64) -> anyhow::Result<()> {
    let mut states = Vec::with_capacity(usize::try_from(orders)?);
    super::generate(orders, batch, |state| {
        let entry = super::entry_of(&state)?;
        states.push(changelog::decode::<OrderState>(
            ORDER_STATE,
            &entry,
            "heap",
            0,
            0,
        )?);
        Ok(())
    })?;
    let n = states.len() as f64;
    println!(
        "heap per restored order, {} orders (inline sizes: OrderState {} B, Shipment {} B, Placed {} B)",
        states.len(),
        size_of::<OrderState>(),
        size_of::<Shipment>(),
        size_of::<Placed>(),
    );
    let total = alloc::live_bytes();
    let mut last = total;
    let total_bytes = encoded_bytes(&states)?;
    let mut last_bytes = total_bytes;
    println!("{:<36} {:>9} {:>9}", "part", "heap", "encoded");
    for (name, clear) in PARTS {
        states.iter_mut().for_each(clear);
        let now = alloc::live_bytes();
        let bytes = encoded_bytes(&states)?;
        println!(
            "{name:<36} {:>7.0} B {:>7.0} B",
            (last - now) as f64 / n,
            (last_bytes - bytes) as f64 / n
        );
        (last, last_bytes) = (now, bytes);
    }
    drop(states);
    let now = alloc::live_bytes();
    println!(
        "{:<36} {:>7.0} B",
        "states (inline, in a Vec)",
        (last - now) as f64 / n
    );
    println!(
        "{:<36} {:>7.0} B {:>7.0} B",
        "total",
        (total - now) as f64 / n,
        total_bytes as f64 / n
    );
    Ok(())
}

/// The states' encoded size, as their changelog entries carry them (the state's
/// own bytes, without the entry's format byte and position).
fn encoded_bytes(states: &[OrderState]) -> anyhow::Result<usize> {
    states.iter().try_fold(0, |sum, state| {
        Ok(sum + changelog::encode_state(ORDER_STATE, state)?.len())
    })
}

//! Applying one carrier scan to a shipment.

use super::state::{AppliedScan, EddSighting, Shipment, KEPT_FAILED_ATTEMPTS};
use super::TrackerConfig;
use crate::model::CarrierScan;
use crate::status::{Normalized, Status, SubStatus};

/// What applying a scan changed.
pub(super) struct ScanEffect {
    pub normalized: Normalized,
    /// The shipment's current status changed (so its pending milestone is re-decided).
    pub status_changed: bool,
}

/// Folds a scan into the shipment. `None` for a scan id already seen: a resend
/// changes nothing at all.
pub(super) fn apply(
    config: &TrackerConfig,
    shipment: &mut Shipment,
    scan: &CarrierScan,
) -> Option<ScanEffect> {
    if !shipment
        .seen_scan_ids
        .insert(&scan.scan_id, config.seen_scans)
    {
        return None;
    }
    let mut normalized = config.mapper.normalize(
        &scan.carrier,
        &scan.raw_status,
        scan.raw_status_detail.as_deref(),
    );
    let mut returned_earlier_delivery = false;
    if normalized.status == Status::ReturningToSender {
        let earliest = shipment
            .return_started_at
            .map_or(scan.occurred_at, |r| r.min(scan.occurred_at));
        returned_earlier_delivery = shipment.return_started_at != Some(earliest);
        shipment.return_started_at = Some(earliest);
    }
    if returned_to_sender(shipment, scan.occurred_at) {
        (normalized.status, normalized.sub_status) =
            on_the_way_back(normalized.status, normalized.sub_status);
    }
    let applied = AppliedScan {
        scan_id: scan.scan_id.clone(),
        status: normalized.status,
        sub_status: normalized.sub_status,
        raw_status: scan.raw_status.clone(),
        raw_status_detail: scan.raw_status_detail.clone(),
        occurred_at: scan.occurred_at,
    };

    if let Some(date) = scan.carrier_edd {
        let sighting = EddSighting {
            date,
            seen_at: scan.occurred_at,
            scan_id: scan.scan_id.clone(),
        };
        let key = |s: &EddSighting| (s.seen_at, s.scan_id.clone());
        if shipment
            .first_edd
            .as_ref()
            .is_none_or(|f| key(&sighting) < key(f))
        {
            shipment.first_edd = Some(sighting.clone());
        }
        if shipment
            .latest_edd
            .as_ref()
            .is_none_or(|l| key(&sighting) > key(l))
        {
            shipment.latest_edd = Some(sighting);
        }
    }
    match normalized.status {
        Status::AttemptFail if shipment.failed_attempts.len() < KEPT_FAILED_ATTEMPTS => {
            shipment.failed_attempts.insert(scan.scan_id.clone());
        }
        Status::Delivered if shipment.delivered_at.is_none_or(|d| scan.occurred_at < d) => {
            shipment.delivered_at = Some(scan.occurred_at);
        }
        _ => {}
    }
    if shipment
        .last_scan
        .as_ref()
        .is_none_or(|l| applied.rank() > l.rank())
    {
        shipment.last_scan = Some(applied.clone());
    }

    // An unmapped code never decides the status: it is kept as the last scan only.
    let mut status_changed = normalized.mapped
        && shipment
            .current
            .as_ref()
            .is_none_or(|c| applied.rank() > c.rank());
    if status_changed {
        shipment.current = Some(applied);
    }
    if returned_earlier_delivery {
        status_changed |= reinterpret_return_delivery(shipment);
    }
    Some(ScanEffect {
        normalized,
        status_changed,
    })
}

/// Whether a scan at `at` belongs to the parcel's way back.
fn returned_to_sender(shipment: &Shipment, at: chrono::DateTime<chrono::Utc>) -> bool {
    shipment.return_started_at.is_some_and(|r| at > r)
}

/// Carriers scan the way back with their ordinary codes: transit scans are the
/// return leg, and its "delivered" is the arrival back at the sender.
fn on_the_way_back(status: Status, sub: SubStatus) -> (Status, SubStatus) {
    match status {
        Status::Delivered => (Status::ReturnedToSender, SubStatus::ReturnedToShipper),
        Status::Pending
        | Status::InfoReceived
        | Status::InTransit
        | Status::OutForDelivery
        | Status::AvailableForPickup
        | Status::AttemptFail => (Status::ReturningToSender, sub),
        other => (other, sub),
    }
}

/// A return scan older than scans already applied (they arrived out of order):
/// those were the way back.
fn reinterpret_return_delivery(shipment: &mut Shipment) -> bool {
    let Some(r) = shipment.return_started_at else {
        return false;
    };
    if shipment.delivered_at.is_some_and(|d| d > r) {
        shipment.delivered_at = None;
    }
    let mut changed = false;
    for scan in [shipment.current.as_mut(), shipment.last_scan.as_mut()]
        .into_iter()
        .flatten()
        .filter(|s| s.occurred_at > r)
    {
        let (status, sub) = on_the_way_back(scan.status, scan.sub_status);
        changed |= status != scan.status;
        (scan.status, scan.sub_status) = (status, sub);
    }
    changed
}

//! Applying one carrier scan to a shipment.

use super::state::{AppliedScan, EddSighting, Shipment};
use super::TrackerConfig;
use crate::model::CarrierScan;
use crate::status::{Normalized, Status};

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
    if !shipment.seen_scan_ids.insert(scan.scan_id.clone()) {
        return None;
    }
    let normalized = config.mapper.normalize(
        &scan.carrier,
        &scan.raw_status,
        scan.raw_status_detail.as_deref(),
    );
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
        Status::AttemptFail => {
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
    let status_changed = normalized.mapped
        && shipment
            .current
            .as_ref()
            .is_none_or(|c| applied.rank() > c.rank());
    if status_changed {
        shipment.current = Some(applied);
    }
    Some(ScanEffect {
        normalized,
        status_changed,
    })
}

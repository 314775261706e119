use crate::delay::DelayPolicy;
use crate::model::InputLimits;
use crate::policy::{NotificationPolicy, ReviewPolicy};
use crate::status::StatusMapper;
use chrono::Duration;
use std::collections::BTreeSet;

/// The order-tracker's knobs; defaults follow the product brief.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
    /// What an order event or a scan may be, checked before it reaches any state.
    pub limits: InputLimits,
    /// Carrier code tables.
    pub mapper: StatusMapper,
    /// A milestone waits this long before it is sent, so that a burst of scans
    /// (out-for-delivery and delivered together) collapses to the latest.
    pub coalesce_window: Duration,
    /// Events older than this when they arrive change state but notify no one.
    pub stale_window: Duration,
    /// How long a scan for a shipment the order does not know yet is held.
    pub hold_window: Duration,
    /// How many such scans one order may hold.
    pub max_held_scans: usize,
    /// How many bytes of such scans (see [`crate::hold::scan_bytes`]) it may hold.
    pub max_held_bytes: usize,
    /// How many such scans all orders of one instance may hold together.
    pub max_held_total: usize,
    /// How many bytes of such scans they may hold together.
    pub max_held_total_bytes: usize,
    /// How many shipments one order may have; a shipment beyond is refused.
    pub max_shipments: usize,
    /// How many scan ids per shipment are remembered to spot resends: the most
    /// recent ones (see [`super::SeenScans`]).
    pub seen_scans: usize,
    /// An order with no activity for this long is forgotten.
    pub retention: Duration,
    /// Late and stuck detection.
    pub delay: DelayPolicy,
    /// Quiet hours, templates and caps for every command.
    pub notifications: NotificationPolicy,
    pub reviews: ReviewPolicy,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            limits: InputLimits::default(),
            mapper: StatusMapper::builtin(),
            coalesce_window: Duration::seconds(30),
            stale_window: Duration::days(7),
            hold_window: Duration::hours(72),
            max_held_scans: 100,
            max_held_bytes: 64 * 1024,
            max_held_total: 50_000,
            max_held_total_bytes: 32 * 1024 * 1024,
            max_shipments: 20,
            seen_scans: 256,
            retention: Duration::days(90),
            delay: DelayPolicy::default(),
            notifications: NotificationPolicy::default(),
            reviews: ReviewPolicy::default(),
        }
    }
}

impl TrackerConfig {
    /// The carriers this deployment knows, lowercased: those with a mapping table
    /// (`generic` included) or named by the delay policy. Metric labels come from
    /// this closed set; any other carrier is labelled `other`.
    pub fn known_carriers(&self) -> BTreeSet<String> {
        let policy = self
            .delay
            .calendars
            .keys()
            .chain(self.delay.holiday_countries.keys())
            .chain(self.delay.rules.iter().filter_map(|r| r.carrier.as_ref()))
            .map(|c| c.trim().to_lowercase())
            .filter(|c| c != "default");
        self.mapper
            .carriers()
            .map(str::to_string)
            .chain(policy)
            .collect()
    }
}

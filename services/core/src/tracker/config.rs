use crate::delay::DelayPolicy;
use crate::policy::{NotificationPolicy, ReviewPolicy};
use crate::status::StatusMapper;
use chrono::Duration;

/// The order-tracker's knobs; defaults follow the product brief.
#[derive(Debug, Clone)]
pub struct TrackerConfig {
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
            mapper: StatusMapper::builtin(),
            coalesce_window: Duration::seconds(30),
            stale_window: Duration::days(7),
            hold_window: Duration::hours(72),
            max_held_scans: 100,
            retention: Duration::days(90),
            delay: DelayPolicy::default(),
            notifications: NotificationPolicy::default(),
            reviews: ReviewPolicy::default(),
        }
    }
}

use crate::model::InputLimits;
use chrono::Duration;

/// Bounds of the matcher's hold, all configurable per deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct MatcherConfig {
    /// What a scan or a shipment may be, checked before it reaches any state.
    pub limits: InputLimits,
    /// How long a scan waits for its shipment before it leaves unmatched.
    pub hold_window: Duration,
    /// How many scans one unknown tracking number may hold.
    pub max_held_per_tracking: usize,
    /// How many bytes of scans (see [`crate::hold::scan_bytes`]) it may hold.
    pub max_held_bytes_per_tracking: usize,
    /// How many scans all tracking numbers of one instance may hold together.
    pub max_held_total: usize,
    /// How many bytes of scans they may hold together.
    pub max_held_total_bytes: usize,
    /// How long a tracking number → order mapping is kept after registration.
    pub mapping_retention: Duration,
}

impl Default for MatcherConfig {
    fn default() -> Self {
        MatcherConfig {
            limits: InputLimits::default(),
            hold_window: Duration::hours(72),
            max_held_per_tracking: 50,
            max_held_bytes_per_tracking: 64 * 1024,
            max_held_total: 50_000,
            max_held_total_bytes: 32 * 1024 * 1024,
            mapping_retention: Duration::days(120),
        }
    }
}

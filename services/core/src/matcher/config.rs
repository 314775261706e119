use chrono::Duration;

/// Bounds of the matcher's hold, all configurable per deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct MatcherConfig {
    /// How long a scan waits for its shipment before it leaves unmatched.
    pub hold_window: Duration,
    /// How many scans one unknown tracking number may hold.
    pub max_held_per_tracking: usize,
    /// How long a tracking number → order mapping is kept after registration.
    pub mapping_retention: Duration,
}

impl Default for MatcherConfig {
    fn default() -> Self {
        MatcherConfig {
            hold_window: Duration::hours(72),
            max_held_per_tracking: 50,
            mapping_retention: Duration::days(120),
        }
    }
}

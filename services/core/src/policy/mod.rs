//! Notification policy: when a message may go out (quiet hours), how often one
//! recipient may be messaged (caps), and when to ask for a review.

mod quiet_hours;

pub use quiet_hours::QuietHours;

use chrono::Duration;
use std::collections::BTreeMap;

/// Applied to every command, whatever its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationPolicy {
    /// Quiet hours in the recipient's timezone (default 21:00–08:00).
    pub quiet_hours: QuietHours,
    /// Overrides by ISO country code (upper case) of the recipient.
    pub quiet_hours_by_country: BTreeMap<String, QuietHours>,
    /// Template key per command kind (`shipped`, `delay_apology.late`, `review_request`, …)
    /// where a deployment wants another name than the default.
    pub templates: BTreeMap<String, String>,
    /// Safety net against storms: at most `per_recipient_max` commands per recipient
    /// per `per_recipient_period`; more are dropped, counted and logged.
    pub per_recipient_max: u32,
    pub per_recipient_period: Duration,
    /// Global egress rate (commands per second) protecting the downstream providers.
    pub egress_per_second: u32,
}

impl Default for NotificationPolicy {
    fn default() -> Self {
        NotificationPolicy {
            quiet_hours: QuietHours::default(),
            quiet_hours_by_country: BTreeMap::new(),
            templates: BTreeMap::new(),
            per_recipient_max: 5,
            per_recipient_period: Duration::hours(1),
            egress_per_second: 500,
        }
    }
}

impl NotificationPolicy {
    pub fn quiet_hours_for(&self, country: Option<&str>) -> &QuietHours {
        country
            .and_then(|c| self.quiet_hours_by_country.get(&c.to_ascii_uppercase()))
            .unwrap_or(&self.quiet_hours)
    }

    /// The template key for a command kind: the override, else the default.
    pub fn template(&self, kind: &str) -> String {
        self.templates
            .get(kind)
            .cloned()
            .unwrap_or_else(|| kind.to_string())
    }
}

/// When to ask for a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewPolicy {
    /// Days after delivery by product category; the longest of an order's items wins.
    pub delay_by_category: BTreeMap<String, Duration>,
    pub default_delay: Duration,
    /// When delivery is never confirmed: this long after the last shipment was created.
    pub fallback_after_fulfilled: Duration,
    /// Extra wait for an order that was late (an open or past delay incident).
    pub late_extra: Duration,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            delay_by_category: BTreeMap::new(),
            default_delay: Duration::days(7),
            fallback_after_fulfilled: Duration::days(21),
            late_extra: Duration::days(3),
        }
    }
}

impl ReviewPolicy {
    pub fn delay_for<'a>(&self, categories: impl Iterator<Item = &'a str>) -> Duration {
        categories
            .map(|c| {
                self.delay_by_category
                    .get(&c.to_ascii_lowercase())
                    .copied()
                    .unwrap_or(self.default_delay)
            })
            .max()
            .unwrap_or(self.default_delay)
    }
}

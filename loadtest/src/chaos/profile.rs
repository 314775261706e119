//! How big a chaos run is (`--profile`), and the policy it runs under.

use clap::ValueEnum;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileName {
    /// A few thousand orders, a few faults, one broker bounce: minutes, for CI.
    Short,
    /// The issue's numbers: 20,000 orders, 24 kills, two broker outages.
    Full,
}

/// The sizes of one run (per delivery mode).
#[derive(Debug, Clone)]
pub struct Profile {
    pub orders: u64,
    /// Over how long the orders are placed (load time; outages pause it).
    pub load: Duration,
    /// Partitions of every topic: 3 instances of a service own 2 each.
    pub partitions: u32,
    /// `kill -9`s, spread over the three services.
    pub kills: usize,
    /// Broker outages, each this long.
    pub outages: Vec<Duration>,
    /// Scale each service 1 → 3 → 1.
    pub scale: bool,
    /// A rolling restart (SIGTERM, one instance at a time) of every service.
    pub rolling_restart: bool,
    /// Whether it comes while every service runs three instances (nine
    /// restarts), rather than one.
    pub rolling_scaled: bool,
    /// How far past the last input the comparison reaches.
    pub tail: Duration,
}

impl Profile {
    pub fn of(name: ProfileName) -> Profile {
        match name {
            ProfileName::Short => Profile {
                orders: 2_000,
                load: Duration::from_secs(80),
                partitions: 6,
                kills: 6,
                outages: vec![Duration::from_secs(30)],
                scale: true,
                rolling_restart: true,
                rolling_scaled: false,
                tail: Duration::from_secs(20),
            },
            ProfileName::Full => Profile {
                orders: 20_000,
                load: Duration::from_secs(900),
                partitions: 6,
                kills: 24,
                outages: vec![Duration::from_secs(35), Duration::from_secs(30)],
                scale: true,
                rolling_restart: true,
                rolling_scaled: true,
                tail: Duration::from_secs(45),
            },
        }
    }
}

/// The chaos policy: thresholds of seconds (every day a business day, no
/// holidays) so that timers fire during the run, no quiet hours, and a
/// per-recipient cap of `per_recipient_max`.
///
/// By default the cap is set high enough never to hold anything back: with a
/// binding cap, which of two commands of one millisecond it holds depends on
/// their arrival order across partitions (docs/architecture.md), and the
/// verdict compares whole commands with replay's.
pub fn policy(per_recipient_max: u32) -> String {
    format!(
        r#"# Written by loadtest chaos.
[notifications]
quiet_hours = {{ start = "00:00", end = "00:00" }}
per_recipient_max = {per_recipient_max}
per_recipient_period = "1h"
egress_per_second = 1000000

[delay]
lane_holidays = false
escalate_after = "8s"
apology_gap = "10s"

[delay.calendars.default]
closed_weekdays = []
holiday_countries = []

[delay.calendars.ups]
holiday_countries = []

[delay.calendars.fedex]
holiday_countries = []

[delay.calendars.usps]
holiday_countries = []

[[delay.thresholds]]
label_created = "6s"
in_transit = "8s"
presumed_lost = "20s"

[reviews]
default_delay = "12s"
fallback_after_fulfilled = "30s"
late_extra = "6s"
"#
    )
}

/// What the services and replay run with besides the policy.
pub const COALESCE_WINDOW: &str = "1s";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_parses() {
        let p = wismo_config::policy::parse_policy(&policy(1_000_000), "chaos")
            .expect("the chaos policy is valid");
        let _ = p;
    }

    #[test]
    fn the_full_profile_has_the_issues_numbers() {
        let full = Profile::of(ProfileName::Full);
        assert!(full.orders >= 20_000 && full.kills >= 20);
        assert!(full.outages.iter().any(|o| *o >= Duration::from_secs(30)));
        let short = Profile::of(ProfileName::Short);
        assert_eq!(short.outages.len(), 1);
    }
}

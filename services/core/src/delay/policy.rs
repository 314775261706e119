//! The knobs of delay detection: thresholds per carrier, service level and lane,
//! carrier calendars, escalation, severity bands and compensation by severity.

use crate::calendar::{BusinessCalendar, HolidayTables, LaneCalendar};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Domestic (origin country = destination country) or international.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Domestic,
    International,
}

/// How bad a delay is; picks the compensation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Minor,
    Moderate,
    Severe,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
        }
    }
}

/// Thresholds for shipments matching every field that is set. Among matching rules
/// the most specific (most fields set) wins, field by field; later rules win ties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThresholdRule {
    pub carrier: Option<String>,
    pub service_level: Option<String>,
    pub lane: Option<Lane>,
    /// Label created but no carrier scan for this much business time.
    pub label_created: Option<Duration>,
    /// In transit with no new scan for this much business time.
    pub in_transit: Option<Duration>,
    /// No scan at all for this long (calendar time): presumed lost.
    pub presumed_lost: Option<Duration>,
}

/// Resolved thresholds for one shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub label_created: Duration,
    pub in_transit: Duration,
    pub presumed_lost: Duration,
}

/// How many apologies an order's troubles may cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApologyMode {
    /// One apology per delay episode of the order; a further one only when things
    /// materially worsen, at least `apology_gap` after the last.
    PerEpisode,
    /// The earlier rule: one apology per incident family, each with its own escalation.
    PerIncident,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayPolicy {
    /// Calendars by carrier code; carriers not listed use `default_calendar`.
    pub calendars: BTreeMap<String, BusinessCalendar>,
    pub default_calendar: BusinessCalendar,
    /// Public holidays by country (the built-in tables, or an operator's).
    pub holidays: HolidayTables,
    /// The countries whose public holidays a carrier observes, by carrier code
    /// (`default`: carriers not listed).
    pub holiday_countries: BTreeMap<String, Vec<String>>,
    /// Also close the public holidays of a parcel's origin and destination countries.
    pub lane_holidays: bool,
    pub apologies: ApologyMode,
    /// The least time between two apologies to one order (per-episode mode).
    pub apology_gap: Duration,
    pub rules: Vec<ThresholdRule>,
    /// A stage-2 apology when an incident is still open this much business time later.
    pub escalate_after: Duration,
    /// Lateness (business time) from which a delay is moderate / severe.
    pub moderate_from: Duration,
    pub severe_from: Duration,
    /// Offer suggested with an apology, by severity (`None`: no offer).
    pub compensation: BTreeMap<Severity, String>,
    /// Tell the customer when a parcel we apologised for as stuck or lost moves again
    /// (a notification with template `back_on_track`).
    pub back_on_track: bool,
}

impl Default for DelayPolicy {
    fn default() -> Self {
        DelayPolicy {
            calendars: BTreeMap::new(),
            default_calendar: BusinessCalendar::default(),
            holidays: HolidayTables::builtin(),
            holiday_countries: default_holiday_countries(),
            lane_holidays: true,
            apologies: ApologyMode::PerEpisode,
            apology_gap: Duration::hours(24),
            rules: vec![
                ThresholdRule {
                    lane: Some(Lane::Domestic),
                    label_created: Some(Duration::days(2)),
                    in_transit: Some(Duration::days(3)),
                    presumed_lost: Some(Duration::days(7)),
                    ..ThresholdRule::default()
                },
                ThresholdRule {
                    lane: Some(Lane::International),
                    label_created: Some(Duration::days(2)),
                    in_transit: Some(Duration::days(5)),
                    presumed_lost: Some(Duration::days(20)),
                    ..ThresholdRule::default()
                },
            ],
            escalate_after: Duration::days(3),
            moderate_from: Duration::days(2),
            severe_from: Duration::days(5),
            compensation: [
                (Severity::Moderate, "free_shipping_next_order".to_string()),
                (Severity::Severe, "discount_15_percent".to_string()),
            ]
            .into_iter()
            .collect(),
            back_on_track: true,
        }
    }
}

/// National carriers observe their home country's public holidays (the US federal
/// holidays for UPS, FedEx and USPS); aggregators and unknown carriers only the lane's.
fn default_holiday_countries() -> BTreeMap<String, Vec<String>> {
    [
        ("ups", "US"),
        ("fedex", "US"),
        ("usps", "US"),
        ("dhl", "DE"),
        ("canadapost", "CA"),
        ("royalmail", "GB"),
        ("laposte", "FR"),
        ("postnl", "NL"),
    ]
    .into_iter()
    .map(|(c, cc)| (c.to_string(), vec![cc.to_string()]))
    .collect()
}

impl DelayPolicy {
    pub fn calendar(&self, carrier: &str) -> &BusinessCalendar {
        self.calendars
            .get(&carrier.to_ascii_lowercase())
            .unwrap_or(&self.default_calendar)
    }

    /// The countries whose holidays `carrier` observes itself.
    pub fn carrier_countries(&self, carrier: &str) -> &[String] {
        self.holiday_countries
            .get(&carrier.to_ascii_lowercase())
            .or_else(|| self.holiday_countries.get("default"))
            .map_or(&[], Vec::as_slice)
    }

    /// The calendar a parcel travels on: its carrier's, closed also on the public
    /// holidays of the carrier's countries and of the lane's two ends.
    pub fn lane_calendar(
        &self,
        carrier: &str,
        origin: Option<&str>,
        destination: Option<&str>,
    ) -> LaneCalendar<'_> {
        let mut lane = LaneCalendar::new(self.calendar(carrier));
        for cc in self.carrier_countries(carrier) {
            lane = lane.with(self.holidays.country(cc));
        }
        if self.lane_holidays {
            for cc in [origin, destination].into_iter().flatten() {
                lane = lane.with(self.holidays.country(cc));
            }
        }
        lane
    }

    /// The calendar lateness against the promise is counted on: the default one,
    /// closed also on the destination country's public holidays.
    pub fn destination_calendar(&self, destination: Option<&str>) -> LaneCalendar<'_> {
        let lane = LaneCalendar::new(&self.default_calendar);
        match destination.filter(|_| self.lane_holidays) {
            Some(cc) => lane.with(self.holidays.country(cc)),
            None => lane,
        }
    }

    /// Thresholds for a shipment, field by field from the most specific matching rule.
    pub fn thresholds(&self, carrier: &str, service_level: Option<&str>, lane: Lane) -> Thresholds {
        let carrier = carrier.to_ascii_lowercase();
        let matching = |r: &&ThresholdRule| {
            r.carrier
                .as_ref()
                .is_none_or(|c| c.eq_ignore_ascii_case(&carrier))
                && r.service_level
                    .as_ref()
                    .is_none_or(|s| Some(s.as_str()) == service_level)
                && r.lane.is_none_or(|l| l == lane)
        };
        let specificity = |r: &ThresholdRule| {
            r.carrier.is_some() as u8 + r.service_level.is_some() as u8 + r.lane.is_some() as u8
        };
        let mut rules: Vec<(usize, &ThresholdRule)> =
            self.rules.iter().filter(matching).enumerate().collect();
        // Most specific last, then later rules last: the last one setting a field wins.
        rules.sort_by_key(|(i, r)| (specificity(r), *i));
        let pick = |f: fn(&ThresholdRule) -> Option<Duration>, default: Duration| {
            rules
                .iter()
                .rev()
                .find_map(|(_, r)| f(r))
                .unwrap_or(default)
        };
        let international = lane == Lane::International;
        Thresholds {
            label_created: pick(|r| r.label_created, Duration::days(2)),
            in_transit: pick(
                |r| r.in_transit,
                Duration::days(if international { 5 } else { 3 }),
            ),
            presumed_lost: pick(
                |r| r.presumed_lost,
                Duration::days(if international { 20 } else { 7 }),
            ),
        }
    }

    pub fn severity(&self, lateness: Duration) -> Severity {
        if lateness >= self.severe_from {
            Severity::Severe
        } else if lateness >= self.moderate_from {
            Severity::Moderate
        } else {
            Severity::Minor
        }
    }
}

//! `[delay]`: late and stuck delivery detection, episodes, calendars and holidays.

use super::values::{fmt_duration, ClosedWeekdays, Country, Holiday, Name, PolicyDuration};
use serde::Deserialize;
use std::collections::BTreeMap;
use wismo_core::calendar::BusinessCalendar;
use wismo_core::delay::{ApologyMode, DelayPolicy, Lane, Severity, ThresholdRule};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDelay {
    apologies: Option<ApologyMode>,
    apology_gap: Option<PolicyDuration>,
    lane_holidays: Option<bool>,
    escalate_after: Option<PolicyDuration>,
    back_on_track: Option<bool>,
    moderate_from: Option<PolicyDuration>,
    severe_from: Option<PolicyDuration>,
    compensation: Option<RawCompensation>,
    calendars: Option<BTreeMap<String, RawCalendar>>,
    thresholds: Option<Vec<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompensation {
    minor: Option<Name>,
    moderate: Option<Name>,
    severe: Option<Name>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    closed_weekdays: Option<ClosedWeekdays>,
    holidays: Option<Vec<Holiday>>,
    holiday_countries: Option<Vec<Country>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    lane: Option<Lane>,
    carrier: Option<Name>,
    service_level: Option<Name>,
    label_created: Option<PolicyDuration>,
    in_transit: Option<PolicyDuration>,
    presumed_lost: Option<PolicyDuration>,
}

pub(super) fn merge_delay(d: &mut DelayPolicy, raw: RawDelay) -> Result<(), (String, String)> {
    if let Some(v) = raw.apologies {
        d.apologies = v;
    }
    if let Some(v) = raw.apology_gap {
        d.apology_gap = v.0;
    }
    if let Some(v) = raw.lane_holidays {
        d.lane_holidays = v;
    }
    if let Some(v) = raw.back_on_track {
        d.back_on_track = v;
    }
    if let Some(v) = raw.escalate_after {
        d.escalate_after = v.0;
    }
    let moderate_given = raw.moderate_from.is_some();
    if let Some(v) = raw.moderate_from {
        d.moderate_from = v.0;
    }
    let severe_given = raw.severe_from.is_some();
    if let Some(v) = raw.severe_from {
        d.severe_from = v.0;
    }
    if d.severe_from < d.moderate_from {
        let (moderate, severe) = (fmt_duration(d.moderate_from), fmt_duration(d.severe_from));
        let default = |given: bool| if given { "" } else { ", the default" };
        return Err(if severe_given {
            (
                "delay.severe_from".to_string(),
                format!(
                    "{severe} is less than delay.moderate_from ({moderate}{}); \
                     severe_from must be at least moderate_from",
                    default(moderate_given)
                ),
            )
        } else {
            (
                "delay.moderate_from".to_string(),
                format!(
                    "{moderate} is more than delay.severe_from ({severe}{}); \
                     severe_from must be at least moderate_from",
                    default(severe_given)
                ),
            )
        });
    }

    if let Some(c) = raw.compensation {
        d.compensation = [
            (Severity::Minor, c.minor),
            (Severity::Moderate, c.moderate),
            (Severity::Severe, c.severe),
        ]
        .into_iter()
        .filter_map(|(severity, offer)| offer.map(|o| (severity, o.0)))
        .collect();
    }

    if let Some(mut calendars) = raw.calendars {
        // The default calendar first: carrier calendars inherit the keys they omit.
        if let Some(mut default) = calendars.remove("default") {
            if let Some(countries) = default.holiday_countries.take() {
                d.holiday_countries.insert(
                    "default".into(),
                    countries.into_iter().map(|c| c.0).collect(),
                );
            }
            d.default_calendar = merge_calendar(&d.default_calendar, default);
        }
        for (key, cal) in calendars {
            let code = key.trim().to_ascii_lowercase();
            let field = format!("delay.calendars.{key}");
            if code.is_empty() {
                return Err((field, "a carrier code cannot be empty".to_string()));
            }
            if code == "default" {
                return Err((
                    field,
                    "write the default calendar as [delay.calendars.default], in lowercase"
                        .to_string(),
                ));
            }
            if d.calendars.contains_key(&code) {
                return Err((
                    field,
                    format!("carrier `{code}` has two calendars (carrier codes ignore case)"),
                ));
            }
            let mut cal = cal;
            if let Some(countries) = cal.holiday_countries.take() {
                d.holiday_countries
                    .insert(code.clone(), countries.into_iter().map(|c| c.0).collect());
            }
            let merged = merge_calendar(&d.default_calendar, cal);
            d.calendars.insert(code, merged);
        }
    }

    if let Some(rules) = raw.thresholds {
        d.rules = Vec::with_capacity(rules.len());
        for (i, r) in rules.into_iter().enumerate() {
            if r.label_created.is_none() && r.in_transit.is_none() && r.presumed_lost.is_none() {
                return Err((
                    format!("delay.thresholds[{i}]"),
                    "sets no threshold: give at least one of label_created, in_transit, \
                     presumed_lost"
                        .to_string(),
                ));
            }
            d.rules.push(ThresholdRule {
                carrier: r.carrier.map(|c| c.0.to_ascii_lowercase()),
                service_level: r.service_level.map(|s| s.0),
                lane: r.lane,
                label_created: r.label_created.map(|v| v.0),
                in_transit: r.in_transit.map(|v| v.0),
                presumed_lost: r.presumed_lost.map(|v| v.0),
            });
        }
    }
    Ok(())
}

fn merge_calendar(base: &BusinessCalendar, raw: RawCalendar) -> BusinessCalendar {
    BusinessCalendar {
        closed_weekdays: raw
            .closed_weekdays
            .map(|w| w.0)
            .unwrap_or_else(|| base.closed_weekdays.clone()),
        holidays: raw
            .holidays
            .map(|h| h.into_iter().map(|d| d.0).collect())
            .unwrap_or_else(|| base.holidays.clone()),
    }
}

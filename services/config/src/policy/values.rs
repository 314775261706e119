//! Values checked as they are read: durations, names, weekdays, dates, countries.

use super::MAX_POLICY_DURATION;
use crate::env::parse_duration;
use chrono::{Duration, NaiveDate, Weekday};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

const DURATION_HINT: &str = "a duration like 30s, 72h or 7d";

/// A positive duration of at most [`MAX_POLICY_DURATION`], written like `env` durations.
#[derive(Debug, Clone, Copy)]
pub(super) struct PolicyDuration(pub Duration);

impl<'de> Deserialize<'de> for PolicyDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PolicyDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(DURATION_HINT)
            }
            fn visit_str<E: de::Error>(self, raw: &str) -> Result<PolicyDuration, E> {
                parse_policy_duration(raw)
                    .map(PolicyDuration)
                    .map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

pub(super) fn parse_policy_duration(raw: &str) -> Result<Duration, String> {
    let not_a_duration = || format!("{raw:?} is not {DURATION_HINT}");
    // `parse_duration` builds the duration before we can bound it, and chrono panics
    // on out-of-range values: refuse absurd numbers first.
    let digits: String = raw
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    match digits.parse::<u64>() {
        Ok(n) if n <= 1_000_000_000 => {}
        Ok(_) => return Err(too_long(raw)),
        Err(_) if digits.len() > 18 => return Err(too_long(raw)),
        Err(_) => return Err(not_a_duration()),
    }
    let d = parse_duration(raw).ok_or_else(not_a_duration)?;
    if d <= Duration::zero() {
        return Err(format!("{raw:?} must be more than zero"));
    }
    if d > MAX_POLICY_DURATION {
        return Err(too_long(raw));
    }
    Ok(d)
}

fn too_long(raw: &str) -> String {
    format!(
        "{raw:?} is longer than the {} a policy duration may be",
        fmt_duration(MAX_POLICY_DURATION)
    )
}

/// A duration in the file's syntax, in the largest unit that writes it exactly.
pub(super) fn fmt_duration(d: Duration) -> String {
    let ms = d.num_milliseconds();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// A non-empty name: carrier code, service level, offer code.
#[derive(Debug, Clone)]
pub(super) struct Name(pub String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(de::Error::custom("cannot be empty"));
        }
        Ok(Name(trimmed.to_string()))
    }
}

/// `closed_weekdays`: no duplicates, at least one open day.
#[derive(Debug, Clone)]
pub(super) struct ClosedWeekdays(pub Vec<Weekday>);

impl<'de> Deserialize<'de> for ClosedWeekdays {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<DayName>::deserialize(d)?;
        let mut days = Vec::with_capacity(names.len());
        for DayName(day) in names {
            if days.contains(&day) {
                return Err(de::Error::custom(format!(
                    "{} is listed twice",
                    weekday_name(day)
                )));
            }
            days.push(day);
        }
        if days.len() == 7 {
            return Err(de::Error::custom(
                "closes all seven days; a carrier needs at least one business day",
            ));
        }
        Ok(ClosedWeekdays(days))
    }
}

#[derive(Debug, Clone, Copy)]
struct DayName(Weekday);

impl<'de> Deserialize<'de> for DayName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_weekday(&s).map(DayName).ok_or_else(|| {
            de::Error::custom(format!(
                "{s:?} is not a weekday: write mon, tue, wed, thu, fri, sat or sun"
            ))
        })
    }
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// A holiday: `"2026-12-25"`, or a bare TOML date `2026-12-25`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holiday(pub NaiveDate);

impl<'de> Deserialize<'de> for Holiday {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bad =
            |shown: String| de::Error::custom(format!("{shown} is not a date like \"2026-12-25\""));
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map(Holiday)
                .map_err(|_| bad(format!("{s:?}"))),
            toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(date), None, None) => NaiveDate::from_ymd_opt(
                    i32::from(date.year),
                    u32::from(date.month),
                    u32::from(date.day),
                )
                .map(Holiday)
                .ok_or_else(|| bad(dt.to_string())),
                _ => Err(bad(dt.to_string())),
            },
            other => Err(bad(other.to_string())),
        }
    }
}

/// An ISO 3166-1 two-letter country code, stored upper case.
#[derive(Debug, Clone)]
pub(super) struct Country(pub String);

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let code = s.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(de::Error::custom(format!(
                "{s:?} is not a two-letter country code (ISO 3166-1, e.g. US)"
            )));
        }
        Ok(Country(code))
    }
}

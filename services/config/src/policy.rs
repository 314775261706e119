//! The policy file: one TOML file with the business rules the services and `replay`
//! apply — delay detection (`[delay]`), notification policy (`[notifications]`:
//! quiet hours, template keys, caps) and review requests (`[reviews]`).
//!
//! `WISMO_POLICY_FILE` names the file; without it every rule keeps its built-in
//! default. A section that is absent keeps the defaults, a partially given section
//! overrides only the keys it gives (see `docs/policy.md` for the two exceptions:
//! `[[delay.thresholds]]` and `[delay.compensation]` replace the default lists).
//!
//! Every error names the file and the path of the offending key, e.g.
//! `policy file /etc/wismo/policy.toml: field delay.thresholds[1].in_transit: "3x" is
//! not a duration like 30s, 72h or 7d`. Unknown keys are errors too, so a typo cannot
//! silently leave a default in force.
//!
//! Adding a section: give [`Policy`] a field, `RawPolicy` an `Option<RawX>` field
//! (with `#[serde(deny_unknown_fields)]` on `RawX`), and merge it in `build`.

use crate::env::{parse_duration, ConfigError, Env};
use chrono::{Duration, NaiveDate, Weekday};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use wismo_core::calendar::BusinessCalendar;
use wismo_core::delay::{DelayPolicy, Lane, Severity, ThresholdRule};
use wismo_core::policy::{NotificationPolicy, ReviewPolicy};

mod notifications;
mod reviews;

pub use notifications::COMMAND_KINDS;

/// The environment key naming the policy file.
pub const POLICY_FILE_KEY: &str = "WISMO_POLICY_FILE";

/// The longest duration the policy file accepts anywhere.
pub const MAX_POLICY_DURATION: Duration = Duration::days(366);

/// Everything the policy file configures. `Policy::default()` is the built-in policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `[delay]`: late and stuck delivery detection.
    pub delay: DelayPolicy,
    /// `[notifications]`: quiet hours, template keys, per-recipient cap, egress rate.
    pub notifications: NotificationPolicy,
    /// `[reviews]`: when to ask for a review.
    pub reviews: ReviewPolicy,
}

/// The policy named by `WISMO_POLICY_FILE`, or the defaults when it is not set.
pub fn policy_from_env(env: &Env) -> Result<Policy, ConfigError> {
    match env.optional(POLICY_FILE_KEY) {
        None => Ok(Policy::default()),
        Some(path) => load_policy(Path::new(path.trim())),
    }
}

/// Reads and validates the policy file at `path`.
pub fn load_policy(path: &Path) -> Result<Policy, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Policy {
        origin: origin.clone(),
        field: None,
        reason: format!("cannot be read: {e}"),
    })?;
    parse_policy(&text, &origin)
}

/// Parses and validates policy TOML; `origin` names it in errors (usually its path).
pub fn parse_policy(text: &str, origin: &str) -> Result<Policy, ConfigError> {
    let deserializer = toml::de::Deserializer::parse(text).map_err(|e| ConfigError::Policy {
        origin: origin.to_string(),
        field: None,
        reason: with_position(text, &e),
    })?;
    let raw: RawPolicy = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ConfigError::Policy {
            origin: origin.to_string(),
            field: (path != ".").then_some(path),
            reason: inner.message().to_string(),
        }
    })?;
    build(raw).map_err(|(field, reason)| ConfigError::Policy {
        origin: origin.to_string(),
        field: Some(field),
        reason,
    })
}

/// A TOML syntax error with its line and column.
fn with_position(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!("line {line}, column {column}: {}", e.message())
        }
        None => e.message().to_string(),
    }
}

// ---------------------------------------------------------------------------------
// The file as written. Every struct denies unknown keys; values that can be checked
// on their own (durations, weekdays, dates, names) are checked while deserializing,
// so their errors carry the key path. Checks across keys happen in `build`.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    delay: Option<RawDelay>,
    notifications: Option<notifications::RawNotifications>,
    reviews: Option<reviews::RawReviews>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelay {
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

/// Merges the file over the defaults and runs the checks that span several keys.
/// Errors are `(field path, reason)`.
fn build(raw: RawPolicy) -> Result<Policy, (String, String)> {
    let mut policy = Policy::default();
    if let Some(delay) = raw.delay {
        merge_delay(&mut policy.delay, delay)?;
    }
    if let Some(n) = raw.notifications {
        notifications::merge_notifications(&mut policy.notifications, n)?;
    }
    if let Some(r) = raw.reviews {
        reviews::merge_reviews(&mut policy.reviews, r)?;
    }
    Ok(policy)
}

fn merge_delay(d: &mut DelayPolicy, raw: RawDelay) -> Result<(), (String, String)> {
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
        if let Some(default) = calendars.remove("default") {
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

// ---------------------------------------------------------------------------------
// Values checked as they are read.

const DURATION_HINT: &str = "a duration like 30s, 72h or 7d";

/// A positive duration of at most [`MAX_POLICY_DURATION`], written like `env` durations.
#[derive(Debug, Clone, Copy)]
struct PolicyDuration(Duration);

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

fn parse_policy_duration(raw: &str) -> Result<Duration, String> {
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
fn fmt_duration(d: Duration) -> String {
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
struct Name(String);

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
struct ClosedWeekdays(Vec<Weekday>);

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
struct Holiday(NaiveDate);

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

#[cfg(test)]
mod tests {
    use super::*;
    use wismo_core::delay::Thresholds;

    const EXAMPLE: &str = include_str!("../../../docs/policy.example.toml");

    fn parse(text: &str) -> Result<Policy, ConfigError> {
        parse_policy(text, "test.toml")
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(parse("").unwrap(), Policy::default());
        assert_eq!(parse("# nothing\n\n").unwrap(), Policy::default());
        assert_eq!(parse("[delay]\n").unwrap(), Policy::default());
    }

    #[test]
    fn the_example_file_parses() {
        let d = parse_policy(EXAMPLE, "docs/policy.example.toml")
            .unwrap()
            .delay;
        assert_eq!(d.escalate_after, Duration::days(3));
        assert_eq!(d.moderate_from, Duration::days(2));
        assert_eq!(d.severe_from, Duration::days(5));
        assert_eq!(
            d.compensation,
            [
                (Severity::Moderate, "free_shipping_next_order".to_string()),
                (Severity::Severe, "discount_15_percent".to_string()),
            ]
            .into_iter()
            .collect()
        );
        assert_eq!(
            d.default_calendar,
            BusinessCalendar {
                closed_weekdays: vec![Weekday::Sat, Weekday::Sun],
                holidays: [date("2026-12-25"), date("2027-01-01")].into(),
            }
        );
        assert_eq!(
            d.calendars.keys().collect::<Vec<_>>(),
            ["dhl_express", "ups", "usps"]
        );
        assert_eq!(
            d.calendars["ups"],
            BusinessCalendar {
                closed_weekdays: vec![Weekday::Sun],
                holidays: [date("2026-11-26"), date("2026-12-25"), date("2027-01-01")].into(),
            }
        );
        // usps gives only closed_weekdays: the holidays come from the default calendar.
        assert_eq!(d.calendars["usps"].closed_weekdays, vec![Weekday::Sun]);
        assert_eq!(d.calendars["usps"].holidays, d.default_calendar.holidays);
        assert_eq!(
            d.calendars["dhl_express"].closed_weekdays,
            vec![Weekday::Sun]
        );
        assert_eq!(
            d.calendars["dhl_express"].holidays,
            [date("2026-12-25"), date("2027-01-01")].into()
        );

        assert_eq!(d.rules.len(), 4);
        assert_eq!(d.rules[..2], DelayPolicy::default().rules[..]);
        assert_eq!(
            d.rules[2],
            ThresholdRule {
                lane: Some(Lane::Domestic),
                carrier: Some("ups".into()),
                service_level: Some("ground".into()),
                label_created: Some(Duration::days(1)),
                in_transit: Some(Duration::days(2)),
                presumed_lost: Some(Duration::days(6)),
            }
        );
        assert_eq!(
            d.rules[3],
            ThresholdRule {
                carrier: Some("usps".into()),
                in_transit: Some(Duration::days(4)),
                ..ThresholdRule::default()
            }
        );
    }

    #[test]
    fn thresholds_resolve_from_a_loaded_file() {
        let d = parse(
            r#"
            [[delay.thresholds]]
            lane = "domestic"
            label_created = "2d"
            in_transit = "3d"
            presumed_lost = "7d"

            [[delay.thresholds]]
            carrier = "UPS"
            in_transit = "36h"

            [[delay.thresholds]]
            carrier = "ups"
            service_level = "next_day_air"
            in_transit = "1d"
            presumed_lost = "3d"
            "#,
        )
        .unwrap()
        .delay;
        // Carrier rule beats the lane rule for in_transit; the lane rule fills the rest.
        assert_eq!(
            d.thresholds("ups", Some("ground"), Lane::Domestic),
            Thresholds {
                label_created: Duration::days(2),
                in_transit: Duration::hours(36),
                presumed_lost: Duration::days(7),
            }
        );
        assert_eq!(
            d.thresholds("UPS", Some("next_day_air"), Lane::Domestic),
            Thresholds {
                label_created: Duration::days(2),
                in_transit: Duration::days(1),
                presumed_lost: Duration::days(3),
            }
        );
        assert_eq!(
            d.thresholds("fedex", None, Lane::Domestic),
            Thresholds {
                label_created: Duration::days(2),
                in_transit: Duration::days(3),
                presumed_lost: Duration::days(7),
            }
        );
        // The rules replaced the defaults: international falls back to core's 2d/5d/20d
        // except where a matching rule says otherwise.
        assert_eq!(
            d.thresholds("ups", None, Lane::International).in_transit,
            Duration::hours(36)
        );
        assert_eq!(
            d.thresholds("dhl", None, Lane::International),
            Thresholds {
                label_created: Duration::days(2),
                in_transit: Duration::days(5),
                presumed_lost: Duration::days(20),
            }
        );

        let example = parse(EXAMPLE).unwrap().delay;
        assert_eq!(
            example.thresholds("usps", None, Lane::Domestic).in_transit,
            Duration::days(4)
        );
        assert_eq!(
            example
                .thresholds("usps", None, Lane::International)
                .in_transit,
            Duration::days(4)
        );
        assert_eq!(
            example.thresholds("fedex", None, Lane::International),
            Thresholds {
                label_created: Duration::days(2),
                in_transit: Duration::days(5),
                presumed_lost: Duration::days(20),
            }
        );
    }

    #[test]
    fn a_partial_section_keeps_the_other_defaults() {
        let d = parse("[delay]\nsevere_from = \"6d\"\n").unwrap().delay;
        let defaults = DelayPolicy::default();
        assert_eq!(d.severe_from, Duration::days(6));
        assert_eq!(
            DelayPolicy {
                severe_from: defaults.severe_from,
                ..d.clone()
            },
            defaults
        );

        let d = parse("[delay.calendars.default]\nholidays = [\"2026-07-04\", 2026-12-25]\n")
            .unwrap()
            .delay;
        assert_eq!(
            d.default_calendar.closed_weekdays,
            vec![Weekday::Sat, Weekday::Sun]
        );
        assert_eq!(
            d.default_calendar.holidays,
            [date("2026-07-04"), date("2026-12-25")].into()
        );
        assert_eq!(d.rules, defaults.rules);
        assert_eq!(d.compensation, defaults.compensation);

        // A given compensation table is the whole offer list.
        let d = parse("[delay.compensation]\nsevere = \"refund_shipping\"\n")
            .unwrap()
            .delay;
        assert_eq!(
            d.compensation,
            [(Severity::Severe, "refund_shipping".to_string())]
                .into_iter()
                .collect()
        );
        let cleared = parse("[delay]\nthresholds = []\n").unwrap().delay;
        assert!(cleared.rules.is_empty());
        assert_eq!(
            cleared
                .thresholds("ups", None, Lane::International)
                .presumed_lost,
            Duration::days(20)
        );
        assert!(parse("[delay.compensation]\n")
            .unwrap()
            .delay
            .compensation
            .is_empty());
    }

    #[test]
    fn carrier_calendars_are_lowercase_and_case_insensitive() {
        let d = parse("[delay.calendars.UPS]\nclosed_weekdays = [\"Sunday\", \"SAT\"]\n")
            .unwrap()
            .delay;
        assert_eq!(
            d.calendar("ups").closed_weekdays,
            vec![Weekday::Sun, Weekday::Sat]
        );
        assert_eq!(d.calendar("Ups"), &d.calendars["ups"]);
        assert_eq!(d.calendar("fedex"), &d.default_calendar);
        let open = parse("[delay.calendars.default]\nclosed_weekdays = []\n")
            .unwrap()
            .delay;
        assert_eq!(open.default_calendar, BusinessCalendar::always_open());

        let e = err("[delay.calendars.ups]\n[delay.calendars.UPS]\n");
        assert!(e.contains("field delay.calendars.ups: "), "{e}");
        assert!(e.contains("two calendars"), "{e}");
        let e = err("[delay.calendars.Default]\nclosed_weekdays = []\n");
        assert!(e.contains("field delay.calendars.Default: "), "{e}");
    }

    #[test]
    fn unknown_keys_are_named_by_path() {
        let e = err("[[delay.thresholds]]\ncarrier = \"ups\"\nin_transt = \"3d\"\n");
        assert!(
            e.starts_with("policy file test.toml: field delay.thresholds[0].in_transt: "),
            "{e}"
        );
        assert!(e.contains("unknown field `in_transt`"), "{e}");

        let e = err("[delay]\nescalate = \"3d\"\n");
        assert!(e.contains("field delay.escalate: "), "{e}");
        let e = err("[delays]\n");
        assert!(e.contains("field delays: "), "{e}");
        let e = err("[delay.calendars.ups]\nholiday = []\n");
        assert!(e.contains("field delay.calendars.ups.holiday: "), "{e}");
        let e = err("[delay.compensation]\nsevre = \"x\"\n");
        assert!(e.contains("field delay.compensation.sevre: "), "{e}");
        assert!(e.contains("`minor`, `moderate`, `severe`"), "{e}");
    }

    #[test]
    fn back_on_track_is_on_unless_switched_off() {
        assert!(parse("").unwrap().delay.back_on_track);
        assert!(
            !parse("[delay]\nback_on_track = false\n")
                .unwrap()
                .delay
                .back_on_track
        );
        let e = err("[delay]\nback_on_track = \"no\"\n");
        assert!(e.contains("field delay.back_on_track: "), "{e}");
    }

    #[test]
    fn bad_values_are_named_by_path() {
        let e = err(concat!(
            "[[delay.thresholds]]\nin_transit = \"2d\"\n",
            "[[delay.thresholds]]\nin_transit = \"3x\"\n",
        ));
        assert_eq!(
            e,
            "policy file test.toml: field delay.thresholds[1].in_transit: \"3x\" is not a \
             duration like 30s, 72h or 7d"
        );
        let e = err("[delay]\nescalate_after = 3\n");
        assert!(e.contains("field delay.escalate_after: "), "{e}");
        assert!(e.contains("expected a duration like 30s, 72h or 7d"), "{e}");
        let e = err("[delay]\nescalate_after = \"0d\"\n");
        assert!(
            e.contains("field delay.escalate_after: \"0d\" must be more than zero"),
            "{e}"
        );
        let e = err("[delay]\nescalate_after = \"99999999999999999999d\"\n");
        assert!(e.contains("is longer than the 366d"), "{e}");
        let e = err("[delay]\nescalate_after = \"400d\"\n");
        assert!(e.contains("is longer than the 366d"), "{e}");
        let e = err("[delay]\nescalate_after = \"-1d\"\n");
        assert!(e.contains("is not a duration"), "{e}");

        let e = err("[delay.calendars.ups]\nclosed_weekdays = [\"sun\", \"sonday\"]\n");
        assert!(
            e.contains("field delay.calendars.ups.closed_weekdays[1]: \"sonday\" is not a weekday"),
            "{e}"
        );
        let e = err("[delay.calendars.ups]\nclosed_weekdays = [\"sun\", \"Sunday\"]\n");
        assert!(
            e.contains("field delay.calendars.ups.closed_weekdays: sun is listed twice"),
            "{e}"
        );
        let e = err(
            "[delay.calendars.default]\nclosed_weekdays = [\"mon\", \"tue\", \"wed\", \"thu\", \
             \"fri\", \"sat\", \"sun\"]\n",
        );
        assert!(
            e.contains("field delay.calendars.default.closed_weekdays: closes all seven days"),
            "{e}"
        );

        let e = err("[delay.calendars.default]\nholidays = [\"2026-12-25\", \"2026-02-30\"]\n");
        assert!(
            e.contains("field delay.calendars.default.holidays[1]: \"2026-02-30\" is not a date"),
            "{e}"
        );
        let e = err("[delay.calendars.default]\nholidays = [2026-12-25T10:00:00]\n");
        assert!(
            e.contains("field delay.calendars.default.holidays[0]: "),
            "{e}"
        );

        let e = err("[[delay.thresholds]]\nlane = \"domstic\"\nin_transit = \"3d\"\n");
        assert!(
            e.contains("field delay.thresholds[0].lane: unknown variant `domstic`"),
            "{e}"
        );
        let e = err("[[delay.thresholds]]\ncarrier = \" \"\nin_transit = \"3d\"\n");
        assert!(
            e.contains("field delay.thresholds[0].carrier: cannot be empty"),
            "{e}"
        );
        let e = err("[[delay.thresholds]]\ncarrier = \"ups\"\n");
        assert!(
            e.contains("field delay.thresholds[0]: sets no threshold"),
            "{e}"
        );
    }

    #[test]
    fn severity_bands_must_be_ordered() {
        let e = err("[delay]\nmoderate_from = \"4d\"\nsevere_from = \"3d\"\n");
        assert!(
            e.contains("field delay.severe_from: 3d is less than delay.moderate_from (4d)"),
            "{e}"
        );
        let e = err("[delay]\nmoderate_from = \"6d\"\n");
        assert!(
            e.contains(
                "field delay.moderate_from: 6d is more than delay.severe_from (5d, the default)"
            ),
            "{e}"
        );
        let d = parse("[delay]\nmoderate_from = \"3d\"\nsevere_from = \"3d\"\n")
            .unwrap()
            .delay;
        assert_eq!(d.severity(Duration::days(3)), Severity::Severe);
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let e = err("[delay]\nescalate_after = \n");
        assert!(
            e.starts_with("policy file test.toml: line 2, column "),
            "{e}"
        );
    }

    #[test]
    fn from_env_and_from_disk() {
        assert_eq!(
            policy_from_env(&Env::from_pairs([("OTHER", "x")])).unwrap(),
            Policy::default()
        );
        let dir = std::env::temp_dir().join(format!("wismo-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("policy.toml");
        std::fs::write(&file, "[delay]\nescalate_after = \"4d\"\n").unwrap();
        let env = Env::from_pairs([(POLICY_FILE_KEY, file.display().to_string())]);
        assert_eq!(
            policy_from_env(&env).unwrap().delay.escalate_after,
            Duration::days(4)
        );

        std::fs::write(&file, "[delay]\nescalate_after = \"4 days\"\n").unwrap();
        let e = policy_from_env(&env).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "policy file {}: field delay.escalate_after: \"4 days\" is not a duration like \
                 30s, 72h or 7d",
                file.display()
            )
        );

        let missing = dir.join("missing.toml");
        let e = load_policy(&missing).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "policy file {}: cannot be read: ",
                missing.display()
            )),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn durations_round_trip_in_messages() {
        assert_eq!(fmt_duration(Duration::days(5)), "5d");
        assert_eq!(fmt_duration(Duration::hours(36)), "36h");
        assert_eq!(fmt_duration(Duration::milliseconds(1500)), "1500ms");
        assert_eq!(parse_policy_duration("90m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_policy_duration("366d"), Ok(Duration::days(366)));
    }
}

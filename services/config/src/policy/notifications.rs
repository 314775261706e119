//! `[notifications]`: quiet hours, template keys, per-recipient cap and egress rate.

use super::PolicyDuration;
use chrono::NaiveTime;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use wismo_core::policy::{NotificationPolicy, QuietHours};

/// Every command kind a template key can be configured for: the milestones, one
/// `delay_apology.<reason>` per delay reason, and `review_request`.
pub const COMMAND_KINDS: &[&str] = &[
    "order_confirmed",
    "shipped",
    "out_for_delivery",
    "available_for_pickup",
    "failed_attempt",
    "exception",
    "delivered",
    "returned_to_sender",
    "returning_to_sender",
    "back_on_track",
    "delay_apology.late",
    "delay_apology.predicted_late",
    "delay_apology.not_picked_up",
    "delay_apology.stuck_in_transit",
    "delay_apology.not_delivered_today",
    "delay_apology.presumed_lost",
    "delay_apology.damaged",
    "delay_apology.lost",
    "delay_apology.weather",
    "delay_apology.customs",
    "review_request",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotifications {
    quiet_hours: Option<RawQuietHours>,
    quiet_hours_by_country: Option<BTreeMap<String, RawQuietHours>>,
    templates: Option<BTreeMap<String, TemplateKey>>,
    per_recipient_max: Option<AtLeastOne>,
    per_recipient_period: Option<PolicyDuration>,
    egress_per_second: Option<AtLeastOne>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuietHours {
    start: Option<ClockTime>,
    end: Option<ClockTime>,
}

impl RawQuietHours {
    /// The window with the keys given here, the others from `base`.
    fn over(&self, base: QuietHours) -> QuietHours {
        QuietHours {
            start: self.start.map_or(base.start, |t| t.0),
            end: self.end.map_or(base.end, |t| t.0),
        }
    }
}

pub(super) fn merge_notifications(
    n: &mut NotificationPolicy,
    raw: RawNotifications,
) -> Result<(), (String, String)> {
    if let Some(q) = raw.quiet_hours {
        n.quiet_hours = q.over(n.quiet_hours);
    }
    if let Some(countries) = raw.quiet_hours_by_country {
        for (key, q) in countries {
            let field = format!("notifications.quiet_hours_by_country.{key}");
            let code = key.trim();
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err((
                    field,
                    format!("{key:?} is not a two-letter country code (ISO 3166-1, e.g. DE)"),
                ));
            }
            let code = code.to_ascii_uppercase();
            if n.quiet_hours_by_country.contains_key(&code) {
                return Err((
                    field,
                    format!(
                        "country `{code}` has two quiet-hours entries (country codes ignore case)"
                    ),
                ));
            }
            // A country entry that omits start or end takes it from `quiet_hours`.
            let window = q.over(n.quiet_hours);
            n.quiet_hours_by_country.insert(code, window);
        }
    }
    if let Some(templates) = raw.templates {
        for (kind, key) in templates {
            if !COMMAND_KINDS.contains(&kind.as_str()) {
                return Err((
                    format!("notifications.templates.{kind}"),
                    format!(
                        "unknown command kind `{kind}`; the kinds are {}",
                        COMMAND_KINDS.join(", ")
                    ),
                ));
            }
            n.templates.insert(kind, key.0);
        }
    }
    if let Some(v) = raw.per_recipient_max {
        n.per_recipient_max = v.0;
    }
    if let Some(v) = raw.per_recipient_period {
        n.per_recipient_period = v.0;
    }
    if let Some(v) = raw.egress_per_second {
        n.egress_per_second = v.0;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Values checked as they are read.

const TIME_HINT: &str = "a time like \"08:00\" (HH:MM, 00:00 to 23:59)";

/// A local time of day, `"HH:MM"`, or a bare TOML time `08:00` / `08:00:00`.
#[derive(Debug, Clone, Copy)]
struct ClockTime(NaiveTime);

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bad = |shown: String| de::Error::custom(format!("{shown} is not {TIME_HINT}"));
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => parse_clock_time(&s)
                .map(ClockTime)
                .ok_or_else(|| bad(format!("{s:?}"))),
            toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (None, Some(t), None)
                    if t.second.unwrap_or(0) == 0 && t.nanosecond.unwrap_or(0) == 0 =>
                {
                    NaiveTime::from_hms_opt(u32::from(t.hour), u32::from(t.minute), 0)
                        .map(ClockTime)
                        .ok_or_else(|| bad(dt.to_string()))
                }
                _ => Err(bad(dt.to_string())),
            },
            other => Err(bad(other.to_string())),
        }
    }
}

/// `"HH:MM"`, exactly two digits each, 00:00 to 23:59.
fn parse_clock_time(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.trim().split_once(':')?;
    let two_digits = |x: &str| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// A whole number from 1 to `u32::MAX`.
#[derive(Debug, Clone, Copy)]
struct AtLeastOne(u32);

impl<'de> Deserialize<'de> for AtLeastOne {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AtLeastOne;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number of at least 1")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<AtLeastOne, E> {
                if n < 1 {
                    return Err(E::custom(format!("must be at least 1, not {n}")));
                }
                self.visit_u64(n.unsigned_abs())
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<AtLeastOne, E> {
                match u32::try_from(n) {
                    Ok(0) => Err(E::custom("must be at least 1, not 0")),
                    Ok(v) => Ok(AtLeastOne(v)),
                    Err(_) => Err(E::custom(format!(
                        "{n} is more than the largest allowed, {}",
                        u32::MAX
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A template key: a non-empty string. A table here almost always means a dotted
/// kind written without quotes (`delay_apology.late = …` is a nested table in TOML).
#[derive(Debug, Clone)]
struct TemplateKey(String);

impl<'de> Deserialize<'de> for TemplateKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) if s.trim().is_empty() => {
                Err(de::Error::custom("cannot be empty"))
            }
            toml::Value::String(s) => Ok(TemplateKey(s.trim().to_string())),
            toml::Value::Table(_) => Err(de::Error::custom(
                "is a table, not a template key: quote a dotted command kind, \
                 e.g. \"delay_apology.late\" = \"sorry_late\"",
            )),
            other => Err(de::Error::custom(format!(
                "{other} is not a template key: write it as a string"
            ))),
        }
    }
}

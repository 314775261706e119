//! The policy file parser: TOML text to a validated `Policy`.
//!
//! Asserted:
//! - no panic, abort or huge allocation, whatever the text;
//! - an error is a policy error naming the file, and a field when it names one;
//! - parsing is deterministic;
//! - what validates holds the invariants the decision core relies on: severe_from
//!   at least moderate_from, positive bounded durations, caps of at least one,
//!   normalised country and category keys, known template kinds, and calendars
//!   with a business day, so business-time arithmetic over them ends and inverts.
#![no_main]

use chrono::{Duration, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use wismo_config::policy::{parse_policy, Policy, COMMAND_KINDS, MAX_POLICY_DURATION};
use wismo_config::ConfigError;
use wismo_core::calendar::BusinessCalendar;

const ORIGIN: &str = "fuzz.toml";

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return; // the loader reads the file as UTF-8 text first
    };
    match parse_policy(text, ORIGIN) {
        Ok(policy) => {
            let again = parse_policy(text, ORIGIN).expect("parsed once");
            assert_eq!(again, policy, "parsing is not deterministic");
            invariants(&policy);
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.starts_with("policy file fuzz.toml: "), "{shown}");
            match e {
                ConfigError::Policy { origin, field, .. } => {
                    assert_eq!(origin, ORIGIN);
                    assert!(
                        field.is_none_or(|f| !f.is_empty()),
                        "empty field in {shown}"
                    );
                }
                other => panic!("not a policy error: {other}"),
            }
        }
    }
});

fn bounded(what: &str, d: Duration) {
    assert!(
        d > Duration::zero() && d <= MAX_POLICY_DURATION,
        "{what} is {d}, outside (0, 366d]"
    );
}

fn invariants(p: &Policy) {
    let d = &p.delay;
    assert!(
        d.severe_from >= d.moderate_from,
        "severe_from < moderate_from"
    );
    for (what, v) in [
        ("apology_gap", d.apology_gap),
        ("escalate_after", d.escalate_after),
        ("moderate_from", d.moderate_from),
        ("severe_from", d.severe_from),
    ] {
        bounded(what, v);
    }
    let thresholds: Vec<Duration> = d
        .rules
        .iter()
        .flat_map(|r| [r.label_created, r.in_transit, r.presumed_lost])
        .flatten()
        .collect();
    for rule in &d.rules {
        assert!(
            rule.label_created.is_some()
                || rule.in_transit.is_some()
                || rule.presumed_lost.is_some(),
            "a rule with no threshold"
        );
    }
    thresholds.iter().for_each(|t| bounded("threshold", *t));
    let start = Utc.with_ymd_and_hms(2026, 3, 6, 17, 0, 0).unwrap();
    let longest = thresholds
        .iter()
        .copied()
        .max()
        .unwrap_or(Duration::days(7));
    let calendars = std::iter::once(("default", &d.default_calendar))
        .chain(d.calendars.iter().map(|(k, c)| (k.as_str(), c)));
    // A few calendars: the walk is linear in days, the harness need not be quadratic.
    for (i, (carrier, calendar)) in calendars.enumerate() {
        // Lookups lowercase the carrier (ASCII), so a key must be a fixed point of that.
        assert!(
            !carrier.is_empty() && carrier == carrier.to_ascii_lowercase(),
            "carrier key {carrier:?}"
        );
        assert!(
            i == 0 || carrier != "default",
            "a carrier calendar named default"
        );
        assert!(
            calendar.closed_weekdays.len() < 7,
            "{carrier}: no business day"
        );
        if i < 8 {
            business_time_inverts(calendar, start, longest);
        }
    }
    for countries in d.holiday_countries.values() {
        for c in countries {
            assert!(
                c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()),
                "country {c:?}"
            );
        }
    }

    let n = &p.notifications;
    assert!(
        n.per_recipient_max >= 1 && n.egress_per_second >= 1,
        "a cap below one"
    );
    bounded("per_recipient_period", n.per_recipient_period);
    for country in n.quiet_hours_by_country.keys() {
        assert!(
            country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()),
            "quiet hours country {country:?}"
        );
    }
    for (kind, key) in &n.templates {
        assert!(
            COMMAND_KINDS.contains(&kind.as_str()),
            "template kind {kind:?}"
        );
        assert!(!key.trim().is_empty(), "empty template key for {kind}");
    }

    let r = &p.reviews;
    for (what, v) in [
        ("default_delay", r.default_delay),
        ("fallback_after_fulfilled", r.fallback_after_fulfilled),
        ("late_extra", r.late_extra),
    ] {
        bounded(what, v);
    }
    for (category, delay) in &r.delay_by_category {
        assert!(
            !category.is_empty() && *category == category.trim().to_ascii_lowercase(),
            "category key {category:?}"
        );
        bounded("delay_by_category", *delay);
    }
}

/// Adding business time and measuring it back agree, on any accepted calendar.
fn business_time_inverts(
    calendar: &BusinessCalendar,
    start: chrono::DateTime<Utc>,
    amount: Duration,
) {
    let tz = chrono_tz::UTC;
    let end = calendar.add_business_time(start, amount, tz);
    assert!(
        end >= start + amount,
        "business time ran faster than real time"
    );
    assert_eq!(
        calendar.business_time_between(start, end, tz),
        amount,
        "add_business_time and business_time_between disagree"
    );
}

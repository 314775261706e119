//! Tests of the policy file: defaults, merging, the example file, errors.

use super::values::{fmt_duration, parse_policy_duration};
use super::*;
use chrono::{NaiveDate, Weekday};
use wismo_core::calendar::BusinessCalendar;
use wismo_core::delay::{Lane, Severity, ThresholdRule, Thresholds};

const EXAMPLE: &str = include_str!("../../../../docs/policy.example.toml");

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
    assert_eq!(d.apologies, wismo_core::delay::ApologyMode::PerEpisode);
    assert_eq!(d.apology_gap, Duration::hours(24));
    assert!(d.lane_holidays);
    assert_eq!(d.carrier_countries("ups"), ["US".to_string()]);
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

#[test]
fn apology_episodes_and_their_gap_are_the_default_and_the_earlier_rule_is_reachable() {
    use wismo_core::delay::ApologyMode;
    let d = parse("").unwrap().delay;
    assert_eq!(d.apologies, ApologyMode::PerEpisode);
    assert_eq!(d.apology_gap, Duration::hours(24));
    assert!(d.lane_holidays);
    let d = parse(
        "[delay]\napologies = \"per_incident\"\napology_gap = \"36h\"\nlane_holidays = false\n",
    )
    .unwrap()
    .delay;
    assert_eq!(d.apologies, ApologyMode::PerIncident);
    assert_eq!(d.apology_gap, Duration::hours(36));
    assert!(!d.lane_holidays);
    let e = err("[delay]\napologies = \"per_order\"\n");
    assert!(
        e.contains("field delay.apologies: unknown variant `per_order`, expected `per_episode` or `per_incident`"),
        "{e}"
    );
    let e = err("[delay]\napology_gap = \"0h\"\n");
    assert!(
        e.contains("field delay.apology_gap: \"0h\" must be more than zero"),
        "{e}"
    );
}

#[test]
fn carriers_observe_their_home_countrys_holidays_and_a_file_changes_which() {
    let d = parse("").unwrap().delay;
    assert_eq!(d.carrier_countries("UPS"), ["US".to_string()]);
    assert_eq!(d.carrier_countries("dhl"), ["DE".to_string()]);
    assert!(d.carrier_countries("easypost").is_empty());

    let d = parse(concat!(
        "[delay.calendars.default]\nholiday_countries = [\"us\"]\n",
        "[delay.calendars.UPS]\nholiday_countries = []\n",
        "[delay.calendars.canadapost]\nholiday_countries = [\"CA\", \"us\"]\n",
    ))
    .unwrap()
    .delay;
    assert!(d.carrier_countries("ups").is_empty());
    assert_eq!(
        d.carrier_countries("canadapost"),
        ["CA".to_string(), "US".to_string()]
    );
    // Carriers without an entry of their own take the default's.
    assert_eq!(d.carrier_countries("easypost"), ["US".to_string()]);
    assert_eq!(d.carrier_countries("fedex"), ["US".to_string()]);

    let e = err("[delay.calendars.dhl]\nholiday_countries = [\"DEU\"]\n");
    assert!(
        e.contains("field delay.calendars.dhl.holiday_countries[0]: \"DEU\" is not a two-letter country code"),
        "{e}"
    );
}

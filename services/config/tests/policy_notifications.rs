//! The `[notifications]` and `[reviews]` sections of the policy file: the example
//! file, partial sections over the defaults, and one error per validation, each
//! naming its field.

use chrono::{Duration, NaiveTime};
use std::collections::BTreeMap;
use wismo_config::policy::{parse_policy, Policy, COMMAND_KINDS};
use wismo_config::ConfigError;
use wismo_core::delay::DelayPolicy;
use wismo_core::model::{DelayReason, Milestone};
use wismo_core::policy::{NotificationPolicy, QuietHours, ReviewPolicy};

const EXAMPLE: &str = include_str!("../../../docs/policy.example.toml");

fn parse(text: &str) -> Result<Policy, ConfigError> {
    parse_policy(text, "test.toml")
}

fn notifications(text: &str) -> NotificationPolicy {
    parse(text).unwrap().notifications
}

fn reviews(text: &str) -> ReviewPolicy {
    parse(text).unwrap().reviews
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

/// Asserts the error names the file and `field`, and contains `reason`.
#[track_caller]
fn assert_err(text: &str, field: &str, reason: &str) {
    let e = err(text);
    let prefix = format!("policy file test.toml: field {field}: ");
    assert!(e.starts_with(&prefix), "expected `{prefix}…`, got: {e}");
    assert!(e.contains(reason), "expected `{reason}` in: {e}");
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn window(start: (u32, u32), end: (u32, u32)) -> QuietHours {
    QuietHours {
        start: hm(start.0, start.1),
        end: hm(end.0, end.1),
    }
}

#[test]
fn the_example_file_parses_with_every_section() {
    let p = parse_policy(EXAMPLE, "docs/policy.example.toml").unwrap();
    let n = &p.notifications;
    assert_eq!(n.quiet_hours, window((21, 0), (8, 0)));
    assert_eq!(
        n.quiet_hours_by_country,
        BTreeMap::from([
            ("DE".to_string(), window((20, 0), (8, 0))),
            ("JP".to_string(), window((22, 0), (7, 0))),
        ])
    );
    assert_eq!(n.per_recipient_max, 5);
    assert_eq!(n.per_recipient_period, Duration::hours(1));
    assert_eq!(n.egress_per_second, 500);
    assert_eq!(
        n.templates,
        BTreeMap::from([
            (
                "shipped".to_string(),
                "shipping_confirmation_v2".to_string()
            ),
            ("delay_apology.late".to_string(), "sorry_late".to_string()),
            ("review_request".to_string(), "review_ask".to_string()),
        ])
    );
    assert_eq!(n.template("shipped"), "shipping_confirmation_v2");
    assert_eq!(n.template("delay_apology.late"), "sorry_late");
    assert_eq!(n.template("delivered"), "delivered");
    assert_eq!(n.quiet_hours_for(Some("de")), &window((20, 0), (8, 0)));
    assert_eq!(n.quiet_hours_for(Some("FR")), &n.quiet_hours);
    assert_eq!(n.quiet_hours_for(None), &n.quiet_hours);

    let r = &p.reviews;
    assert_eq!(r.default_delay, Duration::days(7));
    assert_eq!(r.fallback_after_fulfilled, Duration::days(21));
    assert_eq!(r.late_extra, Duration::days(3));
    assert_eq!(
        r.delay_by_category,
        BTreeMap::from([
            ("apparel".to_string(), Duration::days(5)),
            ("electronics".to_string(), Duration::days(14)),
        ])
    );
    assert_eq!(
        r.delay_for(["Apparel", "ELECTRONICS"].into_iter()),
        Duration::days(14)
    );
    assert_eq!(r.delay_for(["apparel"].into_iter()), Duration::days(5));
    assert_eq!(r.delay_for(["garden"].into_iter()), Duration::days(7));

    // The new sections leave [delay] alone.
    assert_ne!(p.delay, DelayPolicy::default());
    assert_eq!(p.delay.escalate_after, Duration::days(3));
}

#[test]
fn absent_sections_are_the_core_defaults() {
    for text in ["", "[delay]\n", "[notifications]\n", "[reviews]\n"] {
        let p = parse(text).unwrap();
        assert_eq!(p.notifications, NotificationPolicy::default(), "{text:?}");
        assert_eq!(p.reviews, ReviewPolicy::default(), "{text:?}");
    }
    let empty = parse("[notifications]\n[notifications.templates]\n[notifications.quiet_hours_by_country]\n[reviews.delay_by_category]\n")
        .unwrap();
    assert_eq!(empty, Policy::default());
    // The documented defaults.
    let n = NotificationPolicy::default();
    assert_eq!(n.quiet_hours, window((21, 0), (8, 0)));
    assert_eq!(
        (
            n.per_recipient_max,
            n.per_recipient_period,
            n.egress_per_second
        ),
        (5, Duration::hours(1), 500)
    );
    let r = ReviewPolicy::default();
    assert_eq!(
        (r.default_delay, r.fallback_after_fulfilled, r.late_extra),
        (Duration::days(7), Duration::days(21), Duration::days(3))
    );
}

#[test]
fn partial_sections_keep_the_other_defaults() {
    let n = notifications("[notifications]\nper_recipient_max = 3\n");
    assert_eq!(n.per_recipient_max, 3);
    assert_eq!(
        NotificationPolicy {
            per_recipient_max: 5,
            ..n
        },
        NotificationPolicy::default()
    );

    let n =
        notifications("[notifications]\negress_per_second = 50\nper_recipient_period = \"30m\"\n");
    assert_eq!(n.egress_per_second, 50);
    assert_eq!(n.per_recipient_period, Duration::minutes(30));
    assert_eq!(n.per_recipient_max, 5);
    assert_eq!(n.quiet_hours, QuietHours::default());

    // A window given in part keeps the other end.
    let n = notifications("[notifications]\nquiet_hours = { start = \"22:30\" }\n");
    assert_eq!(n.quiet_hours, window((22, 30), (8, 0)));
    let n = notifications("[notifications.quiet_hours]\nend = \"07:15\"\n");
    assert_eq!(n.quiet_hours, window((21, 0), (7, 15)));

    // A country entry in part takes the rest from quiet_hours, as the file sets it.
    let n = notifications(
        "[notifications]\nquiet_hours = { start = \"22:00\", end = \"09:00\" }\n\
         [notifications.quiet_hours_by_country]\nfr = { end = \"07:00\" }\nUS = {}\n",
    );
    assert_eq!(n.quiet_hours_by_country["FR"], window((22, 0), (7, 0)));
    assert_eq!(n.quiet_hours_by_country["US"], window((22, 0), (9, 0)));

    let n = notifications("[notifications.templates]\ndelivered = \"delivered_v3\"\n");
    assert_eq!(n.template("delivered"), "delivered_v3");
    assert_eq!(n.template("shipped"), "shipped");
    assert_eq!(n.quiet_hours, QuietHours::default());

    let r = reviews("[reviews]\nlate_extra = \"12h\"\n");
    assert_eq!(r.late_extra, Duration::hours(12));
    assert_eq!(
        ReviewPolicy {
            late_extra: Duration::days(3),
            ..r
        },
        ReviewPolicy::default()
    );
    let r = reviews("[reviews.delay_by_category]\nFurniture = \"30d\"\n");
    assert_eq!(
        r.delay_by_category,
        BTreeMap::from([("furniture".to_string(), Duration::days(30))])
    );
    assert_eq!(r.default_delay, Duration::days(7));

    // Sections are independent.
    let p = parse("[reviews]\ndefault_delay = \"10d\"\n").unwrap();
    assert_eq!(p.notifications, NotificationPolicy::default());
    assert_eq!(p.delay, DelayPolicy::default());
}

#[test]
fn times_are_hh_mm() {
    let n =
        notifications("[notifications]\nquiet_hours = { start = \"00:00\", end = \"23:59\" }\n");
    assert_eq!(n.quiet_hours, window((0, 0), (23, 59)));
    // Bare TOML times work too, with or without (zero) seconds.
    let n = notifications("[notifications]\nquiet_hours = { start = 20:30, end = 06:45:00 }\n");
    assert_eq!(n.quiet_hours, window((20, 30), (6, 45)));
    // start == end is allowed: never quiet.
    let n =
        notifications("[notifications]\nquiet_hours = { start = \"00:00\", end = \"00:00\" }\n");
    assert_eq!(n.quiet_hours, window((0, 0), (0, 0)));

    for bad in [
        "24:00", "23:60", "8:00", "08:00:00", "0800", "08h00", "", "noon", "-1:00",
    ] {
        assert_err(
            &format!("[notifications]\nquiet_hours = {{ start = \"{bad}\" }}\n"),
            "notifications.quiet_hours.start",
            &format!("{bad:?} is not a time like \"08:00\" (HH:MM, 00:00 to 23:59)"),
        );
    }
    assert_err(
        "[notifications.quiet_hours]\nend = 8\n",
        "notifications.quiet_hours.end",
        "8 is not a time like",
    );
    assert_err(
        "[notifications.quiet_hours]\nend = 08:00:30\n",
        "notifications.quiet_hours.end",
        "is not a time like",
    );
    assert_err(
        "[notifications.quiet_hours]\nend = 2026-01-01T08:00:00\n",
        "notifications.quiet_hours.end",
        "is not a time like",
    );
    assert_err(
        "[notifications.quiet_hours_by_country]\nDE = { start = \"20:00\", end = \"25:00\" }\n",
        "notifications.quiet_hours_by_country.DE.end",
        "\"25:00\" is not a time like",
    );
    assert_err(
        "[notifications]\nquiet_hours = { start = \"21:00\", stop = \"08:00\" }\n",
        "notifications.quiet_hours.stop",
        "unknown field `stop`, expected `start` or `end`",
    );
}

#[test]
fn country_codes_are_two_letters_stored_upper_case() {
    let n = notifications(
        "[notifications.quiet_hours_by_country]\nde = { start = \"20:00\", end = \"08:00\" }\nJp = { start = \"22:00\", end = \"07:00\" }\n",
    );
    assert_eq!(
        n.quiet_hours_by_country.keys().collect::<Vec<_>>(),
        ["DE", "JP"]
    );
    assert_eq!(n.quiet_hours_for(Some("jp")), &window((22, 0), (7, 0)));

    for bad in ["DEU", "D", "D1", "\"\"", "\"D E\"", "\"Ö1\""] {
        let shown = bad.trim_matches('"');
        assert_err(
            &format!("[notifications.quiet_hours_by_country]\n{bad} = {{}}\n"),
            &format!("notifications.quiet_hours_by_country.{shown}"),
            &format!("{shown:?} is not a two-letter country code"),
        );
    }
    assert_err(
        "[notifications.quiet_hours_by_country]\nDE = {}\nde = {}\n",
        "notifications.quiet_hours_by_country.de",
        "country `DE` has two quiet-hours entries (country codes ignore case)",
    );
}

#[test]
fn counts_are_at_least_one() {
    let n =
        notifications("[notifications]\nper_recipient_max = 1\negress_per_second = 4294967295\n");
    assert_eq!((n.per_recipient_max, n.egress_per_second), (1, u32::MAX));

    for key in ["per_recipient_max", "egress_per_second"] {
        let field = format!("notifications.{key}");
        assert_err(
            &format!("[notifications]\n{key} = 0\n"),
            &field,
            "must be at least 1, not 0",
        );
        assert_err(
            &format!("[notifications]\n{key} = -3\n"),
            &field,
            "must be at least 1, not -3",
        );
        assert_err(
            &format!("[notifications]\n{key} = 4294967296\n"),
            &field,
            "4294967296 is more than the largest allowed, 4294967295",
        );
        assert_err(
            &format!("[notifications]\n{key} = \"5\"\n"),
            &field,
            "expected a whole number of at least 1",
        );
        assert_err(
            &format!("[notifications]\n{key} = 2.5\n"),
            &field,
            "expected a whole number of at least 1",
        );
    }
}

#[test]
fn durations_are_checked_like_delay_durations() {
    let cases = [
        (
            "[notifications]\nper_recipient_period = \"0s\"\n",
            "notifications.per_recipient_period",
            "\"0s\" must be more than zero",
        ),
        (
            "[notifications]\nper_recipient_period = \"1 hour\"\n",
            "notifications.per_recipient_period",
            "\"1 hour\" is not a duration like 30s, 72h or 7d",
        ),
        (
            "[reviews]\ndefault_delay = \"0d\"\n",
            "reviews.default_delay",
            "must be more than zero",
        ),
        (
            "[reviews]\nfallback_after_fulfilled = \"400d\"\n",
            "reviews.fallback_after_fulfilled",
            "is longer than the 366d",
        ),
        (
            "[reviews]\nlate_extra = \"-1d\"\n",
            "reviews.late_extra",
            "is not a duration",
        ),
        (
            "[reviews]\nlate_extra = 3\n",
            "reviews.late_extra",
            "expected a duration like 30s, 72h or 7d",
        ),
        (
            "[reviews.delay_by_category]\napparel = \"5d\"\nelectronics = \"0d\"\n",
            "reviews.delay_by_category.electronics",
            "\"0d\" must be more than zero",
        ),
    ];
    for (text, field, reason) in cases {
        assert_err(text, field, reason);
    }
}

#[test]
fn templates_name_known_kinds_and_non_empty_keys() {
    // Every known kind is accepted.
    let text: String = std::iter::once("[notifications.templates]\n".to_string())
        .chain(
            COMMAND_KINDS
                .iter()
                .map(|k| format!("\"{k}\" = \"t_{k}\"\n")),
        )
        .collect();
    let n = notifications(&text);
    assert_eq!(n.templates.len(), COMMAND_KINDS.len());
    for kind in COMMAND_KINDS {
        assert_eq!(n.template(kind), format!("t_{kind}"));
    }
    // Values are trimmed.
    assert_eq!(
        notifications("[notifications.templates]\nshipped = \"  shipped_v2 \"\n")
            .template("shipped"),
        "shipped_v2"
    );

    assert_err(
        "[notifications.templates]\nshiped = \"x\"\n",
        "notifications.templates.shiped",
        "unknown command kind `shiped`; the kinds are order_confirmed, shipped,",
    );
    assert_err(
        "[notifications.templates]\n\"delay_apology.sorry\" = \"x\"\n",
        "notifications.templates.delay_apology.sorry",
        "unknown command kind `delay_apology.sorry`",
    );
    assert_err(
        "[notifications.templates]\nShipped = \"x\"\n",
        "notifications.templates.Shipped",
        "unknown command kind `Shipped`",
    );
    assert_err(
        "[notifications.templates]\nshipped = \" \"\n",
        "notifications.templates.shipped",
        "cannot be empty",
    );
    assert_err(
        "[notifications.templates]\nshipped = 2\n",
        "notifications.templates.shipped",
        "2 is not a template key: write it as a string",
    );
    // An unquoted dotted kind is a nested table in TOML.
    assert_err(
        "[notifications.templates]\ndelay_apology.late = \"sorry_late\"\n",
        "notifications.templates.delay_apology",
        "quote a dotted command kind, e.g. \"delay_apology.late\" = \"sorry_late\"",
    );
}

#[test]
fn categories_are_stored_lower_case() {
    let r = reviews("[reviews.delay_by_category]\nApparel = \"5d\"\n\" Home Garden \" = \"10d\"\n");
    assert_eq!(
        r.delay_by_category,
        BTreeMap::from([
            ("apparel".to_string(), Duration::days(5)),
            ("home garden".to_string(), Duration::days(10)),
        ])
    );
    assert_err(
        "[reviews.delay_by_category]\nApparel = \"5d\"\napparel = \"6d\"\n",
        "reviews.delay_by_category.apparel",
        "category `apparel` is given twice (category names ignore case)",
    );
    assert_err(
        "[reviews.delay_by_category]\n\" \" = \"5d\"\n",
        "reviews.delay_by_category. ",
        "a category name cannot be empty",
    );
}

#[test]
fn unknown_keys_in_the_new_sections_are_named() {
    assert_err(
        "[notifications]\nquiet_hour = { start = \"21:00\" }\n",
        "notifications.quiet_hour",
        "unknown field `quiet_hour`",
    );
    assert_err(
        "[reviews]\ndelay = \"7d\"\n",
        "reviews.delay",
        "unknown field `delay`",
    );
    // Quiet hours live under [notifications], not at the top level.
    assert_err(
        "[quiet_hours]\nstart = \"21:00\"\n",
        "quiet_hours",
        "unknown field `quiet_hours`, expected one of `delay`, `notifications`, `reviews`",
    );
}

/// `COMMAND_KINDS` is exactly the milestones, the delay reasons and review_request.
/// The matches are exhaustive on purpose: a new variant stops this test compiling.
#[test]
fn command_kinds_cover_the_core_enums() {
    let milestones = [
        Milestone::OrderConfirmed,
        Milestone::Shipped,
        Milestone::OutForDelivery,
        Milestone::AvailableForPickup,
        Milestone::FailedAttempt,
        Milestone::Exception,
        Milestone::Delivered,
        Milestone::ReturnedToSender,
    ];
    for m in milestones {
        match m {
            Milestone::OrderConfirmed
            | Milestone::Shipped
            | Milestone::OutForDelivery
            | Milestone::AvailableForPickup
            | Milestone::FailedAttempt
            | Milestone::Exception
            | Milestone::Delivered
            | Milestone::ReturnedToSender => {}
        }
    }
    let reasons = [
        DelayReason::Late,
        DelayReason::PredictedLate,
        DelayReason::NotPickedUp,
        DelayReason::StuckInTransit,
        DelayReason::NotDeliveredToday,
        DelayReason::PresumedLost,
        DelayReason::Damaged,
        DelayReason::Lost,
        DelayReason::Weather,
        DelayReason::Customs,
    ];
    for r in reasons {
        match r {
            DelayReason::Late
            | DelayReason::PredictedLate
            | DelayReason::NotPickedUp
            | DelayReason::StuckInTransit
            | DelayReason::NotDeliveredToday
            | DelayReason::PresumedLost
            | DelayReason::Damaged
            | DelayReason::Lost
            | DelayReason::Weather
            | DelayReason::Customs => {}
        }
    }
    let expected: Vec<String> = milestones
        .iter()
        .map(|m| m.as_str().to_string())
        .chain([
            wismo_core::tracker::RETURNING_TO_SENDER.to_string(),
            "back_on_track".to_string(),
        ])
        .chain(
            reasons
                .iter()
                .map(|r| format!("delay_apology.{}", r.as_str())),
        )
        .chain(["review_request".to_string()])
        .collect();
    assert_eq!(COMMAND_KINDS, expected);
}

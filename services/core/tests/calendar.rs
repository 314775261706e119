//! Business-time arithmetic: worked examples (weekends, holidays, DST, far-off
//! zones, skipped dates) and properties over random calendars and zones.

use chrono::{Duration, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use std::collections::BTreeSet;
use wismo_core::calendar::{end_of_local_day, local_date, BusinessCalendar};
use wismo_core::model::Timestamp;

const CHICAGO: Tz = chrono_tz::America::Chicago;
const NEW_YORK: Tz = chrono_tz::America::New_York;
const BERLIN: Tz = chrono_tz::Europe::Berlin;
const BEIRUT: Tz = chrono_tz::Asia::Beirut;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A wall-clock time that exists exactly once in `tz`.
fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> Timestamp {
    let naive = date(y, m, d).and_hms_opt(h, min, 0).unwrap();
    tz.from_local_datetime(&naive).single().unwrap().to_utc()
}

fn utc(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

fn closed(weekdays: &[Weekday]) -> BusinessCalendar {
    BusinessCalendar {
        closed_weekdays: weekdays.to_vec(),
        holidays: BTreeSet::new(),
    }
}

// ---------------------------------------------------------------- examples

#[test]
fn business_days_are_open_weekdays_that_are_not_holidays() {
    let mut cal = BusinessCalendar::default();
    cal.holidays.insert(date(2026, 5, 25));
    assert!(cal.is_business_day(date(2026, 5, 22))); // Friday
    assert!(!cal.is_business_day(date(2026, 5, 23))); // Saturday
    assert!(!cal.is_business_day(date(2026, 5, 24))); // Sunday
    assert!(!cal.is_business_day(date(2026, 5, 25))); // Memorial Day
    assert!(cal.is_business_day(date(2026, 5, 26))); // Tuesday
}

#[test]
fn friday_evening_plus_two_days_is_tuesday_evening() {
    let cal = BusinessCalendar::default();
    let fri = local(CHICAGO, 2026, 1, 9, 18, 0);
    // 6 h of Friday, all of Monday, 18 h of Tuesday.
    assert_eq!(
        cal.add_business_time(fri, days(2), CHICAGO),
        local(CHICAGO, 2026, 1, 13, 18, 0)
    );
}

#[test]
fn saturday_plus_one_day_is_tuesday_midnight() {
    let cal = BusinessCalendar::default();
    let sat = local(CHICAGO, 2026, 1, 10, 10, 0);
    assert_eq!(
        cal.add_business_time(sat, days(1), CHICAGO),
        local(CHICAGO, 2026, 1, 13, 0, 0)
    );
}

#[test]
fn running_out_at_the_end_of_a_business_day_stops_at_midnight() {
    let cal = BusinessCalendar::default();
    let fri = local(CHICAGO, 2026, 1, 9, 18, 0);
    // Exactly the rest of Friday: the end of Friday, not Monday morning.
    assert_eq!(
        cal.add_business_time(fri, Duration::hours(6), CHICAGO),
        local(CHICAGO, 2026, 1, 10, 0, 0)
    );
    // One more minute has to wait for Monday.
    assert_eq!(
        cal.add_business_time(fri, Duration::minutes(6 * 60 + 1), CHICAGO),
        local(CHICAGO, 2026, 1, 12, 0, 1)
    );
}

#[test]
fn non_positive_amounts_return_the_start_even_on_a_closed_day() {
    let cal = BusinessCalendar::default();
    let sat = local(CHICAGO, 2026, 1, 10, 10, 0);
    assert_eq!(cal.add_business_time(sat, Duration::zero(), CHICAGO), sat);
    assert_eq!(cal.add_business_time(sat, -days(3), CHICAGO), sat);
}

#[test]
fn memorial_day_pushes_the_weekend_out_by_a_day() {
    let mut cal = BusinessCalendar::default();
    cal.holidays.insert(date(2026, 5, 25));
    let fri = local(CHICAGO, 2026, 5, 22, 18, 0);
    // 6 h of Friday; Sat, Sun and the Monday holiday count nothing; 18 h of Tuesday.
    assert_eq!(
        cal.add_business_time(fri, days(1), CHICAGO),
        local(CHICAGO, 2026, 5, 26, 18, 0)
    );
    assert_eq!(
        cal.add_business_time(fri, days(2), CHICAGO),
        local(CHICAGO, 2026, 5, 27, 18, 0)
    );
    let sat = local(CHICAGO, 2026, 5, 23, 10, 0);
    assert_eq!(
        cal.add_business_time(sat, days(1), CHICAGO),
        local(CHICAGO, 2026, 5, 27, 0, 0)
    );
}

#[test]
fn holidays_alone_close_days() {
    let cal = BusinessCalendar {
        closed_weekdays: Vec::new(),
        holidays: [date(2026, 12, 25)].into_iter().collect(),
    };
    let eve = local(CHICAGO, 2026, 12, 24, 12, 0);
    assert_eq!(
        cal.add_business_time(eve, days(1), CHICAGO),
        local(CHICAGO, 2026, 12, 26, 12, 0)
    );
}

#[test]
fn business_time_between_counts_only_business_days() {
    let cal = BusinessCalendar::default();
    let fri = local(CHICAGO, 2026, 1, 9, 18, 0);
    let tue = local(CHICAGO, 2026, 1, 13, 18, 0);
    assert_eq!(cal.business_time_between(fri, tue, CHICAGO), days(2));
    assert_eq!(
        cal.business_time_between(tue, fri, CHICAGO),
        Duration::zero()
    );
    assert_eq!(
        cal.business_time_between(fri, fri, CHICAGO),
        Duration::zero()
    );
    // Entirely inside a weekend.
    let sat = local(CHICAGO, 2026, 1, 10, 1, 0);
    let sun = local(CHICAGO, 2026, 1, 11, 23, 0);
    assert_eq!(
        cal.business_time_between(sat, sun, CHICAGO),
        Duration::zero()
    );
}

#[test]
fn whole_days_over_a_berlin_dst_weekend_keep_the_local_time() {
    let cal = BusinessCalendar::default();
    // Spring forward on Sunday 2026-03-29: the weekend is an hour short, but it is
    // closed, so whole business days still land on the same wall-clock time.
    let fri = local(BERLIN, 2026, 3, 27, 9, 30);
    let wed = local(BERLIN, 2026, 4, 1, 9, 30);
    assert_eq!(cal.add_business_time(fri, days(3), BERLIN), wed);
    assert_eq!(cal.business_time_between(fri, wed, BERLIN), days(3));
    assert_eq!(wed - fri, days(5) - Duration::hours(1));
    // Fall back on Sunday 2026-10-25.
    let fri = local(BERLIN, 2026, 10, 23, 9, 30);
    let mon = local(BERLIN, 2026, 10, 26, 9, 30);
    assert_eq!(cal.add_business_time(fri, days(1), BERLIN), mon);
    assert_eq!(mon - fri, days(3) + Duration::hours(1));
}

#[test]
fn whole_days_over_new_york_dst_weekends_keep_the_local_time() {
    let cal = BusinessCalendar::default();
    // 2026-03-08 springs forward, 2026-11-01 falls back; both Sundays.
    assert_eq!(
        cal.add_business_time(local(NEW_YORK, 2026, 3, 6, 18, 0), days(2), NEW_YORK),
        local(NEW_YORK, 2026, 3, 10, 18, 0)
    );
    assert_eq!(
        cal.add_business_time(local(NEW_YORK, 2026, 10, 30, 18, 0), days(2), NEW_YORK),
        local(NEW_YORK, 2026, 11, 3, 18, 0)
    );
}

#[test]
fn an_open_dst_sunday_counts_its_real_length() {
    // Only Saturday closed: the DST Sunday is a business day of 23 h or 25 h, and
    // business time is real elapsed time, so the wall-clock result shifts an hour.
    let cal = closed(&[Weekday::Sat]);
    // 12 h Friday + 23 h Sunday = 35 h; 13 h of Monday remain.
    assert_eq!(
        cal.add_business_time(local(NEW_YORK, 2026, 3, 6, 12, 0), days(2), NEW_YORK),
        local(NEW_YORK, 2026, 3, 9, 13, 0)
    );
    // 12 h Friday + 25 h Sunday = 37 h; 11 h of Monday remain.
    assert_eq!(
        cal.add_business_time(local(NEW_YORK, 2026, 10, 30, 12, 0), days(2), NEW_YORK),
        local(NEW_YORK, 2026, 11, 2, 11, 0)
    );
}

#[test]
fn days_are_local_dates_not_utc_dates_east_of_utc() {
    let tz = chrono_tz::Pacific::Kiritimati; // UTC+14
    let cal = BusinessCalendar::default();
    let fri = local(tz, 2026, 1, 9, 8, 0);
    assert_eq!(fri, utc("2026-01-08T18:00:00Z")); // still Thursday in UTC
    assert_eq!(local_date(fri, tz), date(2026, 1, 9));
    // 16 h of Friday, then 8 h of Monday, which is still Sunday in UTC.
    let mon = cal.add_business_time(fri, days(1), tz);
    assert_eq!(mon, local(tz, 2026, 1, 12, 8, 0));
    assert_eq!(mon, utc("2026-01-11T18:00:00Z"));
    // A UTC-based walk would have counted the UTC Sunday here instead.
    assert_eq!(
        cal.business_time_between(utc("2026-01-10T10:00:00Z"), mon, tz),
        Duration::hours(8)
    );
}

#[test]
fn days_are_local_dates_not_utc_dates_west_of_utc() {
    let tz = chrono_tz::Pacific::Pago_Pago; // UTC-11
    let cal = BusinessCalendar::default();
    let fri = local(tz, 2026, 1, 9, 20, 0);
    assert_eq!(fri, utc("2026-01-10T07:00:00Z")); // already Saturday in UTC
    assert_eq!(
        cal.add_business_time(fri, Duration::hours(4), tz),
        utc("2026-01-10T11:00:00Z") // local midnight ending Friday
    );
    assert_eq!(
        cal.add_business_time(fri, Duration::hours(5), tz),
        utc("2026-01-12T12:00:00Z") // Monday 01:00 local
    );
}

#[test]
fn end_of_local_day_around_new_york_dst() {
    // The day before spring forward ends at an ordinary EST midnight...
    assert_eq!(
        end_of_local_day(date(2026, 3, 7), NEW_YORK),
        utc("2026-03-08T05:00:00Z")
    );
    // ...and the spring-forward Sunday lasts 23 h, the fall-back Sunday 25 h.
    let day = |d: NaiveDate| {
        end_of_local_day(d, NEW_YORK) - end_of_local_day(d.pred_opt().unwrap(), NEW_YORK)
    };
    assert_eq!(day(date(2026, 3, 8)), Duration::hours(23));
    assert_eq!(day(date(2026, 3, 9)), Duration::hours(24));
    assert_eq!(day(date(2026, 11, 1)), Duration::hours(25));
}

#[test]
fn end_of_local_day_when_dst_skips_midnight() {
    // Beirut springs forward at 00:00 (+02) to 01:00 (+03) on Sunday 2026-03-29:
    // Saturday ends at the transition, which reads 01:00 on Sunday.
    let end = end_of_local_day(date(2026, 3, 28), BEIRUT);
    assert_eq!(end, utc("2026-03-28T22:00:00Z"));
    assert_eq!(
        end.with_timezone(&BEIRUT).naive_local(),
        date(2026, 3, 29).and_hms_opt(1, 0, 0).unwrap()
    );
    // The same with São Paulo's 2018 rules (midnight to 01:00, -03 to -02).
    let sao_paulo = chrono_tz::America::Sao_Paulo;
    assert_eq!(
        end_of_local_day(date(2018, 11, 3), sao_paulo),
        utc("2018-11-04T03:00:00Z")
    );
    // Business time: Friday 2026-03-27 noon + 1 day in Beirut is Monday noon, with
    // the 23 h weekend closed.
    let cal = BusinessCalendar::default();
    assert_eq!(
        cal.add_business_time(local(BEIRUT, 2026, 3, 27, 12, 0), days(1), BEIRUT),
        local(BEIRUT, 2026, 3, 30, 12, 0)
    );
}

#[test]
fn end_of_local_day_when_dst_repeats_midnight_takes_the_earlier() {
    // Havana falls back at 01:00 (-04) to 00:00 (-05) on Sunday 2026-11-01, so
    // Sunday's midnight happens twice, at 04:00Z and 05:00Z.
    let havana = chrono_tz::America::Havana;
    let sat_end = end_of_local_day(date(2026, 10, 31), havana);
    assert_eq!(sat_end, utc("2026-11-01T04:00:00Z"));
    // The repeated first hour belongs to Sunday, which lasts 25 h.
    let sun_end = end_of_local_day(date(2026, 11, 1), havana);
    assert_eq!(sun_end - sat_end, Duration::hours(25));
    let cal = closed(&[Weekday::Sat]);
    assert_eq!(
        cal.business_time_between(local(havana, 2026, 10, 31, 12, 0), sun_end, havana),
        Duration::hours(25)
    );
}

#[test]
fn a_fold_just_before_midnight_lengthens_the_earlier_day() {
    // Beirut falls back at 00:00 (+03) to 23:00 (+02) on 2026-10-25: Saturday's
    // last hour repeats and Sunday's midnight happens only once.
    let sat_end = end_of_local_day(date(2026, 10, 24), BEIRUT);
    assert_eq!(sat_end, utc("2026-10-24T22:00:00Z"));
    let sat_start = end_of_local_day(date(2026, 10, 23), BEIRUT);
    assert_eq!(sat_end - sat_start, Duration::hours(25));
    // With only Sunday closed, Saturday 00:00 + 24 h ends in the repeated hour.
    let cal = closed(&[Weekday::Sun]);
    let end = cal.add_business_time(sat_start, days(1), BEIRUT);
    assert_eq!(end, utc("2026-10-24T21:00:00Z"));
    assert_eq!(
        end.with_timezone(&BEIRUT).naive_local(),
        date(2026, 10, 24).and_hms_opt(23, 0, 0).unwrap()
    );
    // Saturday 00:00 + 25 h is the end of Saturday, and then Monday.
    assert_eq!(
        cal.add_business_time(sat_start, Duration::hours(25), BEIRUT),
        sat_end
    );
    assert_eq!(
        cal.add_business_time(sat_start, Duration::hours(26), BEIRUT),
        local(BEIRUT, 2026, 10, 26, 1, 0)
    );
}

#[test]
fn a_fold_across_midnight_gives_the_repeated_stretch_to_the_next_day() {
    // Goose Bay fell back at 00:01 (-03) to 23:01 (-04) Saturday on 2010-11-07:
    // Sunday began at 03:00Z, then 59 minutes reading "Saturday 23:01..23:59"
    // repeated, then Sunday's midnight came round again at 04:00Z.
    let tz = chrono_tz::America::Goose_Bay;
    let sat_end = end_of_local_day(date(2010, 11, 6), tz);
    assert_eq!(sat_end, utc("2010-11-07T03:00:00Z"));
    let repeated = utc("2010-11-07T03:30:00Z");
    assert_eq!(local_date(repeated, tz), date(2010, 11, 6));
    // Those minutes lie after Saturday's end, so they count as Sunday: with Sunday
    // closed they count nothing, though they read as (open) Saturday.
    let cal = closed(&[Weekday::Sun]);
    let mon = local(tz, 2010, 11, 8, 0, 1);
    assert_eq!(
        cal.add_business_time(repeated, Duration::minutes(1), tz),
        mon
    );
    assert_eq!(
        cal.business_time_between(repeated, mon, tz),
        Duration::minutes(1)
    );
    let sat_2200 = utc("2010-11-07T01:00:00Z");
    assert_eq!(
        cal.business_time_between(sat_2200, mon, tz),
        Duration::hours(2) + Duration::minutes(1)
    );
}

#[test]
fn a_skipped_date_lasts_no_time() {
    // Samoa skipped Friday 2011-12-30: Thursday 23:59:59 (-10) was followed by
    // Saturday 00:00 (+14).
    let apia = chrono_tz::Pacific::Apia;
    let thu_end = end_of_local_day(date(2011, 12, 29), apia);
    assert_eq!(thu_end, utc("2011-12-30T10:00:00Z"));
    assert_eq!(end_of_local_day(date(2011, 12, 30), apia), thu_end);
    // Thursday noon + 1 day: 12 h Thursday, nothing on the missing Friday or the
    // weekend, 12 h of Monday 2012-01-02.
    let cal = BusinessCalendar::default();
    let thu = local(apia, 2011, 12, 29, 12, 0);
    let mon = local(apia, 2012, 1, 2, 12, 0);
    assert_eq!(cal.add_business_time(thu, days(1), apia), mon);
    assert_eq!(cal.business_time_between(thu, mon, apia), days(1));
}

#[test]
fn always_open_is_plain_addition_even_across_dst() {
    let cal = BusinessCalendar::always_open();
    for tz in [NEW_YORK, BERLIN, BEIRUT, chrono_tz::Pacific::Apia] {
        for start in [
            utc("2026-03-06T23:00:00Z"),
            utc("2026-10-24T20:30:00Z"),
            utc("2011-12-29T12:00:00Z"),
        ] {
            for amount in [
                Duration::minutes(1),
                days(1),
                days(9) + Duration::seconds(7),
            ] {
                let end = cal.add_business_time(start, amount, tz);
                assert_eq!(end, start + amount);
                assert_eq!(cal.business_time_between(start, end, tz), amount);
            }
        }
    }
}

#[test]
fn a_calendar_closed_every_weekday_is_treated_as_always_open() {
    // Documented choice: rather than never accumulating time (so a "stuck" alarm
    // could never fire), an all-closed calendar counts everything, holidays too.
    let cal = BusinessCalendar {
        closed_weekdays: vec![
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ],
        holidays: [date(2026, 1, 12)].into_iter().collect(),
    };
    assert!(!cal.is_business_day(date(2026, 1, 13)));
    let start = local(CHICAGO, 2026, 1, 9, 18, 0);
    assert_eq!(
        cal.add_business_time(start, days(3), CHICAGO),
        start + days(3)
    );
    assert_eq!(
        cal.business_time_between(start, start + days(3), CHICAGO),
        days(3)
    );
}

// -------------------------------------------------------------- properties

const ZONES: [Tz; 10] = [
    chrono_tz::UTC,
    CHICAGO,
    NEW_YORK,
    BERLIN,
    BEIRUT,
    chrono_tz::Pacific::Kiritimati,
    chrono_tz::Pacific::Pago_Pago,
    chrono_tz::Australia::Lord_Howe, // 30-minute DST
    chrono_tz::Asia::Kolkata,
    chrono_tz::America::Santiago,
];

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// An instant in 2025..2028, to the millisecond.
fn instant() -> impl Strategy<Value = Timestamp> {
    let span_ms = (4 * 365 + 1) * 86_400_000i64;
    (0..span_ms).prop_map(|ms| utc("2025-01-01T00:00:00Z") + Duration::milliseconds(ms))
}

/// Up to 30 days, in whole minutes.
fn amount() -> impl Strategy<Value = Duration> {
    (0i64..=30 * 24 * 60).prop_map(Duration::minutes)
}

/// A calendar with at least one open weekday and a few holidays near `start`.
fn calendar_near(start: Timestamp) -> impl Strategy<Value = BusinessCalendar> {
    let first = start.date_naive() - Duration::days(2);
    (0u8..127, proptest::collection::btree_set(0i64..60, 0..4)).prop_map(move |(mask, offsets)| {
        BusinessCalendar {
            closed_weekdays: WEEKDAYS
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, w)| *w)
                .collect(),
            holidays: offsets.iter().map(|o| first + Duration::days(*o)).collect(),
        }
    })
}

fn case() -> impl Strategy<Value = (Timestamp, Tz, BusinessCalendar)> {
    (instant(), proptest::sample::select(ZONES.to_vec()))
        .prop_flat_map(|(start, tz)| (Just(start), Just(tz), calendar_near(start)))
}

/// The day whose stretch of the timeline, (previous end, end], holds `t`. Usually
/// `t`'s local date; the previous date when `t` is exactly a day boundary; the
/// next date inside an hour that a fold at midnight repeats.
fn owning_day(t: Timestamp, tz: Tz) -> NaiveDate {
    let d = local_date(t, tz);
    let prev = d.pred_opt().unwrap();
    if t <= end_of_local_day(prev, tz) {
        prev
    } else if t > end_of_local_day(d, tz) {
        d.succ_opt().unwrap()
    } else {
        d
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn result_is_not_before_start((start, tz, cal) in case(), a in amount()) {
        prop_assert!(cal.add_business_time(start, a, tz) >= start);
    }

    #[test]
    fn between_inverts_add_exactly((start, tz, cal) in case(), a in amount()) {
        let end = cal.add_business_time(start, a, tz);
        let back = cal.business_time_between(start, end, tz);
        prop_assert_eq!(back.num_milliseconds(), a.num_milliseconds());
        prop_assert_eq!(back, a);
    }

    #[test]
    fn add_is_monotonic_in_amount((start, tz, cal) in case(), a in amount(), b in amount()) {
        let (small, large) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(cal.add_business_time(start, small, tz) <= cal.add_business_time(start, large, tz));
    }

    /// In the brief's terms: the result's local date is a business day, or the
    /// result is the boundary right after one (checked via `owning_day`, which also
    /// gets fold-repeated hours right).
    #[test]
    fn result_never_lies_strictly_inside_a_closed_day((start, tz, cal) in case(), a in amount()) {
        prop_assume!(a > Duration::zero());
        let end = cal.add_business_time(start, a, tz);
        let day = owning_day(end, tz);
        prop_assert!(
            cal.is_business_day(day),
            "{end} ({}) is in closed day {day}",
            end.with_timezone(&tz)
        );
    }

    #[test]
    fn add_is_additive((start, tz, cal) in case(), a in amount(), b in amount()) {
        let stepwise = cal.add_business_time(cal.add_business_time(start, a, tz), b, tz);
        prop_assert_eq!(stepwise, cal.add_business_time(start, a + b, tz));
    }

    #[test]
    fn add_after_between_does_not_overshoot((start, tz, cal) in case(), offset in -86_400_000i64..60 * 86_400_000) {
        let to = start + Duration::milliseconds(offset);
        let counted = cal.business_time_between(start, to, tz);
        let reached = cal.add_business_time(start, counted, tz);
        prop_assert!(reached <= to.max(start));
        prop_assert_eq!(cal.business_time_between(start, reached, tz), counted);
    }
}

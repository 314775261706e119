//! Business calendars: which days count, and adding "business time" to an instant.
//!
//! Days are the local calendar dates of a time zone. The timeline is cut into days
//! at [`end_of_local_day`], so every instant belongs to exactly one day and a day
//! lasts whatever it really lasts (23 or 25 hours across a DST change, or nothing at
//! all when a zone skipped a date). Business time is real elapsed time on business
//! days, which makes [`BusinessCalendar::add_business_time`] and
//! [`BusinessCalendar::business_time_between`] exact inverses.

use crate::model::Timestamp;
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Weekday,
};
use chrono_tz::Tz;
use std::collections::BTreeSet;

mod holidays;
mod lane;

pub use holidays::{HolidayError, HolidayTables};
pub use lane::LaneCalendar;

/// The days a carrier moves parcels. Time on other days does not count towards a
/// "stuck" threshold, so a quiet Sunday raises no alarm.
///
/// A calendar that closes all seven weekdays would never accumulate business time,
/// so a threshold measured with it could never fire. Such a calendar is treated as
/// [`BusinessCalendar::always_open`] by the time arithmetic (its holidays are ignored too):
/// a misconfiguration should make alarms noisy, not silent.
/// [`BusinessCalendar::is_business_day`] still answers literally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    pub closed_weekdays: Vec<Weekday>,
    pub holidays: BTreeSet<NaiveDate>,
}

impl Default for BusinessCalendar {
    fn default() -> Self {
        BusinessCalendar {
            closed_weekdays: vec![Weekday::Sat, Weekday::Sun],
            holidays: BTreeSet::new(),
        }
    }
}

impl BusinessCalendar {
    /// Every day counts.
    pub fn always_open() -> Self {
        BusinessCalendar {
            closed_weekdays: Vec::new(),
            holidays: BTreeSet::new(),
        }
    }

    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        Days::is_business_day(self, date)
    }

    /// See [`add_business_time`].
    pub fn add_business_time(&self, start: Timestamp, amount: Duration, tz: Tz) -> Timestamp {
        add_business_time(self, start, amount, tz)
    }

    /// See [`business_time_between`].
    pub fn business_time_between(&self, from: Timestamp, to: Timestamp, tz: Tz) -> Duration {
        business_time_between(self, from, to, tz)
    }
}

/// Which local dates count as business days.
pub trait Days {
    fn is_business_day(&self, date: NaiveDate) -> bool;
    /// Whether the time arithmetic reduces to plain elapsed time: nothing closed, or
    /// (see [`BusinessCalendar`]) every weekday closed.
    fn counts_everything(&self) -> bool;
}

impl Days for BusinessCalendar {
    fn is_business_day(&self, date: NaiveDate) -> bool {
        !self.closed_weekdays.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    fn counts_everything(&self) -> bool {
        let nothing_closed = self.closed_weekdays.is_empty() && self.holidays.is_empty();
        nothing_closed || closes_every_weekday(&self.closed_weekdays)
    }
}

pub(crate) fn closes_every_weekday(closed: &[Weekday]) -> bool {
    ALL_WEEKDAYS.iter().all(|w| closed.contains(w))
}

/// The instant at which `amount` of business time has passed since `start`,
/// counting only time on business days (local dates in `tz`).
///
/// If `amount` runs out exactly at the end of a business day, the result is that
/// day's end (the next local midnight), even when the next day is closed.
/// A non-positive `amount` returns `start`.
pub fn add_business_time(
    days: &impl Days,
    start: Timestamp,
    amount: Duration,
    tz: Tz,
) -> Timestamp {
    if amount <= Duration::zero() {
        return start;
    }
    if days.counts_everything() {
        return plus(start, amount);
    }
    let mut remaining = amount;
    let mut t = start;
    let mut day = local_date(start, tz);
    loop {
        // `max`: where a fold spans midnight (America/Goose_Bay fell back from
        // 00:01 to 23:01 until 2010), `t` can read as a date that has already
        // ended; that repeated stretch belongs to the next day.
        let end = end_of_local_day(day, tz).max(t);
        if days.is_business_day(day) {
            let available = end - t;
            if remaining <= available {
                return plus(t, remaining);
            }
            remaining -= available;
        }
        // At the end of chrono's range the walk stops: the instant never comes.
        let Some(next) = next_day(day).filter(|_| end < LATEST) else {
            return LATEST;
        };
        t = end;
        day = next;
    }
}

/// Business time between `from` and `to` (zero if `to` is not after `from`).
pub fn business_time_between(days: &impl Days, from: Timestamp, to: Timestamp, tz: Tz) -> Duration {
    if to <= from {
        return Duration::zero();
    }
    if days.counts_everything() {
        return to - from;
    }
    let mut total = Duration::zero();
    let mut t = from;
    let mut day = local_date(from, tz);
    // Same walk as `add_business_time`, so the two stay exact inverses.
    while t < to {
        let end = end_of_local_day(day, tz).max(t).min(to);
        if days.is_business_day(day) {
            total += end - t;
        }
        let Some(next) = next_day(day) else {
            break;
        };
        t = end;
        day = next;
    }
    total
}

/// The last instant chrono represents: where saturated time arithmetic ends.
pub const LATEST: Timestamp = DateTime::<chrono::Utc>::MAX_UTC;

/// `t + d`, saturating at chrono's range instead of panicking: times from outside
/// (a scan's, a shipment's) go into deadlines, and no input may stop a decision.
pub fn plus(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add_signed(d).unwrap_or(if d < Duration::zero() {
        DateTime::<chrono::Utc>::MIN_UTC
    } else {
        LATEST
    })
}

const ALL_WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn next_day(date: NaiveDate) -> Option<NaiveDate> {
    date.succ_opt()
}

/// The local calendar date of `t` in `tz` (its UTC date at the very ends of
/// chrono's range, where the local reading does not exist).
pub fn local_date(t: Timestamp, tz: Tz) -> NaiveDate {
    local_naive(t, tz).map_or(t.date_naive(), |l| l.date())
}

/// What a clock in `tz` reads at `t`, if chrono can represent it (chrono's own
/// `naive_local` panics at the ends of its range).
pub fn local_naive(t: Timestamp, tz: Tz) -> Option<NaiveDateTime> {
    let offset = tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    t.naive_utc().checked_add_offset(offset)
}

/// The first instant after `date` ends in `tz` (local midnight starting the next
/// day, or the first valid instant after it where DST skips midnight).
///
/// When midnight happens twice (clocks go back across it) the earlier one ends the
/// day. When a zone skipped whole dates (Pacific/Apia 2011-12-30), the skipped date
/// ends where it starts: it lasts zero time.
/// The last date has no end chrono can represent: it ends at [`LATEST`].
pub fn end_of_local_day(date: NaiveDate, tz: Tz) -> Timestamp {
    let Some(midnight) = next_day(date).map(|d| d.and_time(NaiveTime::MIN)) else {
        return LATEST;
    };
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => t.to_utc(),
        LocalResult::Ambiguous(a, b) => a.min(b).to_utc(),
        LocalResult::None => first_instant_reading_at_least(midnight, tz),
    }
}

/// The first instant whose local clock in `tz` reads `local` or later, for a `local`
/// that falls in a DST gap. chrono-tz does not expose transition instants, so binary
/// search the UTC timeline, at whole seconds (tz transitions are whole seconds).
/// Offsets stay well within ±26 h, so the answer lies in the starting bracket, and
/// local time only jumps forward around a gap, so the test is monotone there.
fn first_instant_reading_at_least(local: NaiveDateTime, tz: Tz) -> Timestamp {
    let reads_at_least = |secs: i64| local_naive(at_second(secs), tz).is_none_or(|l| l >= local);
    let bracket = Duration::hours(26).num_seconds();
    let naive_utc_secs = local.and_utc().timestamp();
    // Invariant: `lo` reads earlier than `local`, `hi` reads at least `local`.
    let (mut lo, mut hi) = (naive_utc_secs - bracket, naive_utc_secs + bracket);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reads_at_least(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    at_second(hi)
}

/// The instant `secs` after the epoch, clamped to chrono's range.
fn at_second(secs: i64) -> Timestamp {
    DateTime::from_timestamp(secs, 0).unwrap_or(if secs < 0 {
        DateTime::<chrono::Utc>::MIN_UTC
    } else {
        LATEST
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn gap_search_finds_the_transition_instant() {
        // Beirut springs forward at 00:00 (+02) to 01:00 (+03) on 2026-03-29.
        let midnight = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_time(NaiveTime::MIN);
        assert_eq!(
            first_instant_reading_at_least(midnight, chrono_tz::Asia::Beirut),
            utc("2026-03-28T22:00:00Z")
        );
    }

    #[test]
    fn gap_search_agrees_with_chrono_tz_outside_gaps() {
        let tz = chrono_tz::America::New_York;
        for (y, m, d) in [(2026, 1, 15), (2026, 3, 8), (2026, 3, 9), (2026, 7, 4)] {
            let local = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(5, 30, 0)
                .unwrap();
            let expected = tz.from_local_datetime(&local).unwrap().to_utc();
            assert_eq!(first_instant_reading_at_least(local, tz), expected);
        }
    }

    #[test]
    fn all_weekdays_closed_counts_everything() {
        let cal = BusinessCalendar {
            closed_weekdays: ALL_WEEKDAYS.to_vec(),
            holidays: BTreeSet::new(),
        };
        assert!(Days::counts_everything(&cal));
        assert!(!Days::counts_everything(&BusinessCalendar::default()));
        assert!(Days::counts_everything(&BusinessCalendar::always_open()));
    }
}

//! Business calendars: which days count, and adding "business time" to an instant.
//! PLACEHOLDER interface; the implementation and its tests are being written.

use crate::model::Timestamp;
use chrono::{Duration, NaiveDate, Weekday};
use chrono_tz::Tz;
use std::collections::BTreeSet;

/// The days a carrier moves parcels. Time on other days does not count towards a
/// "stuck" threshold, so a quiet Sunday raises no alarm.
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

    pub fn is_business_day(&self, _date: NaiveDate) -> bool {
        todo!()
    }

    /// The instant at which `amount` of business time has passed since `start`,
    /// counting only time on business days (local dates in `tz`).
    pub fn add_business_time(&self, _start: Timestamp, _amount: Duration, _tz: Tz) -> Timestamp {
        todo!()
    }

    /// Business time between `from` and `to` (zero if `to` is not after `from`).
    pub fn business_time_between(&self, _from: Timestamp, _to: Timestamp, _tz: Tz) -> Duration {
        todo!()
    }
}

/// The local calendar date of `t` in `tz`.
pub fn local_date(t: Timestamp, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// The first instant after `date` ends in `tz` (local midnight starting the next
/// day, or the first valid instant after it where DST skips midnight).
pub fn end_of_local_day(_date: NaiveDate, _tz: Tz) -> Timestamp {
    todo!()
}

//! Quiet hours: a daily window, in the recipient's local time, when nothing is sent.

use crate::model::Timestamp;
use chrono::{Duration, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Quiet from `start` until `end` local time; wraps midnight when `start > end`
/// (the usual 21:00–08:00). `start == end` means never quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
        }
    }
}

impl QuietHours {
    pub fn is_quiet(&self, t: Timestamp, tz: Tz) -> bool {
        let local = t.with_timezone(&tz).time();
        if self.start == self.end {
            false
        } else if self.start < self.end {
            local >= self.start && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }

    /// `t` itself when it is allowed, else the first allowed instant after it: the
    /// end of the quiet period in local time (DST-correct; if that local time does
    /// not exist that day, the first instant after the gap).
    pub fn next_allowed(&self, t: Timestamp, tz: Tz) -> Timestamp {
        if !self.is_quiet(t, tz) {
            return t;
        }
        let local = t.with_timezone(&tz);
        // The quiet period ends today (after midnight) or tomorrow (before midnight).
        let end_date = if local.time() < self.end {
            local.date_naive()
        } else {
            local.date_naive() + Duration::days(1)
        };
        let naive_end = end_date.and_time(self.end);
        match tz.from_local_datetime(&naive_end) {
            chrono::LocalResult::Single(x) => x.with_timezone(&chrono::Utc),
            chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&chrono::Utc),
            chrono::LocalResult::None => {
                // Inside a DST gap: step forward minute by minute to the first real instant.
                (1..=180)
                    .map(|m| naive_end + Duration::minutes(m))
                    .find_map(|n| tz.from_local_datetime(&n).earliest())
                    .map_or(t + Duration::hours(1), |x| x.with_timezone(&chrono::Utc))
            }
        }
    }
}

//! Quiet hours: a daily window, in the recipient's local time, when nothing is sent.

use crate::calendar::{local_naive, plus};
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

    /// `t` itself when it is allowed, else the first allowed instant after it (to
    /// the minute): normally the local end of the quiet period, DST-correct. Where
    /// that lies beyond chrono's range, `t`.
    pub fn next_allowed(&self, t: Timestamp, tz: Tz) -> Timestamp {
        if !self.is_quiet(t, tz) {
            return t;
        }
        let end = self.end_after(t, tz);
        if t.with_timezone(&tz).offset() == end.with_timezone(&tz).offset() {
            return end;
        }
        // A DST change lies in between and may reopen the window earlier (a
        // fall-back hour before the quiet start): find the first allowed minute.
        let next_minute = t
            .timestamp_millis()
            .div_euclid(60_000)
            .saturating_add(1)
            .saturating_mul(60_000);
        let mut x = chrono::DateTime::from_timestamp_millis(next_minute).unwrap_or(end);
        while x < end {
            if !self.is_quiet(x, tz) {
                return x;
            }
            x = plus(x, Duration::minutes(1));
        }
        end
    }

    /// The first instant at or after `t` where the local clock reads `end` and the
    /// window is open; skips a day whose `end` falls in a DST gap that is still quiet.
    fn end_after(&self, t: Timestamp, tz: Tz) -> Timestamp {
        let Some(local) = local_naive(t, tz) else {
            return t;
        };
        let first = if local.time() < self.end {
            Some(local.date())
        } else {
            local.date().succ_opt()
        };
        for days in 0..4 {
            let Some(naive) = first
                .and_then(|f| f.checked_add_days(chrono::Days::new(days)))
                .map(|d| d.and_time(self.end))
            else {
                return t;
            };
            let at = match tz.from_local_datetime(&naive) {
                chrono::LocalResult::Single(x) => Some(x),
                // A repeated hour: the pass that is not before `t`.
                chrono::LocalResult::Ambiguous(a, b) => {
                    Some(if a.with_timezone(&chrono::Utc) >= t {
                        a
                    } else {
                        b
                    })
                }
                // Inside a DST gap: the first real instant after it.
                chrono::LocalResult::None => (1..=180)
                    .filter_map(|m| naive.checked_add_signed(Duration::minutes(m)))
                    .find_map(|n| tz.from_local_datetime(&n).earliest()),
            };
            if let Some(at) = at.map(|x| x.with_timezone(&chrono::Utc)) {
                if at >= t && !self.is_quiet(at, tz) {
                    return at;
                }
            }
        }
        // Only zones that skipped whole days get here.
        plus(t, Duration::days(1))
    }
}

//! The calendar a parcel travels on: its carrier's closed weekdays and holidays,
//! plus the public holidays of the countries involved (the carrier's home country
//! and the lane's origin and destination), borrowed, so building one is cheap.

use super::{closes_every_weekday, BusinessCalendar, Days};
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub struct LaneCalendar<'a> {
    pub base: &'a BusinessCalendar,
    /// Further holiday sets (one per country) that close a day too.
    pub holidays: Vec<&'a BTreeSet<NaiveDate>>,
}

impl<'a> LaneCalendar<'a> {
    pub fn new(base: &'a BusinessCalendar) -> Self {
        LaneCalendar {
            base,
            holidays: Vec::new(),
        }
    }

    /// Adds a country's holidays, once.
    pub fn with(mut self, set: Option<&'a BTreeSet<NaiveDate>>) -> Self {
        if let Some(set) = set {
            if !self.holidays.iter().any(|s| std::ptr::eq(*s, set)) {
                self.holidays.push(set);
            }
        }
        self
    }

    /// Whether `date` is a public holiday of one of the lane's countries (not a
    /// closed weekday of the carrier).
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.base.holidays.contains(&date) || self.holidays.iter().any(|s| s.contains(&date))
    }
}

impl Days for LaneCalendar<'_> {
    fn is_business_day(&self, date: NaiveDate) -> bool {
        !self.base.closed_weekdays.contains(&date.weekday()) && !self.is_holiday(date)
    }

    fn counts_everything(&self) -> bool {
        let no_holidays =
            self.base.holidays.is_empty() && self.holidays.iter().all(|s| s.is_empty());
        (self.base.closed_weekdays.is_empty() && no_holidays)
            || closes_every_weekday(&self.base.closed_weekdays)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::add_business_time;
    use chrono::TimeZone;

    #[test]
    fn a_country_holiday_closes_the_day_once_however_often_it_is_added() {
        let base = BusinessCalendar::default();
        let july3: BTreeSet<NaiveDate> = [NaiveDate::from_ymd_opt(2026, 7, 3).unwrap()].into();
        let lane = LaneCalendar::new(&base)
            .with(Some(&july3))
            .with(Some(&july3));
        assert_eq!(lane.holidays.len(), 1);
        // Thursday 2 July 12:00 UTC + 1 business day, Friday a holiday, weekend closed.
        let tz = chrono_tz::UTC;
        let start = chrono::Utc.with_ymd_and_hms(2026, 7, 2, 12, 0, 0).unwrap();
        assert_eq!(
            add_business_time(&lane, start, chrono::Duration::days(1), tz),
            chrono::Utc.with_ymd_and_hms(2026, 7, 6, 12, 0, 0).unwrap()
        );
    }
}

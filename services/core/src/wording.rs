//! Wording shared by the reasons people read (dead letters, logs).

/// `72h`, `90m` or `5s`: a duration in its largest whole unit.
pub fn short_duration(d: chrono::Duration) -> String {
    match d.num_seconds() {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// `400 days`, `3 hours`, `12 minutes`, `5 seconds`: a span in its largest unit
/// that has at least two of it (one for seconds), rounded down; for reasons.
pub fn rough_duration(d: chrono::Duration) -> String {
    let s = d.num_seconds().unsigned_abs();
    match s {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 2 * 3600 => format!("{} hours", s / 3600),
        s if s >= 2 * 60 => format!("{} minutes", s / 60),
        1 => "1 second".to_string(),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn durations_read_in_their_largest_whole_unit() {
        assert_eq!(short_duration(Duration::hours(72)), "72h");
        assert_eq!(short_duration(Duration::minutes(90)), "90m");
        assert_eq!(short_duration(Duration::seconds(5)), "5s");
    }

    #[test]
    fn rough_durations_round_down_in_a_unit_people_read() {
        assert_eq!(rough_duration(Duration::days(365)), "365 days");
        assert_eq!(rough_duration(Duration::hours(47)), "47 hours");
        assert_eq!(rough_duration(Duration::minutes(61)), "61 minutes");
        assert_eq!(rough_duration(Duration::seconds(1)), "1 second");
        assert_eq!(
            rough_duration(Duration::milliseconds(-90_000)),
            "90 seconds"
        );
    }
}

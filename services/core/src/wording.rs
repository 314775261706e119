//! Wording shared by the reasons people read (dead letters, logs).

/// `72h`, `90m` or `5s`: a duration in its largest whole unit.
pub fn short_duration(d: chrono::Duration) -> String {
    match d.num_seconds() {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
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
}

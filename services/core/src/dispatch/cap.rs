//! The per-recipient cap: at most `per_recipient_max` commands per recipient per
//! `per_recipient_period` (a burst of that many, refilling evenly).
//!
//! It is `governor`'s GCRA, whose whole state for one recipient is one number (the
//! theoretical arrival time). That number is kept in the recipient's own state,
//! so the cap survives restarts and rebalances with it (changelog and all), and
//! the limiter runs on the decision's clock (nanoseconds since the epoch), so the
//! same commands at the same times are admitted the same way live and in replay.

use crate::model::Timestamp;
use crate::policy::NotificationPolicy;
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{NotKeyed, StateStore};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// No arrival yet (a full bucket).
const FULL: u64 = u64::MAX;

/// The one recipient being checked: its GCRA state, lent for the check.
#[derive(Clone, Default)]
struct Lent(Arc<AtomicU64>);

impl StateStore for Lent {
    type Key = NotKeyed;

    fn measure_and_replace<T, F, E>(&self, _: &NotKeyed, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let tat = self.0.load(Ordering::Relaxed);
        let (out, next) = f((tat != FULL).then(|| Nanos::from(tat)))?;
        self.0.store(next.as_u64(), Ordering::Relaxed);
        Ok(out)
    }
}

/// The decision's time, in nanoseconds since the epoch.
#[derive(Clone, Default)]
struct DecisionClock(Arc<AtomicU64>);

impl Clock for DecisionClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.0.load(Ordering::Relaxed))
    }
}

fn nanos(t: Timestamp) -> u64 {
    t.timestamp_nanos_opt()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(if t.timestamp() < 0 { 0 } else { FULL - 1 })
}

fn timestamp(n: u64) -> Timestamp {
    chrono::DateTime::from_timestamp_nanos(i64::try_from(n).unwrap_or(i64::MAX))
}

pub struct RecipientCap {
    limiter: RateLimiter<NotKeyed, Lent, DecisionClock, NoOpMiddleware<Nanos>>,
    state: Lent,
    clock: DecisionClock,
}

impl RecipientCap {
    pub fn new(policy: &NotificationPolicy) -> Self {
        let max = NonZeroU32::new(policy.per_recipient_max.max(1)).unwrap_or(NonZeroU32::MIN);
        let refill = (policy.per_recipient_period / max.get() as i32)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(1))
            .max(std::time::Duration::from_millis(1));
        let quota = Quota::with_period(refill)
            .unwrap_or(Quota::per_second(max))
            .allow_burst(max);
        let (state, clock) = (Lent::default(), DecisionClock::default());
        RecipientCap {
            // Built while the clock reads 0, so its reference time is the epoch.
            limiter: RateLimiter::new(quota, state.clone(), clock.clone()),
            state,
            clock,
        }
    }

    /// Admits one more command for the recipient whose cap state is `tat` at
    /// `now` (updating `tat`), or tells the earliest instant one would be admitted.
    pub fn check(&self, tat: &mut Option<u64>, now: Timestamp) -> Result<(), Timestamp> {
        self.state.0.store(tat.unwrap_or(FULL), Ordering::Relaxed);
        self.clock.0.store(nanos(now), Ordering::Relaxed);
        let result = self.limiter.check();
        let after = self.state.0.load(Ordering::Relaxed);
        *tat = (after != FULL).then_some(after);
        result.map_err(|not_until| timestamp(not_until.earliest_possible().as_u64()).max(now))
    }

    /// Whether a recipient with cap state `tat` is back to a full burst at `now`:
    /// its state then says no more than no state would.
    pub fn is_full(tat: Option<u64>, now: Timestamp) -> bool {
        tat.is_none_or(|t| t <= nanos(now))
    }

    /// When the recipient's cap is full again.
    pub fn full_at(tat: Option<u64>) -> Option<Timestamp> {
        tat.map(timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(s: i64) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap() + Duration::seconds(s)
    }

    #[test]
    fn a_storm_is_capped_per_recipient_and_refills() {
        let policy = NotificationPolicy {
            per_recipient_max: 3,
            per_recipient_period: Duration::hours(1),
            ..NotificationPolicy::default()
        };
        let cap = RecipientCap::new(&policy);
        let (mut alice, mut bob) = (None, None);
        let admitted = (0..50)
            .filter(|i| cap.check(&mut alice, t(*i)).is_ok())
            .count();
        assert_eq!(admitted, 3);
        assert!(
            cap.check(&mut bob, t(60)).is_ok(),
            "another recipient is not affected"
        );
        assert!(
            cap.check(&mut alice, t(19 * 60)).is_err(),
            "nothing refilled after 19 minutes"
        );
        assert!(
            cap.check(&mut alice, t(20 * 60 + 1)).is_ok(),
            "one refilled after 20 minutes"
        );
        assert!(
            cap.check(&mut alice, t(20 * 60 + 2)).is_err(),
            "and only one"
        );
        assert_eq!(
            cap.check(&mut alice, t(20 * 60 + 3)),
            Err(t(40 * 60)),
            "the next token refills 20 minutes after the last"
        );
    }

    #[test]
    fn the_state_is_all_there_is_a_new_cap_with_it_decides_the_same() {
        let policy = NotificationPolicy {
            per_recipient_max: 2,
            per_recipient_period: Duration::minutes(10),
            ..NotificationPolicy::default()
        };
        let mut tat = None;
        assert!(RecipientCap::new(&policy).check(&mut tat, t(0)).is_ok());
        assert!(RecipientCap::new(&policy).check(&mut tat, t(1)).is_ok());
        // A restart: a new cap, the state as the changelog kept it.
        let restarted = RecipientCap::new(&policy);
        assert_eq!(restarted.check(&mut tat, t(2)), Err(t(300)));
        assert!(!RecipientCap::is_full(tat, t(599)));
        assert_eq!(RecipientCap::full_at(tat), Some(t(600)));
        assert!(RecipientCap::is_full(tat, t(600)));
        assert!(restarted.check(&mut tat, t(300)).is_ok());
    }
}

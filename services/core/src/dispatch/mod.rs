//! The last gate before a command leaves: the per-recipient cap, a safety net
//! against notification storms, on `governor`'s keyed rate limiter.
//!
//! The limiter runs on a clock that only the caller moves (stream time), so the
//! same commands at the same times are admitted or capped the same way live and
//! in `replay`. A command over the cap is held, not dropped ([`gate`]): it goes out
//! at the recipient's next allowed slot, merged into a newer message about the same
//! order when one supersedes it, the important ones first.

mod gate;

pub use gate::{priority, supersedes, Gate, GateOutput, GateStep, HeldCommand, RecipientHold};

use crate::model::{DelayApologyCommand, NotificationCommand, ReviewRequestCommand, Timestamp};
use crate::policy::NotificationPolicy;
use governor::clock::{Clock, FakeRelativeClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// Any command on its way out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "command", rename_all = "snake_case")]
pub enum OutboundCommand {
    Notification(NotificationCommand),
    DelayApology(DelayApologyCommand),
    ReviewRequest(ReviewRequestCommand),
}

impl OutboundCommand {
    pub fn kind(&self) -> &'static str {
        match self {
            OutboundCommand::Notification(_) => "notification",
            OutboundCommand::DelayApology(_) => "delay_apology",
            OutboundCommand::ReviewRequest(_) => "review_request",
        }
    }

    pub fn command_id(&self) -> &str {
        match self {
            OutboundCommand::Notification(c) => &c.command_id,
            OutboundCommand::DelayApology(c) => &c.command_id,
            OutboundCommand::ReviewRequest(c) => &c.command_id,
        }
    }

    pub fn order_id(&self) -> &str {
        match self {
            OutboundCommand::Notification(c) => &c.order_id,
            OutboundCommand::DelayApology(c) => &c.order_id,
            OutboundCommand::ReviewRequest(c) => &c.order_id,
        }
    }

    /// The recipient the cap counts against.
    pub fn customer_id(&self) -> &str {
        match self {
            OutboundCommand::Notification(c) => &c.customer_id,
            OutboundCommand::DelayApology(c) => &c.customer_id,
            OutboundCommand::ReviewRequest(c) => &c.customer_id,
        }
    }

    pub fn send_at(&self) -> Timestamp {
        match self {
            OutboundCommand::Notification(c) => c.send_at,
            OutboundCommand::DelayApology(c) => c.send_at,
            OutboundCommand::ReviewRequest(c) => c.send_at,
        }
    }

    pub fn set_send_at(&mut self, t: Timestamp) {
        match self {
            OutboundCommand::Notification(c) => c.send_at = t,
            OutboundCommand::DelayApology(c) => c.send_at = t,
            OutboundCommand::ReviewRequest(c) => c.send_at = t,
        }
    }

    /// The command kind as in template keys (`shipped`, `back_on_track`,
    /// `delay_apology.late`, `review_request`).
    pub fn what(&self) -> String {
        match self {
            OutboundCommand::Notification(c) => match c.template_key.as_str() {
                k @ ("back_on_track" | crate::tracker::RETURNING_TO_SENDER) => k.to_string(),
                _ => c.milestone.as_str().to_string(),
            },
            OutboundCommand::DelayApology(c) => format!("delay_apology.{}", c.reason.as_str()),
            OutboundCommand::ReviewRequest(_) => "review_request".to_string(),
        }
    }

    pub fn tracking_number(&self) -> Option<&str> {
        match self {
            OutboundCommand::Notification(c) => c.tracking_number.as_deref(),
            _ => None,
        }
    }

    /// Where the recipient's quiet hours are counted, when the command says.
    pub fn recipient(&self) -> (Option<&str>, Option<&str>) {
        let (tz, country) = match self {
            OutboundCommand::Notification(c) => (&c.recipient_timezone, &c.recipient_country),
            OutboundCommand::DelayApology(c) => (&c.recipient_timezone, &c.recipient_country),
            OutboundCommand::ReviewRequest(c) => (&c.recipient_timezone, &c.recipient_country),
        };
        (tz.as_deref(), country.as_deref())
    }
}

/// Admits at most `per_recipient_max` commands per recipient per
/// `per_recipient_period` (a burst of that many, refilling evenly).
pub struct RecipientCap {
    limiter:
        RateLimiter<String, HashMapStateStore<String>, FakeRelativeClock, NoOpMiddleware<Nanos>>,
    clock: FakeRelativeClock,
    /// The instant the fake clock's zero stands for, and where it is now.
    origin: Option<Timestamp>,
    at: Timestamp,
    checks_since_cleanup: u32,
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
        let clock = FakeRelativeClock::default();
        RecipientCap {
            limiter: RateLimiter::hashmap_with_clock(quota, clock.clone()),
            clock,
            origin: None,
            at: Timestamp::default(),
            checks_since_cleanup: 0,
        }
    }

    /// Whether `recipient` may receive one more command at `now`. Time never runs
    /// backwards here: an earlier `now` counts as the latest seen.
    pub fn admit(&mut self, recipient: &str, now: Timestamp) -> bool {
        self.check(recipient, now).is_ok()
    }

    /// Admits one more command for `recipient` at `now`, or tells the earliest
    /// instant one would be admitted.
    pub fn check(&mut self, recipient: &str, now: Timestamp) -> Result<(), Timestamp> {
        let origin = *self.origin.get_or_insert(now);
        if now > self.at.max(origin) {
            let from = self.at.max(origin);
            if let Ok(step) = (now - from).to_std() {
                self.clock.advance(step);
            }
            self.at = now;
        }
        self.checks_since_cleanup += 1;
        if self.checks_since_cleanup >= 10_000 {
            self.forget_idle();
        }
        let at = self.at.max(now);
        self.limiter
            .check_key(&recipient.to_string())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                chrono::Duration::from_std(wait)
                    .ok()
                    .and_then(|w| at.checked_add_signed(w))
                    .unwrap_or(at)
            })
    }

    /// Bounded memory: forgets recipients whose limit has fully refilled (they
    /// would be admitted exactly as if never seen).
    pub fn forget_idle(&mut self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        self.checks_since_cleanup = 0;
    }

    /// Recipients currently tracked (for a gauge).
    pub fn tracked(&self) -> usize {
        self.limiter.len()
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
        let mut cap = RecipientCap::new(&policy);
        let admitted = (0..50).filter(|i| cap.admit("alice", t(*i))).count();
        assert_eq!(admitted, 3);
        assert!(cap.admit("bob", t(60)), "another recipient is not affected");
        assert!(
            !cap.admit("alice", t(19 * 60)),
            "nothing refilled after 19 minutes"
        );
        assert!(
            cap.admit("alice", t(20 * 60 + 1)),
            "one refilled after 20 minutes"
        );
        assert!(!cap.admit("alice", t(20 * 60 + 2)), "and only one");
        assert_eq!(
            cap.check("alice", t(20 * 60 + 3)),
            Err(t(40 * 60)),
            "the next token refills 20 minutes after the last"
        );
    }

    #[test]
    fn idle_recipients_are_forgotten() {
        let policy = NotificationPolicy {
            per_recipient_max: 2,
            per_recipient_period: Duration::minutes(1),
            ..NotificationPolicy::default()
        };
        let mut cap = RecipientCap::new(&policy);
        for i in 0..5_000 {
            cap.admit(&format!("r{i}"), t(0));
        }
        assert_eq!(cap.tracked(), 5_000);
        cap.admit("late", t(3600));
        cap.forget_idle();
        assert_eq!(cap.tracked(), 1, "only the recent recipient is kept");
    }
}

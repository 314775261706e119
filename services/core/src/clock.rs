//! The one way time enters wismo. Decisions never read a clock; the shell asks a
//! [`Clock`] for `now` and passes it in.

use crate::model::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Wall-clock time, for production.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

/// Time that moves only when told to, for tests and `replay`.
#[derive(Debug)]
pub struct VirtualClock {
    millis: AtomicI64,
}

impl VirtualClock {
    pub fn new(start: Timestamp) -> Self {
        VirtualClock {
            millis: AtomicI64::new(start.timestamp_millis()),
        }
    }

    /// Moves the clock forward to `t`; a `t` in the past leaves it where it is.
    pub fn advance_to(&self, t: Timestamp) {
        self.millis
            .fetch_max(t.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Timestamp {
        let ms = self.millis.load(Ordering::SeqCst);
        chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
    }
}

//! Calls that librdkafka may never return from, made on a thread of their own
//! so the engine can stop waiting for them.
//!
//! `send_offsets_to_transaction` sends the offsets to the group coordinator
//! through a request that ignores its timeout: when the coordinator it has
//! cached is gone (a broker outage), the call can block for good
//! (librdkafka issues 5456 and 5511; seen in wismo's chaos runs after a broker
//! came back). Then the engine replaces the producer, which fences the stuck
//! one and aborts its transaction.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// A call that did not return within its limit; it may still be running.
#[derive(Debug, thiserror::Error)]
#[error(
    "{what} did not return within {limit:?} (librdkafka can block on a coordinator that went away)"
)]
pub(crate) struct Hung {
    pub what: &'static str,
    pub limit: Duration,
}

/// Runs `call` on its own thread and waits at most `limit` for its answer. A
/// call still running past the limit is left to finish (or not) on its thread,
/// holding what it was given.
pub(crate) fn call<R: Send + 'static>(
    what: &'static str,
    limit: Duration,
    call: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Hung> {
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name(format!("wismo-{what}"))
        .spawn(move || {
            // The waiting side may have gone; then nobody wants the answer.
            let _ = tx.send(call());
        });
    if spawned.is_err() {
        return Err(Hung { what, limit });
    }
    rx.recv_timeout(limit).map_err(|_| Hung { what, limit })
}

/// Testing only (`WISMO_FAILPOINT_HANG_SEND_OFFSETS`): the first call made through
/// [`hang_once`] never returns, as librdkafka's does when it hangs.
static HUNG_ONCE: AtomicBool = AtomicBool::new(false);

/// Blocks the calling thread for good, the first time it is called in this
/// process while `armed`.
pub(crate) fn hang_once(armed: bool) {
    if armed && !HUNG_ONCE.swap(true, Ordering::SeqCst) {
        tracing::warn!("failpoint: a call to the broker that never returns");
        loop {
            std::thread::park();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_in_time_is_returned_and_a_late_one_is_not_waited_for() {
        assert_eq!(call("quick", Duration::from_secs(5), || 7).unwrap(), 7);
        let (release, wait) = mpsc::channel::<()>();
        let started = std::time::Instant::now();
        let late = call("stuck", Duration::from_millis(50), move || {
            wait.recv().is_ok()
        });
        let hung = late.unwrap_err();
        assert_eq!(hung.what, "stuck");
        assert!(started.elapsed() < Duration::from_secs(5));
        // The stuck call still finishes on its own thread once let go.
        drop(release);
    }
}

//! Calls made again while the broker is away: librdkafka reconnects by itself,
//! and the engine cannot go on without their answers.

use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use std::time::Duration;

/// How long a call the engine cannot go on without (committed offsets, a
/// changelog's end) is made again while the broker is away, before the service
/// gives up and exits: longer than an outage it is expected to ride out.
const OUTAGE_PATIENCE: Duration = Duration::from_secs(180);

/// An error of a broker that is away or busy, which librdkafka recovers from.
pub(crate) fn is_transient(e: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::AllBrokersDown
                | C::BrokerTransportFailure
                | C::OperationTimedOut
                | C::RequestTimedOut
                | C::NotCoordinator
                | C::CoordinatorNotAvailable
                | C::CoordinatorLoadInProgress
                | C::UnknownPartition
                | C::LeaderNotAvailable
                | C::NotLeaderForPartition
                | C::Resolve
        )
    )
}

/// Makes `call` again while it fails for a reason [`is_transient`] names, for at
/// most [`OUTAGE_PATIENCE`], waiting a second between calls.
pub(crate) fn riding_out<R>(
    what: &str,
    mut call: impl FnMut() -> KafkaResult<R>,
) -> KafkaResult<R> {
    let started = std::time::Instant::now();
    loop {
        match call() {
            Err(e) if is_transient(&e) && started.elapsed() < OUTAGE_PATIENCE => {
                tracing::warn!(error = %e, "{what}: waiting for the broker");
                std::thread::sleep(Duration::from_secs(1));
            }
            result => return result,
        }
    }
}

/// How often a transactional call that timed out is made again before giving up.
const TRANSACTION_RETRIES: u32 = 10;

/// Makes a transactional call until it is done: librdkafka resumes a call that
/// timed out (a broker away) when it is made again, and refuses any other
/// transactional call meanwhile ("conflicting ... already in progress").
pub(crate) fn until_done<R>(
    what: &str,
    mut call: impl FnMut() -> KafkaResult<R>,
) -> KafkaResult<R> {
    let mut attempt = 0;
    loop {
        match call() {
            Err(KafkaError::Transaction(t))
                if t.is_retriable() && !t.txn_requires_abort() && attempt < TRANSACTION_RETRIES =>
            {
                attempt += 1;
                tracing::warn!(call = what, attempt, error = %t, "transactional call not done yet; making it again");
            }
            other => return other,
        }
    }
}

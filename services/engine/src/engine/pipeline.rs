//! At-least-once commits, pipelined. A commit waits for its outputs'
//! acknowledgements, then sends its changed state to the changelog and goes on
//! deciding; its offsets are committed once that changelog is acknowledged: as
//! soon as nothing is in flight, or at the next commit, whose wait for its own
//! outputs covers it. The order that makes a restart safe is kept (outputs
//! acknowledged, then the state that holds them, then the offsets past them);
//! only the waiting for the second and third step is gone.

use super::commit::Stages;
use super::{Engine, EngineError};
use crate::metrics::engine as metrics;
use crate::processor::Processor;
use crate::record::TopicPartition;
use crate::task::TaskId;
use crate::transport::{OffsetCommit, Transport, TransportError};
use std::time::Duration;

/// How often a poll looks again whether a pending commit's changelog is
/// acknowledged (about the producer's `linger.ms`).
pub(super) const ACK_CHECK: Duration = Duration::from_millis(5);

/// A commit whose changelog is sent and whose offsets are not committed yet.
pub(super) struct PendingCommit {
    offsets: Vec<OffsetCommit>,
    /// Announced once the offsets are committed.
    watermarks: Vec<(TaskId, i64)>,
}

impl<P: Processor, T: Transport> Engine<P, T> {
    /// `wait`: the offsets are committed before this returns. `false`: offsets
    /// were not committed (the next commit tries again).
    pub(super) fn commit_at_least_once(&mut self, wait: bool) -> Result<bool, EngineError> {
        let mut stages = Stages::start();
        self.flush_outputs()?;
        stages.done("produce");
        let mut committed = self.finish_pending()?;
        stages.done("offsets");
        if !wait && !self.commit_due() {
            // Only the pending commit was left to finish.
            return Ok(committed);
        }
        self.write_changelog()?;
        stages.done("changelog_encode");
        let (offsets, watermarks) = self.offsets_and_watermarks();
        self.pending = Some(PendingCommit {
            offsets,
            watermarks,
        });
        if wait {
            self.flush_outputs()?;
            stages.done("changelog_produce");
            committed = self.finish_pending()?;
            stages.done("offsets");
        }
        Ok(committed)
    }

    /// Finishes the pending commit if everything sent is acknowledged already.
    pub(super) fn finish_if_acknowledged(&mut self) -> Result<(), EngineError> {
        if self.pending.is_none() || self.transactional() || self.transport.in_flight() > 0 {
            return Ok(());
        }
        let mut stages = Stages::start();
        // Nothing in flight: this only collects what the broker refused.
        self.flush_outputs()?;
        self.finish_pending()?;
        stages.done("offsets");
        Ok(())
    }

    /// Commits the pending offsets (their changelog is acknowledged), then
    /// announces their watermarks and purges what they passed. `false`: the
    /// offsets were not committed.
    fn finish_pending(&mut self) -> Result<bool, EngineError> {
        let Some(pending) = self.pending.take() else {
            return Ok(true);
        };
        if let Err(e) = self.transport.commit(&pending.offsets) {
            // Not fatal: what was decided is decided again, with the same ids.
            metrics().commit_failures.inc();
            tracing::warn!(error = %e, "offset commit failed");
            return match e {
                TransportError::Crashed => Err(e.into()),
                _ => Ok(false),
            };
        }
        self.send_watermarks(pending.watermarks)?;
        self.purge_committed(&pending.offsets);
        Ok(true)
    }

    /// The revoked partitions' offsets and watermarks leave the pending commit:
    /// they are their new owner's to commit.
    pub(super) fn forget_pending(&mut self, revoked: &[TopicPartition], tasks: &[TaskId]) {
        if let Some(p) = self.pending.as_mut() {
            p.offsets.retain(|o| !revoked.contains(&o.partition));
            p.watermarks.retain(|(id, _)| !tasks.contains(id));
        }
    }
}

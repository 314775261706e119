//! Flow control: an external input that runs ahead is paused rather than
//! buffered without bound; a merged internal one reads on and spills.

use super::{Engine, EngineError};
use crate::processor::Processor;
use crate::record::TopicPartition;
use crate::transport::Transport;

impl<P: Processor, T: Transport> Engine<P, T> {
    /// Pauses an external partition with too much waiting and resumes it once
    /// half of it is decided: an input that runs ahead waits instead of filling
    /// memory. A merged (internal) queue reads on instead, spilling what does not
    /// fit, since the records it waits for lie further on; a failed spill stops
    /// the instance.
    pub(super) fn flow_control(&mut self) -> Result<(), EngineError> {
        let high = self.config.max_buffered_records;
        let mut pause = Vec::new();
        let mut resume = Vec::new();
        let active: Vec<_> = self.tasks.keys().copied().collect();
        for task in self.tasks.values_mut().chain(self.restoring.values_mut()) {
            for (tp, queue) in task.partitions.iter().zip(task.queues.iter_mut()) {
                if let Some(e) = queue.take_spill_failure() {
                    return Err(EngineError::Spill(tp.to_string(), e));
                }
                if !queue.pauses() {
                    continue;
                }
                let paused = self.paused.contains(tp);
                if !paused && queue.len() >= high {
                    // Paused, it hears nothing of what arrives: its end is no
                    // longer known.
                    queue.at_end = false;
                    pause.push(tp.clone());
                } else if paused && queue.len() <= high / 2 && active.contains(&task.id) {
                    resume.push(tp.clone());
                }
            }
        }
        if !pause.is_empty() {
            self.transport.pause(&pause);
            self.paused.extend(pause);
        }
        self.resume_partitions(resume);
        Ok(())
    }

    /// Fetching again: while paused, records may have arrived, so the end of a
    /// partition is known again only once a fetch reports it.
    pub(super) fn resume_partitions(&mut self, tps: Vec<TopicPartition>) {
        if tps.is_empty() {
            return;
        }
        for tp in &tps {
            self.paused.remove(tp);
            if let Some(queue) = self.queue_mut(tp) {
                queue.at_end = false;
            }
        }
        self.transport.resume(&tps);
    }
}

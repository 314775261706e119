//! Rebalance callbacks. They run inside `recv`, so they only record what happened;
//! the loop acts on it between batches.

use crate::metrics;
use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, TopicPartitionList};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

pub(crate) enum RebalanceEvent {
    Assigned(Vec<i32>),
    Revoked(Vec<i32>),
}

#[derive(Default)]
pub(crate) struct RebalanceLog {
    events: Mutex<Vec<RebalanceEvent>>,
    /// Forward-only input topics: their partitions hold no state, so their numbers
    /// are not state partitions (they need not be co-partitioned with the rest).
    stateless_topics: BTreeSet<String>,
}

impl RebalanceLog {
    pub fn ignoring(stateless_topics: impl IntoIterator<Item = String>) -> Self {
        RebalanceLog {
            events: Mutex::default(),
            stateless_topics: stateless_topics.into_iter().collect(),
        }
    }

    /// State partition numbers in `tpl`: co-partitioned topics share them.
    fn partitions_of(&self, tpl: &TopicPartitionList) -> Vec<i32> {
        let set: BTreeSet<i32> = tpl
            .elements()
            .iter()
            .filter(|e| !self.stateless_topics.contains(e.topic()))
            .map(|e| e.partition())
            .collect();
        set.into_iter().collect()
    }

    fn push(&self, e: RebalanceEvent) {
        if let Ok(mut events) = self.events.lock() {
            events.push(e);
        }
    }

    pub fn pending(&self) -> bool {
        self.events.lock().is_ok_and(|e| !e.is_empty())
    }

    pub fn take(&self) -> Vec<RebalanceEvent> {
        self.events
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }
}

pub(crate) struct RebalanceContext {
    log: Arc<RebalanceLog>,
}

impl RebalanceContext {
    pub fn new(log: Arc<RebalanceLog>) -> Self {
        RebalanceContext { log }
    }
}

impl ClientContext for RebalanceContext {}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, _c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            metrics::runtime()
                .rebalances
                .with_label_values(&["revoke"])
                .inc();
            let partitions = self.log.partitions_of(tpl);
            tracing::info!(?partitions, "partitions revoked");
            self.log.push(RebalanceEvent::Revoked(partitions));
        }
    }

    fn post_rebalance(&self, _c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            metrics::runtime()
                .rebalances
                .with_label_values(&["assign"])
                .inc();
            let partitions = self.log.partitions_of(tpl);
            tracing::info!(?partitions, "partitions assigned");
            self.log.push(RebalanceEvent::Assigned(partitions));
        }
    }
}

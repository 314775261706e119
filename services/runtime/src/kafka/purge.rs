//! Deleting the purged records of internal topics (DeleteRecords), on a thread
//! of its own so the engine never waits for the broker's answer.

use super::clients;
use crate::config::RuntimeConfig;
use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::{Offset, TopicPartitionList};
use std::sync::mpsc;
use std::time::Duration;
use wismo_engine::record::TopicPartition;

pub(crate) struct Purger {
    requests: mpsc::Sender<Vec<(TopicPartition, i64)>>,
}

impl Purger {
    pub fn start(config: &RuntimeConfig) -> anyhow::Result<Self> {
        let admin: AdminClient<DefaultClientContext> = clients::admin(config)
            .create()
            .map_err(super::refusal::redacted)
            .context("creating the admin client")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the purge runtime")?;
        let (requests, incoming) = mpsc::channel::<Vec<(TopicPartition, i64)>>();
        std::thread::Builder::new()
            .name("wismo-purge".into())
            .spawn(move || {
                let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(30)));
                for below in incoming {
                    let mut tpl = TopicPartitionList::new();
                    for (tp, offset) in &below {
                        if let Err(e) = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset)) {
                            tracing::warn!(partition = %tp, error = %e, "purge skipped");
                        }
                    }
                    match runtime.block_on(admin.delete_records(&tpl, &options)) {
                        Ok(done) => {
                            for e in done.elements() {
                                if let Err(err) = e.error() {
                                    tracing::warn!(topic = e.topic(), partition = e.partition(), error = %err, "purging an internal partition failed");
                                }
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "purging internal partitions failed"),
                    }
                }
            })
            .context("starting the purge thread")?;
        Ok(Purger { requests })
    }

    pub fn purge(&self, below: &[(TopicPartition, i64)]) {
        // Only fails once the thread is gone; the next purge covers it anyway.
        let _ = self.requests.send(below.to_vec());
    }
}

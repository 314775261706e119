//! The engine's transport on Apache Kafka, through rdkafka.

mod bounded;
mod clients;
mod delivery;
mod poll;
mod producer;
mod purge;
mod refusal;
mod restore;
mod retry;

pub use restore::read as read_changelog;

use crate::config::RuntimeConfig;
use anyhow::Context;
use delivery::is_permanent;
use poll::{EventQueue, TopicNames};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer as _};
use rdkafka::{Offset, TopicPartitionList};
use retry::{riding_out, until_done};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use wismo_engine::record::{headers, Outgoing, TopicPartition};
use wismo_engine::transport::{
    ChangelogEntry, Committed, DeliveryFailure, Event, OffsetCommit, Transport, TransportError,
};

/// How long a broker call may take before it counts as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long start-up waits for a missing topic.
const TOPIC_WAIT: Duration = Duration::from_secs(30);
/// Most events taken in one poll.
const POLL_BATCH: usize = 5_000;

pub struct KafkaTransport {
    // Declared before the consumer: the queue refers to it and goes first.
    queue: EventQueue,
    consumer: BaseConsumer,
    /// Shared with a call made on a thread of its own ([`bounded`]).
    producer: Arc<producer::Producer>,
    names: TopicNames,
    config: RuntimeConfig,
    restored_tx: mpsc::Sender<restore::Finished>,
    restored_rx: mpsc::Receiver<restore::Finished>,
    /// Producer-side refusals (say, a record over the size limit) found at send.
    refused_at_send: Vec<DeliveryFailure>,
    purger: purge::Purger,
    /// Partitions the engine paused.
    paused: std::collections::HashSet<TopicPartition>,
}

fn failed(e: impl std::fmt::Display) -> TransportError {
    TransportError::Failed(e.to_string())
}

fn tpl(partitions: &[TopicPartition]) -> TopicPartitionList {
    let mut t = TopicPartitionList::new();
    for tp in partitions {
        t.add_partition(&tp.topic, tp.partition);
    }
    t
}

fn offsets_tpl(offsets: &[OffsetCommit]) -> Result<TopicPartitionList, TransportError> {
    let mut t = TopicPartitionList::new();
    for o in offsets {
        t.add_partition_offset(
            &o.partition.topic,
            o.partition.partition,
            Offset::Offset(o.offset),
        )
        .map_err(failed)?;
        if let Some(mut e) = t.find_partition(&o.partition.topic, o.partition.partition) {
            e.set_metadata(&o.metadata);
        }
    }
    Ok(t)
}

impl KafkaTransport {
    pub fn connect(config: &RuntimeConfig) -> anyhow::Result<Self> {
        let producer = producer::create(config)?;
        // A refused login stops the service here, in seconds, not in retries.
        refusal::check(&producer, &config.bootstrap_servers)?;
        let consumer: BaseConsumer = clients::consumer(config)
            .create()
            .map_err(refusal::redacted)
            .context("creating the consumer")?;
        producer::init(&producer, config)?;
        let (restored_tx, restored_rx) = mpsc::channel();
        Ok(KafkaTransport {
            queue: EventQueue::new(&consumer),
            consumer,
            producer: Arc::new(producer),
            names: TopicNames::default(),
            config: config.clone(),
            restored_tx,
            restored_rx,
            refused_at_send: Vec::new(),
            purger: purge::Purger::start(config)?,
            paused: Default::default(),
        })
    }

    /// After a lost connection, no partition is known to be at its end: the
    /// broker may hold records appended while this consumer was away or still
    /// reconnecting, and an input taken as idle would let time pass them. A pause
    /// and resume makes librdkafka report each end again (a new fetch version
    /// resets its end-of-partition mark) once it is fetched over a live connection.
    fn forget_ends(&mut self, events: &mut Vec<Event>) {
        let Ok(assigned) = self.consumer.assignment() else {
            return;
        };
        let mut restart = Vec::new();
        for e in assigned.elements() {
            let tp = TopicPartition::new(self.names.get(e.topic()), e.partition());
            events.push(Event::Behind(tp.clone()));
            if !self.paused.contains(&tp) {
                restart.push(tp);
            }
        }
        if restart.is_empty() {
            return;
        }
        let list = tpl(&restart);
        if let Err(e) = self
            .consumer
            .pause(&list)
            .and_then(|()| self.consumer.resume(&list))
        {
            tracing::warn!(error = %e, "restarting fetches after a lost connection failed");
        }
    }

    /// Fatal once the cluster has refused either client's credentials.
    fn refused(&mut self) -> Result<(), TransportError> {
        match self.queue.refusal.take() {
            Some(r) => Err(TransportError::Failed(r)),
            None => self
                .producer
                .context()
                .refusal()
                .map_or(Ok(()), |r| Err(failed(r))),
        }
    }
}

impl Transport for KafkaTransport {
    fn subscribe(&mut self, topics: &[String]) -> Result<(), TransportError> {
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        self.consumer.subscribe(&refs).map_err(failed)
    }

    fn poll(&mut self, timeout: Duration, events: &mut Vec<Event>) -> Result<(), TransportError> {
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        if self.queue.poll(ms, &mut self.names, events) {
            let mut n = 1;
            while n < POLL_BATCH && self.queue.poll(0, &mut self.names, events) {
                n += 1;
            }
        }
        for e in events.iter() {
            if let Event::Revoked(tps) = e {
                for tp in tps {
                    self.paused.remove(tp);
                }
            }
        }
        if std::mem::take(&mut self.queue.connection_lost) {
            self.forget_ends(events);
        }
        self.refused()
    }

    fn pause(&mut self, partitions: &[TopicPartition]) {
        self.paused.extend(partitions.iter().cloned());
        if let Err(e) = self.consumer.pause(&tpl(partitions)) {
            tracing::warn!(error = %e, "pausing partitions failed");
        }
    }

    fn resume(&mut self, partitions: &[TopicPartition]) {
        for tp in partitions {
            self.paused.remove(tp);
        }
        if let Err(e) = self.consumer.resume(&tpl(partitions)) {
            tracing::warn!(error = %e, "resuming partitions failed");
        }
    }

    fn seek(
        &mut self,
        partition: &TopicPartition,
        offset: Option<i64>,
    ) -> Result<(), TransportError> {
        let offset = offset.map_or(Offset::Beginning, Offset::Offset);
        self.consumer
            .seek(&partition.topic, partition.partition, offset, CALL_TIMEOUT)
            .map_err(failed)
    }

    fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<Committed>, TransportError> {
        let list = tpl(partitions);
        let found = riding_out("reading committed offsets", || {
            self.consumer.committed_offsets(list.clone(), CALL_TIMEOUT)
        })
        .map_err(failed)?;
        Ok(partitions
            .iter()
            .map(|tp| match found.find_partition(&tp.topic, tp.partition) {
                Some(e) => Committed {
                    offset: e.offset().to_raw().filter(|o| *o >= 0),
                    metadata: e.metadata().to_string(),
                },
                None => Committed::default(),
            })
            .collect())
    }

    /// Waits a while for a topic that does not exist yet: one being created
    /// (by an operator, a topic operator, `wismoctl create-topics`) as we start.
    fn partition_count(&mut self, topic: &str) -> Result<i32, TransportError> {
        let started = std::time::Instant::now();
        loop {
            let md = self
                .consumer
                .fetch_metadata(Some(topic), CALL_TIMEOUT)
                .map_err(failed)?;
            let n = md
                .topics()
                .iter()
                .find(|t| t.name() == topic)
                .map_or(0, |t| t.partitions().len());
            if n > 0 {
                return Ok(n as i32);
            }
            if started.elapsed() > TOPIC_WAIT {
                return Err(failed(format!(
                    "topic {topic} does not exist; create it first (wismoctl create-topics)"
                )));
            }
            if started.elapsed() < Duration::from_millis(300) {
                tracing::info!(%topic, "waiting for the topic to exist");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn send(&mut self, record: Outgoing) -> Result<(), TransportError> {
        let mut hdrs = OwnedHeaders::new();
        let source = record.source.map(|s| s.header_value());
        let mark = record.watermark.map(|w| w.to_string());
        if let Some(s) = &source {
            hdrs = hdrs.insert(Header {
                key: headers::SOURCE,
                value: Some(s.as_bytes()),
            });
        }
        if let Some(w) = &mark {
            hdrs = hdrs.insert(Header {
                key: headers::WATERMARK,
                value: Some(w.as_bytes()),
            });
        }
        let mut base = BaseRecord::<[u8], [u8]>::to(&record.topic)
            .timestamp(record.timestamp)
            .headers(hdrs);
        if let Some(p) = record.partition {
            base = base.partition(p);
        }
        if let Some(k) = record.key.as_deref() {
            base = base.key(k);
        }
        if let Some(v) = record.value.as_deref() {
            base = base.payload(v);
        }
        loop {
            match self.producer.send(base) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // The local queue drains as the broker acknowledges.
                    base = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err((e, _)) if is_permanent(&e) => {
                    self.refused_at_send.push(DeliveryFailure {
                        error: e.to_string(),
                        record,
                    });
                    return Ok(());
                }
                Err((e, _)) => return Err(self.producer_error(e)),
            }
        }
    }

    fn purge(&mut self, below: &[(TopicPartition, i64)]) {
        self.purger.purge(below);
    }

    fn in_flight(&self) -> usize {
        usize::try_from(self.producer.in_flight_count()).unwrap_or(0)
    }

    fn flush(&mut self) -> Result<Vec<DeliveryFailure>, TransportError> {
        // Bounded: librdkafka retries until message.timeout.ms, then reports;
        // a refused login ends the wait at once.
        let deadline = std::time::Instant::now() + Duration::from_secs(330);
        while let Err(e) = producer::flush(&self.producer, Duration::from_secs(1)) {
            self.refused()?;
            if std::time::Instant::now() >= deadline {
                return Err(failed(e));
            }
        }
        let (mut refused, failure) = self.producer.context().take();
        if let Some(e) = failure {
            if self.producer.client().fatal_error().is_some() {
                return Err(self.producer_error(KafkaError::Flush(RDKafkaErrorCode::Fatal)));
            }
            return Err(TransportError::Failed(e));
        }
        refused.append(&mut self.refused_at_send);
        Ok(refused)
    }

    fn commit(&mut self, offsets: &[OffsetCommit]) -> Result<(), TransportError> {
        if offsets.is_empty() {
            return Ok(());
        }
        self.consumer
            .commit(&offsets_tpl(offsets)?, CommitMode::Sync)
            .map_err(failed)
    }

    fn begin_transaction(&mut self) -> Result<(), TransportError> {
        self.producer
            .begin_transaction()
            .map_err(|e| self.producer_error(e))
    }

    fn commit_transaction(&mut self, offsets: &[OffsetCommit]) -> Result<(), TransportError> {
        if !offsets.is_empty() {
            self.send_offsets_to_transaction(offsets)?;
        }
        let committed = until_done("commit_transaction", || {
            self.producer.commit_transaction(CALL_TIMEOUT)
        });
        let committed = match committed {
            Err(e) if producer::fatal(&self.producer, &e).is_some() => {
                return Err(self.producer_error(e))
            }
            other => other,
        };
        let (mut refused, failure) = self.producer.context().take();
        refused.append(&mut self.refused_at_send);
        if !refused.is_empty() {
            return Err(TransportError::Refused(refused));
        }
        committed.map_err(failed)?;
        match failure {
            Some(e) => Err(TransportError::Failed(e)),
            None => Ok(()),
        }
    }

    fn abort_transaction(&mut self) -> Result<(), TransportError> {
        let _ = self.producer.context().take();
        self.refused_at_send.clear();
        until_done("abort_transaction", || {
            self.producer.abort_transaction(CALL_TIMEOUT)
        })
        .map_err(|e| self.producer_error(e))
    }

    fn start_restore(&mut self, partition: TopicPartition) {
        restore::spawn(self.config.clone(), partition, self.restored_tx.clone());
    }

    fn finished_restores(
        &mut self,
    ) -> Vec<(TopicPartition, Result<Vec<ChangelogEntry>, TransportError>)> {
        self.restored_rx.try_iter().collect()
    }

    fn fail_producer(&mut self) {
        producer::fail_for_testing(&self.producer);
    }

    fn close(&mut self) {
        if let Err(e) = producer::flush(&self.producer, Duration::from_secs(10)) {
            tracing::warn!(error = %e, "flush on shutdown failed");
        }
        self.consumer.unsubscribe();
    }
}

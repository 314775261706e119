//! The processing loop: collect a batch, decide, produce, write the changelog,
//! commit, fire timers. One loop per process; scaling out is more partitions and
//! more replicas, with Kafka's consumer group dividing the work.

use crate::config::{DeliveryMode, RuntimeConfig};
use crate::http::{self, Health};
use crate::processor::{Decoded, InputRecord, OutRecord, Processor};
use crate::store::PartitionStore;
use crate::{dead_letter, metrics, restore, shutdown};
use anyhow::Context;
use futures::future::join_all;
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, ClientContext, Message, Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use wismo_core::clock::Clock;
use wismo_core::model::Timestamp;

/// Runs `processor` until SIGTERM. Returns an error only for what a restart can fix
/// (the broker refusing writes, a missing topic); bad records never stop it.
pub async fn run<P: Processor>(
    processor: P,
    config: RuntimeConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    let health = Arc::new(Health::default());
    health.beat();
    let http = tokio::spawn(http::serve(config.http_addr, health.clone()));
    let mut stop = shutdown::on_signal();

    let rebalances = Arc::new(RebalanceLog::default());
    let consumer = consumer(&config, rebalances.clone())?;
    let producer = producer(&config)?;
    let topics = processor.input_topics();
    check_partitions(&consumer, &topics, &config)?;
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topic_refs)
        .context("subscribing to input topics")?;
    if config.delivery == DeliveryMode::Transactional {
        producer
            .init_transactions(Duration::from_secs(30))
            .context("initialising transactions (does the broker support them?)")?;
    }
    tracing::info!(service = %config.service, group = %config.group_id, ?topics, "started");
    health
        .started
        .store(true, std::sync::atomic::Ordering::Relaxed);

    let mut engine = Engine {
        processor,
        config,
        clock,
        consumer,
        producer,
        rebalances,
        health: health.clone(),
        partitions: BTreeMap::new(),
    };
    let result = engine.run_until(&mut stop).await;
    engine.close();
    http.abort();
    result
}

struct Engine<P: Processor> {
    processor: P,
    config: RuntimeConfig,
    clock: Arc<dyn Clock>,
    consumer: StreamConsumer<RebalanceContext>,
    producer: FutureProducer,
    rebalances: Arc<RebalanceLog>,
    health: Arc<Health>,
    /// Restored input partitions and their state.
    partitions: BTreeMap<i32, PartitionStore<P::State>>,
}

impl<P: Processor> Engine<P> {
    async fn run_until(&mut self, stop: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        while !*stop.borrow() {
            let batch = self.collect(stop).await;
            let revoked = self.apply_rebalances()?;
            let batch: Vec<_> = batch
                .into_iter()
                .filter(|m| !revoked.contains(&m.partition()))
                .collect();
            let started = Instant::now();
            self.process(batch).await?;
            metrics::runtime()
                .batch_seconds
                .observe(started.elapsed().as_secs_f64());
            self.health.beat();
        }
        Ok(())
    }

    /// Waits for the first record (or the next timer, or shutdown), then takes what
    /// else arrives within the linger time, up to the batch size.
    async fn collect(&self, stop: &mut watch::Receiver<bool>) -> Vec<OwnedMessage> {
        let mut batch = Vec::new();
        let wait = self.time_to_next_timer().min(self.config.timer_tick);
        tokio::select! {
            biased;
            _ = stop.changed() => return batch,
            _ = tokio::time::sleep(wait) => return batch,
            r = self.consumer.recv() => match r {
                Ok(m) => batch.push(m.detach()),
                Err(e) => {
                    tracing::warn!(error = %e, "consume error");
                    return batch;
                }
            },
        }
        while batch.len() < self.config.batch_max && !self.rebalances.pending() {
            match tokio::time::timeout(self.config.batch_linger, self.consumer.recv()).await {
                Ok(Ok(m)) => batch.push(m.detach()),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "consume error");
                    break;
                }
                Err(_) => break,
            }
        }
        batch
    }

    fn time_to_next_timer(&self) -> Duration {
        let next = self
            .partitions
            .values()
            .filter_map(|p| p.next_deadline())
            .min();
        match next {
            None => Duration::MAX,
            Some(d) => (d - self.clock.now()).to_std().unwrap_or(Duration::ZERO),
        }
    }

    /// Drops revoked partitions and restores newly assigned ones. Returns the
    /// partitions revoked, whose already-collected records must not be processed.
    fn apply_rebalances(&mut self) -> anyhow::Result<BTreeSet<i32>> {
        let mut revoked = BTreeSet::new();
        for event in self.rebalances.take() {
            match event {
                RebalanceEvent::Revoked(parts) => {
                    for p in parts {
                        self.partitions.remove(&p);
                        revoked.insert(p);
                    }
                }
                RebalanceEvent::Assigned(parts) => {
                    for p in parts {
                        revoked.remove(&p);
                        if !self.partitions.contains_key(&p) {
                            self.restore(p)?;
                        }
                    }
                }
            }
        }
        metrics::runtime()
            .partitions_assigned
            .set(self.partitions.len() as i64);
        Ok(revoked)
    }

    fn restore(&mut self, partition: i32) -> anyhow::Result<()> {
        self.health
            .restoring
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let config = &self.config;
        let states = tokio::task::block_in_place(|| {
            restore::restore_partition::<P::State>(config, partition)
        });
        self.health
            .restoring
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let mut store = PartitionStore::default();
        for (key, state) in states? {
            let deadline = self.processor.next_deadline(&state);
            store.put(key, Some(state), deadline);
        }
        self.partitions.insert(partition, store);
        Ok(())
    }

    async fn process(&mut self, batch: Vec<OwnedMessage>) -> anyhow::Result<()> {
        let now = self.clock.now();
        let m = metrics::runtime();
        let mut out: Vec<OutRecord> = Vec::new();
        let mut dirty: BTreeSet<(i32, String)> = BTreeSet::new();
        let mut offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();

        let decide_started = Instant::now();
        for msg in &batch {
            m.consumed.with_label_values(&[msg.topic()]).inc();
            let next = offsets
                .entry((msg.topic().to_string(), msg.partition()))
                .or_insert(0);
            *next = (*next).max(msg.offset() + 1);
            if !self.partitions.contains_key(&msg.partition()) {
                // A record from a partition whose assignment we have not seen yet.
                self.restore(msg.partition())?;
            }
            let record = InputRecord {
                topic: msg.topic(),
                partition: msg.partition(),
                offset: msg.offset(),
                key: msg.key(),
                payload: msg.payload(),
            };
            match self.processor.decode(&record) {
                Err(rejection) => {
                    m.dead_letters
                        .with_label_values(&[rejection.kind.as_str()])
                        .inc();
                    tracing::warn!(topic = record.topic, partition = record.partition, offset = record.offset, kind = rejection.kind.as_str(), reason = %rejection.reason, "record rejected to dead-letter");
                    out.push(dead_letter::for_input(
                        &self.config,
                        &record,
                        rejection.kind.as_str(),
                        &rejection.reason,
                        now,
                    ));
                }
                Ok(Decoded { key, input }) => {
                    let Some(store) = self.partitions.get_mut(&msg.partition()) else {
                        continue;
                    };
                    let state = store.take(&key);
                    let step = self.processor.decide(&key, state, input, now);
                    let deadline = step
                        .state
                        .as_ref()
                        .and_then(|s| self.processor.next_deadline(s));
                    store.put(key.clone(), step.state, deadline);
                    out.extend(step.records);
                    dirty.insert((msg.partition(), key));
                }
            }
        }
        self.fire_timers(now, &mut out, &mut dirty);
        m.stage_seconds
            .with_label_values(&["decide"])
            .observe(decide_started.elapsed().as_secs_f64());

        if out.is_empty() && dirty.is_empty() && offsets.is_empty() {
            return Ok(());
        }
        let transactional = self.config.delivery == DeliveryMode::Transactional;
        if transactional {
            self.producer.begin_transaction()?;
        }
        let produce_started = Instant::now();
        self.produce(out.iter().map(|r| {
            (
                r.topic.as_str(),
                None,
                r.key.as_str(),
                Some(r.payload.as_slice()),
            )
        }))
        .await?;
        let acked = self.clock.now();
        for r in &out {
            m.produced.with_label_values(&[&r.topic]).inc();
            if let Some(t) = r.detectable_at {
                m.detection_lag_seconds
                    .observe((acked - t).num_milliseconds().max(0) as f64 / 1000.0);
            }
        }
        m.stage_seconds
            .with_label_values(&["produce"])
            .observe(produce_started.elapsed().as_secs_f64());

        // Outputs are acknowledged before the state that remembers them is written,
        // so a crash in between repeats the outputs (same ids) rather than losing them.
        let changelog_started = Instant::now();
        let entries: Vec<(i32, String, Option<Vec<u8>>)> = dirty
            .into_iter()
            .map(|(p, key)| {
                let bytes = self
                    .partitions
                    .get(&p)
                    .and_then(|s| s.get(&key))
                    .map(serde_json::to_vec)
                    .transpose()?;
                Ok((p, key, bytes))
            })
            .collect::<Result<_, serde_json::Error>>()?;
        let changelog = self.config.changelog_topic.clone();
        self.produce(
            entries
                .iter()
                .map(|(p, k, v)| (changelog.as_str(), Some(*p), k.as_str(), v.as_deref())),
        )
        .await?;
        m.stage_seconds
            .with_label_values(&["changelog"])
            .observe(changelog_started.elapsed().as_secs_f64());

        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in &offsets {
            tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        if transactional {
            let group = self
                .consumer
                .group_metadata()
                .context("consumer group metadata")?;
            self.producer
                .send_offsets_to_transaction(&tpl, &group, Duration::from_secs(30))?;
            self.producer.commit_transaction(Duration::from_secs(30))?;
        } else if tpl.count() > 0 {
            if let Err(e) = self.consumer.commit(&tpl, CommitMode::Sync) {
                // Not fatal: the batch will be redelivered and yields the same ids.
                m.commit_failures.inc();
                tracing::warn!(error = %e, "offset commit failed");
            }
        }
        self.update_gauges();
        Ok(())
    }

    fn fire_timers(
        &mut self,
        now: Timestamp,
        out: &mut Vec<OutRecord>,
        dirty: &mut BTreeSet<(i32, String)>,
    ) {
        let m = metrics::runtime();
        for (&partition, store) in self.partitions.iter_mut() {
            for key in store.due(now) {
                let deadline = store.deadline_of(&key);
                let Some(state) = store.take(&key) else {
                    continue;
                };
                let step = self.processor.on_timer(&key, state, now);
                let next = step
                    .state
                    .as_ref()
                    .and_then(|s| self.processor.next_deadline(s));
                store.put(key.clone(), step.state, next);
                out.extend(step.records);
                dirty.insert((partition, key));
                m.timers_fired.inc();
                if let Some(d) = deadline {
                    let lag = (now - d).num_milliseconds().max(0) as f64 / 1000.0;
                    m.timer_lag_seconds.observe(lag);
                }
            }
        }
    }

    /// Produces every record and waits until all are acknowledged.
    async fn produce<'a>(
        &self,
        records: impl Iterator<Item = (&'a str, Option<i32>, &'a str, Option<&'a [u8]>)>,
    ) -> anyhow::Result<()> {
        let mut inflight: Vec<DeliveryFuture> = Vec::new();
        for (topic, partition, key, payload) in records {
            loop {
                let mut record: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).key(key);
                if let Some(p) = partition {
                    record = record.partition(p);
                }
                if let Some(bytes) = payload {
                    record = record.payload(bytes);
                }
                match self.producer.send_result(record) {
                    Ok(fut) => {
                        inflight.push(fut);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        // Local queue full: wait for what is in flight, then retry.
                        await_deliveries(std::mem::take(&mut inflight)).await?;
                    }
                    Err((e, _)) => return Err(e).context(format!("producing to {topic}")),
                }
            }
        }
        await_deliveries(inflight).await
    }

    fn update_gauges(&self) {
        let m = metrics::runtime();
        m.state_keys
            .set(self.partitions.values().map(|p| p.len() as i64).sum());
        m.timers_open.set(
            self.partitions
                .values()
                .map(|p| p.timer_count() as i64)
                .sum(),
        );
    }

    fn close(&mut self) {
        if let Err(e) = self.producer.flush(Duration::from_secs(10)) {
            tracing::warn!(error = %e, "flush on shutdown failed");
        }
        self.consumer.unsubscribe();
        tracing::info!("stopped");
    }
}

async fn await_deliveries(futures: Vec<DeliveryFuture>) -> anyhow::Result<()> {
    for result in join_all(futures).await {
        match result {
            Ok(Ok(_)) => {}
            Ok(Err((e, _))) => return Err(e).context("a produced record was not acknowledged"),
            Err(_) => anyhow::bail!("the producer dropped a delivery before acknowledging it"),
        }
    }
    Ok(())
}

fn consumer(
    config: &RuntimeConfig,
    log: Arc<RebalanceLog>,
) -> anyhow::Result<StreamConsumer<RebalanceContext>> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.bootstrap_servers)
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        // Range assignment gives co-partitioned topics the same partition numbers,
        // which per-key state across two input topics depends on.
        .set("partition.assignment.strategy", "range")
        .set("enable.partition.eof", "false");
    if config.delivery == DeliveryMode::Transactional {
        c.set("isolation.level", "read_committed");
    }
    apply_overrides(&mut c, config, "consumer.");
    c.create_with_context(RebalanceContext { log })
        .context("creating consumer")
}

fn producer(config: &RuntimeConfig) -> anyhow::Result<FutureProducer> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &config.bootstrap_servers)
        .set("acks", "all")
        .set("linger.ms", "5")
        // Java's default partitioner, so records we key land where a 3PL's Java
        // producer puts the same key: co-partitioning holds across clients.
        .set("partitioner", "murmur2_random");
    if config.delivery == DeliveryMode::Transactional {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        c.set("transactional.id", format!("{}-{host}", config.group_id));
    }
    apply_overrides(&mut c, config, "producer.");
    c.create().context("creating producer")
}

/// `WISMO_KAFKA_X` applies to both clients; `WISMO_KAFKA_CONSUMER_X` / `_PRODUCER_X` to one.
fn apply_overrides(c: &mut ClientConfig, config: &RuntimeConfig, own: &str) {
    for (k, v) in &config.kafka_overrides {
        if let Some(rest) = k.strip_prefix(own) {
            c.set(rest, v);
        } else if !k.starts_with("consumer.") && !k.starts_with("producer.") {
            c.set(k, v);
        }
    }
}

/// Every input topic and the changelog must exist with the same partition count.
fn check_partitions(
    consumer: &StreamConsumer<RebalanceContext>,
    inputs: &[String],
    config: &RuntimeConfig,
) -> anyhow::Result<()> {
    let mut counts = Vec::new();
    for topic in inputs
        .iter()
        .chain(std::iter::once(&config.changelog_topic))
    {
        let md = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(15))
            .with_context(|| format!("reading metadata of topic {topic}"))?;
        let n = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map(|t| t.partitions().len())
            .unwrap_or(0);
        anyhow::ensure!(
            n > 0,
            "topic {topic} does not exist; create it before starting {}",
            config.service
        );
        counts.push((topic.clone(), n));
    }
    let first = counts[0].1;
    anyhow::ensure!(
        counts.iter().all(|(_, n)| *n == first),
        "topics must be co-partitioned (same partition count): {counts:?}"
    );
    Ok(())
}

enum RebalanceEvent {
    Assigned(Vec<i32>),
    Revoked(Vec<i32>),
}

/// Rebalance callbacks run inside `recv`; they only record what happened, and the
/// loop acts on it between batches.
#[derive(Default)]
struct RebalanceLog {
    events: Mutex<Vec<RebalanceEvent>>,
}

impl RebalanceLog {
    fn push(&self, e: RebalanceEvent) {
        if let Ok(mut events) = self.events.lock() {
            events.push(e);
        }
    }

    fn pending(&self) -> bool {
        self.events.lock().is_ok_and(|e| !e.is_empty())
    }

    fn take(&self) -> Vec<RebalanceEvent> {
        self.events
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }
}

struct RebalanceContext {
    log: Arc<RebalanceLog>,
}

impl ClientContext for RebalanceContext {}

fn partitions_of(tpl: &TopicPartitionList) -> Vec<i32> {
    let set: BTreeSet<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
    set.into_iter().collect()
}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, _c: &rdkafka::consumer::BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            metrics::runtime()
                .rebalances
                .with_label_values(&["revoke"])
                .inc();
            tracing::info!(partitions = ?partitions_of(tpl), "partitions revoked");
            self.log.push(RebalanceEvent::Revoked(partitions_of(tpl)));
        }
    }

    fn post_rebalance(
        &self,
        _c: &rdkafka::consumer::BaseConsumer<Self>,
        rebalance: &Rebalance<'_>,
    ) {
        if let Rebalance::Assign(tpl) = rebalance {
            metrics::runtime()
                .rebalances
                .with_label_values(&["assign"])
                .inc();
            tracing::info!(partitions = ?partitions_of(tpl), "partitions assigned");
            self.log.push(RebalanceEvent::Assigned(partitions_of(tpl)));
        }
    }
}

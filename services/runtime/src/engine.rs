//! The processing loop: collect a batch, decide, produce, write the changelog,
//! commit, fire timers. One loop per process; scaling out is more partitions and
//! more replicas, with Kafka's consumer group dividing the work.
//!
//! Time is stream time, per partition, as in Kafka Streams: a record is decided at
//! its own timestamp (never before the partition's stream time, never after the
//! wall clock), timers due before it fire first at their own deadlines, and
//! outputs carry the timestamp of what caused them. Once the consumer has drained
//! what is available, stream time follows the wall clock so timers fire on time.
//! A backlog after a crash is therefore decided exactly as `replay` would.

use crate::clients::{check_partitions, consumer, producer};
use crate::config::{DeliveryMode, RuntimeConfig};
use crate::http::{self, Health};
use crate::lookup;
use crate::output::{produce_all, Outgoing};
use crate::processor::{Decoded, InputRecord, OutRecord, Processor, Rejection};
use crate::rebalance::{RebalanceContext, RebalanceEvent, RebalanceLog};
use crate::store::PartitionStore;
use crate::{dead_letter, metrics, restore, shutdown};
use anyhow::Context;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use wismo_core::clock::Clock;
use wismo_core::model::Timestamp;

/// A timer that keeps re-arming at or before its own deadline is a bug; stop it
/// from spinning the loop.
const MAX_FIRINGS_PER_PASS: usize = 100_000;

/// Runs `processor` until SIGTERM. Returns an error only for what a restart can fix
/// (the broker refusing writes, a missing topic); bad records never stop it.
pub async fn run<P: Processor>(
    processor: P,
    config: RuntimeConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    let health = Arc::new(Health::default());
    health.beat();
    let (query_tx, queries) = lookup::channel();
    let route = processor.lookup_route().filter(|_| processor.stateful());
    let http = tokio::spawn(http::serve(
        config.http_addr,
        health.clone(),
        route.map(|r| (r, query_tx)),
    ));
    let mut stop = shutdown::on_signal();

    let forward_only: BTreeSet<String> = processor.forward_only_topics().into_iter().collect();
    let rebalances = Arc::new(RebalanceLog::ignoring(forward_only.iter().cloned()));
    let topics = processor.input_topics();
    let keyed_topics: Vec<String> = topics
        .iter()
        .filter(|t| !forward_only.contains(*t))
        .cloned()
        .collect();
    let consumer = consumer(&config, rebalances.clone())?;
    let producer = producer(&config)?;
    check_partitions(
        &consumer,
        &topics,
        &forward_only,
        &config,
        processor.stateful(),
    )?;
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
    health.started.store(true, Ordering::Relaxed);

    let mut engine = Engine {
        processor,
        config,
        clock,
        consumer,
        producer,
        rebalances,
        health: health.clone(),
        partitions: BTreeMap::new(),
        input_topics: topics,
        keyed_topics,
        forward_only,
        queries,
    };
    let result = engine.run_until(&mut stop).await;
    engine.close();
    http.abort();
    result
}

/// One input partition's state and its stream time.
struct Partition<S> {
    store: PartitionStore<S>,
    stream_time: Option<Timestamp>,
    /// Next offset to decide, per input topic.
    next_offsets: BTreeMap<String, i64>,
    /// Every input topic's backlog was decided since assignment: from then on stream
    /// time may follow the wall clock.
    caught_up: bool,
}

/// Everything one batch produces, in order.
#[derive(Default)]
struct BatchOutput {
    records: Vec<(OutRecord, Timestamp)>,
    dirty: BTreeSet<(i32, String)>,
    offsets: BTreeMap<(String, i32), i64>,
}

struct Engine<P: Processor> {
    processor: P,
    config: RuntimeConfig,
    clock: Arc<dyn Clock>,
    consumer: StreamConsumer<RebalanceContext>,
    producer: FutureProducer,
    rebalances: Arc<RebalanceLog>,
    health: Arc<Health>,
    partitions: BTreeMap<i32, Partition<P::State>>,
    input_topics: Vec<String>,
    /// The input topics whose partitions hold state: all but the forward-only ones.
    keyed_topics: Vec<String>,
    /// Input topics that touch no state (see [`Processor::forward_only_topics`]).
    forward_only: BTreeSet<String>,
    /// State lookups from the HTTP side, answered between batches.
    queries: mpsc::Receiver<lookup::Query>,
}

impl<P: Processor> Engine<P> {
    async fn run_until(&mut self, stop: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        while !*stop.borrow() {
            let (batch, drained) = self.collect(stop).await;
            let revoked = self.apply_rebalances()?;
            // Records of revoked partitions go to their new owner. A forward-only
            // topic's partition numbers are not state partitions, so they stay.
            let batch: Vec<_> = batch
                .into_iter()
                .filter(|m| {
                    self.forward_only.contains(m.topic()) || !revoked.contains(&m.partition())
                })
                .collect();
            let started = Instant::now();
            self.process(batch, drained).await?;
            metrics::runtime()
                .batch_seconds
                .observe(started.elapsed().as_secs_f64());
            self.health.beat();
        }
        Ok(())
    }

    /// Waits for the first record (or the next timer, or shutdown), then takes what
    /// else arrives within the linger time, up to the batch size. `drained` is true
    /// when nothing more was waiting: the consumer has caught up.
    async fn collect(&mut self, stop: &mut watch::Receiver<bool>) -> (Vec<OwnedMessage>, bool) {
        let mut batch = Vec::new();
        let wait = self.time_to_next_timer().min(self.config.timer_tick);
        let idle_until = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => return (batch, true),
                Some(query) = self.queries.recv() => {
                    self.answer(query);
                    continue;
                }
                _ = tokio::time::sleep_until(idle_until) => return (batch, true),
                r = self.consumer.recv() => match r {
                    Ok(m) => batch.push(m.detach()),
                    Err(e) => {
                        tracing::warn!(error = %e, "consume error");
                        return (batch, true);
                    }
                },
            }
            break;
        }
        while batch.len() < self.config.batch_max && !self.rebalances.pending() {
            match tokio::time::timeout(self.config.batch_linger, self.consumer.recv()).await {
                Ok(Ok(m)) => batch.push(m.detach()),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "consume error");
                    break;
                }
                Err(_) => return (batch, true),
            }
        }
        (batch, false)
    }

    fn answer(&self, query: lookup::Query) {
        let found = self
            .partitions
            .values()
            .find_map(|p| p.store.get(&query.key))
            .and_then(|state| serde_json::to_value(state).ok());
        let answer = match found {
            Some(state) => lookup::Answer::Found(state),
            None => lookup::Answer::NotHeld {
                partitions: self.partitions.keys().copied().collect(),
            },
        };
        // The asker may have given up; nothing to do then.
        let _ = query.reply.send(answer);
    }

    fn time_to_next_timer(&self) -> Duration {
        let next = self
            .partitions
            .values()
            .filter_map(|p| p.store.next_deadline())
            .min();
        match next {
            None => Duration::MAX,
            // Timers fire once stream time (the wall clock less the grace) passes them.
            Some(d) => {
                (d - self.clock.now()).to_std().unwrap_or(Duration::ZERO) + self.config.stream_grace
            }
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
        self.health.restoring.store(true, Ordering::Relaxed);
        let config = &self.config;
        let states = if self.processor.stateful() {
            tokio::task::block_in_place(|| {
                restore::restore_partition::<P::State>(config, partition)
            })
        } else {
            Ok(Default::default())
        };
        self.health.restoring.store(false, Ordering::Relaxed);
        let mut store = PartitionStore::default();
        for (key, state) in states? {
            let deadline = self.processor.next_deadline(&state);
            store.put(key, Some(state), deadline);
        }
        let next_offsets = self.committed(partition)?;
        self.partitions.insert(
            partition,
            Partition {
                store,
                stream_time: None,
                next_offsets,
                caught_up: false,
            },
        );
        Ok(())
    }

    /// The group's committed offsets of `partition` on every keyed input topic
    /// (earliest where nothing was committed yet).
    fn committed(&self, partition: i32) -> anyhow::Result<BTreeMap<String, i64>> {
        let mut tpl = TopicPartitionList::new();
        for topic in &self.keyed_topics {
            tpl.add_partition(topic, partition);
        }
        let committed = tokio::task::block_in_place(|| {
            self.consumer
                .committed_offsets(tpl, Duration::from_secs(10))
        })
        .context("reading committed offsets")?;
        Ok(committed
            .elements()
            .iter()
            .map(|e| {
                (
                    e.topic().to_string(),
                    e.offset().to_raw().filter(|o| *o >= 0).unwrap_or(0),
                )
            })
            .collect())
    }

    /// Whether every assigned partition of the forward-only topics has been read to
    /// its end: what they feed back (the matcher's registrations) may still be due.
    fn forward_only_caught_up(&self) -> bool {
        if self.forward_only.is_empty() {
            return true;
        }
        let (Ok(assignment), Ok(position)) = (self.consumer.assignment(), self.consumer.position())
        else {
            return false;
        };
        assignment
            .elements()
            .iter()
            .filter(|e| self.forward_only.contains(e.topic()))
            .all(|e| {
                let (topic, partition) = (e.topic(), e.partition());
                // Nothing read yet since assignment: reading resumes at the commit.
                let read = position
                    .find_partition(topic, partition)
                    .and_then(|p| p.offset().to_raw())
                    .filter(|o| *o >= 0)
                    .or_else(|| {
                        let mut tpl = TopicPartitionList::new();
                        tpl.add_partition(topic, partition);
                        let committed = tokio::task::block_in_place(|| {
                            self.consumer.committed_offsets(tpl, Duration::from_secs(5))
                        })
                        .ok()?;
                        let offset = committed.find_partition(topic, partition)?.offset();
                        offset.to_raw().filter(|o| *o >= 0)
                    });
                tokio::task::block_in_place(|| {
                    self.consumer
                        .fetch_watermarks(topic, partition, Duration::from_secs(5))
                })
                .is_ok_and(|(low, high)| high <= low || read.is_some_and(|r| r >= high))
            })
    }

    /// Whether every input topic of `partition` has been decided up to its end.
    fn check_caught_up(&self, partition: i32) -> bool {
        let Some(part) = self.partitions.get(&partition) else {
            return false;
        };
        self.keyed_topics.iter().all(|topic| {
            let next = part.next_offsets.get(topic).copied().unwrap_or(0);
            tokio::task::block_in_place(|| {
                self.consumer
                    .fetch_watermarks(topic, partition, Duration::from_secs(5))
            })
            .is_ok_and(|(low, high)| next >= high || high <= low)
        })
    }

    async fn process(&mut self, mut batch: Vec<OwnedMessage>, drained: bool) -> anyhow::Result<()> {
        let m = metrics::runtime();
        let wall = self.clock.now();
        let mut out = BatchOutput::default();
        let decide_started = Instant::now();

        // Across the two input topics, decide in timestamp order (stable).
        batch.sort_by_key(|msg| msg.timestamp().to_millis().unwrap_or(i64::MAX));
        for msg in &batch {
            m.consumed.with_label_values(&[msg.topic()]).inc();
            let next = out
                .offsets
                .entry((msg.topic().to_string(), msg.partition()))
                .or_insert(0);
            *next = (*next).max(msg.offset() + 1);
            let ts = msg
                .timestamp()
                .to_millis()
                .and_then(chrono::DateTime::from_timestamp_millis)
                .unwrap_or(wall)
                .min(wall);
            if self.forward_only.contains(msg.topic()) {
                // No state and no stream time: passed on at its own timestamp.
                self.decide(msg, ts, ts, &mut out);
                continue;
            }
            if !self.partitions.contains_key(&msg.partition()) {
                // A record from a partition whose assignment we have not seen yet.
                self.restore(msg.partition())?;
            }
            if let Some(part) = self.partitions.get_mut(&msg.partition()) {
                part.next_offsets
                    .insert(msg.topic().to_string(), msg.offset() + 1);
            }
            let now = if self.processor.advances_stream_time(msg.topic()) {
                self.advance(msg.partition(), ts, &mut out)
            } else {
                // Decided in its own time, but it moves no clock and fires no timer.
                let stream = self
                    .partitions
                    .get(&msg.partition())
                    .and_then(|p| p.stream_time);
                stream.map_or(ts, |s| s.max(ts))
            };
            self.decide(msg, ts, now, &mut out);
        }
        // What this batch writes onto our own inputs is still to be read back.
        if drained
            && !out
                .records
                .iter()
                .any(|(r, _)| self.input_topics.contains(&r.topic))
        {
            // Caught up: stream time follows the wall clock, so timers fire on time.
            let live_until =
                wall - chrono::Duration::from_std(self.config.stream_grace).unwrap_or_default();
            let parts: Vec<i32> = self.partitions.keys().copied().collect();
            let mut forward_caught_up = None;
            for p in parts {
                if !self.partitions.get(&p).is_some_and(|x| x.caught_up)
                    && *forward_caught_up.get_or_insert_with(|| self.forward_only_caught_up())
                    && self.check_caught_up(p)
                {
                    if let Some(part) = self.partitions.get_mut(&p) {
                        part.caught_up = true;
                    }
                }
                if self.partitions.get(&p).is_some_and(|x| x.caught_up) {
                    self.advance(p, live_until, &mut out);
                }
            }
        }
        m.stage_seconds
            .with_label_values(&["decide"])
            .observe(decide_started.elapsed().as_secs_f64());
        self.write(out).await
    }

    /// Moves a partition's stream time to `to` (never backwards), firing each timer
    /// due by then at its own deadline. Returns the stream time.
    fn advance(&mut self, partition: i32, to: Timestamp, out: &mut BatchOutput) -> Timestamp {
        let m = metrics::runtime();
        let wall = self.clock.now();
        let Some(part) = self.partitions.get_mut(&partition) else {
            return to;
        };
        let now = part.stream_time.map_or(to, |t| t.max(to));
        for _ in 0..MAX_FIRINGS_PER_PASS {
            let Some((deadline, key)) = part.store.first_timer().filter(|(d, _)| *d <= now) else {
                break;
            };
            let Some(state) = part.store.take(&key) else {
                break;
            };
            let step = self.processor.on_timer(&key, state, deadline);
            let next = step
                .state
                .as_ref()
                .and_then(|s| self.processor.next_deadline(s));
            // A deadline that does not move forward would fire forever.
            let next = next.map(|n| n.max(deadline + chrono::Duration::milliseconds(1)));
            part.store.put(key.clone(), step.state, next);
            out.records
                .extend(step.records.into_iter().map(|r| (r, deadline)));
            out.dirty.insert((partition, key));
            m.timers_fired.inc();
            m.timer_lag_seconds
                .observe((wall - deadline).num_milliseconds().max(0) as f64 / 1000.0);
        }
        part.stream_time = Some(now);
        now
    }

    /// Decides one record at stream time `now`. Its outputs carry the record's own
    /// timestamp `at`, as in Kafka Streams: a record that arrives behind stream time
    /// (say, a scan released from the matcher's hold) stays behind it downstream
    /// instead of being stamped with the moment it happened to be processed.
    fn decide(&mut self, msg: &OwnedMessage, at: Timestamp, now: Timestamp, out: &mut BatchOutput) {
        let record = InputRecord {
            topic: msg.topic(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key(),
            payload: msg.payload(),
        };
        let forward_only = self.forward_only.contains(record.topic);
        let decoded = self.processor.decode(&record).and_then(|d| match d {
            // Its partition holds no state to apply it to: a bug, but never silent.
            Decoded::Keyed { .. } if forward_only => Err(Rejection::invalid(
                "a record of a forward-only topic decoded to a keyed input",
            )),
            d => Ok(d),
        });
        match decoded {
            Err(rejection) => {
                metrics::runtime()
                    .dead_letters
                    .with_label_values(&[rejection.kind.as_str()])
                    .inc();
                tracing::warn!(topic = record.topic, partition = record.partition, offset = record.offset, kind = rejection.kind.as_str(), reason = %rejection.reason, "record rejected to dead-letter");
                let letter = dead_letter::for_input(
                    &self.config,
                    &record,
                    rejection.kind.as_str(),
                    &rejection.reason,
                    now,
                );
                out.records.push((letter, at));
            }
            Ok(Decoded::Forward(records)) => {
                out.records.extend(records.into_iter().map(|r| (r, at)));
            }
            Ok(Decoded::Keyed { key, input }) => {
                let Some(part) = self.partitions.get_mut(&msg.partition()) else {
                    return;
                };
                let state = part.store.take(&key);
                let step = self.processor.decide(&key, state, input, now);
                let deadline = step
                    .state
                    .as_ref()
                    .and_then(|s| self.processor.next_deadline(s));
                part.store.put(key.clone(), step.state, deadline);
                out.records.extend(step.records.into_iter().map(|r| {
                    let stamp = r.not_before.map_or(at, |t| t.max(at));
                    (r, stamp)
                }));
                out.dirty.insert((msg.partition(), key));
            }
        }
    }

    /// Outputs, then changelog, then offsets: each acknowledged before the next, so
    /// a crash anywhere repeats outputs (same ids) rather than losing them.
    async fn write(&mut self, out: BatchOutput) -> anyhow::Result<()> {
        let m = metrics::runtime();
        if out.records.is_empty() && out.dirty.is_empty() && out.offsets.is_empty() {
            return Ok(());
        }
        let transactional = self.config.delivery == DeliveryMode::Transactional;
        if transactional {
            self.producer.begin_transaction()?;
        }
        let started = Instant::now();
        produce_all(
            &self.producer,
            out.records.iter().map(|(r, at)| Outgoing {
                topic: &r.topic,
                partition: None,
                key: &r.key,
                payload: Some(&r.payload),
                timestamp: Some(*at),
            }),
        )
        .await?;
        let acked = self.clock.now();
        for (r, _) in &out.records {
            m.produced.with_label_values(&[&r.topic]).inc();
            if let Some(t) = r.detectable_at {
                m.detection_lag_seconds
                    .observe((acked - t).num_milliseconds().max(0) as f64 / 1000.0);
            }
        }
        m.stage_seconds
            .with_label_values(&["produce"])
            .observe(started.elapsed().as_secs_f64());

        let started = Instant::now();
        let dirty = if self.processor.stateful() {
            out.dirty
        } else {
            BTreeSet::new()
        };
        let entries: Vec<(i32, String, Option<Vec<u8>>)> = dirty
            .into_iter()
            .map(|(p, key)| {
                let bytes = self
                    .partitions
                    .get(&p)
                    .and_then(|s| s.store.get(&key))
                    .map(serde_json::to_vec)
                    .transpose()?;
                Ok((p, key, bytes))
            })
            .collect::<Result<_, serde_json::Error>>()?;
        let changelog = self.config.changelog_topic.clone();
        produce_all(
            &self.producer,
            entries.iter().map(|(p, k, v)| Outgoing {
                topic: &changelog,
                partition: Some(*p),
                key: k,
                payload: v.as_deref(),
                timestamp: None,
            }),
        )
        .await?;
        m.stage_seconds
            .with_label_values(&["changelog"])
            .observe(started.elapsed().as_secs_f64());

        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in &out.offsets {
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
        m.state_keys
            .set(self.partitions.values().map(|p| p.store.len() as i64).sum());
        m.timers_open.set(
            self.partitions
                .values()
                .map(|p| p.store.timer_count() as i64)
                .sum(),
        );
        Ok(())
    }

    fn close(&mut self) {
        if let Err(e) = self.producer.flush(Duration::from_secs(10)) {
            tracing::warn!(error = %e, "flush on shutdown failed");
        }
        self.consumer.unsubscribe();
        tracing::info!("stopped");
    }
}

//! The paced load: orders placed evenly over the load time, each with its story
//! ([`story`]), produced by a thread of its own as a shop and the carriers would
//! (keyed by order id and tracking number, the Java client's partitioner).
//!
//! Each record is produced `lead` before its timestamp, so it is on the broker
//! before the services' clocks pass it even on a busy machine: a record that
//! reached the broker after the services had moved past its time would be
//! decided differently from `replay` by design, not by fault. For the same
//! reason the load pauses while the broker is away (the shop cannot publish
//! either) and everything still to come moves later by the pause.

use super::story::{shifted, story};
use anyhow::Context;
use chrono::Duration as TimeDelta;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use replay::Input;
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wismo_config::Topics;
use wismo_core::model::Timestamp;

const TICK: Duration = Duration::from_millis(20);

/// What the load produced.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    pub records: u64,
    pub orders: u64,
    /// The latest record timestamp produced (epoch ms).
    pub last_ts: i64,
    /// The latest any record was acknowledged, against its own timestamp (ms;
    /// negative: before it). Past zero, the lead did not cover the broker's delay.
    pub worst_ack_ms: i64,
}

#[derive(Default)]
struct State {
    pause: bool,
    paused: bool,
    /// Load time so far (ms): wall time since the start, less the pauses.
    load_ms: u64,
    done: bool,
    failed: Option<String>,
}

pub struct Load {
    shared: Arc<(Mutex<State>, Condvar)>,
    thread: Option<JoinHandle<anyhow::Result<LoadReport>>>,
}

/// What to produce, and where.
pub struct Plan {
    pub bootstrap: String,
    pub topics: Topics,
    pub seed: u64,
    pub orders: u64,
    pub load: Duration,
    pub lead: Duration,
}

impl Load {
    pub fn start(plan: Plan) -> anyhow::Result<Load> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", &plan.bootstrap)
            .set("partitioner", "murmur2_random")
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "300000")
            .create()
            .context("creating the load's producer")?;
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let inner = shared.clone();
        let thread = std::thread::Builder::new()
            .name("chaos-load".into())
            .spawn(move || {
                let result = pace(&plan, &producer, &inner);
                let (lock, cv) = &*inner;
                let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
                s.done = true;
                if let Err(e) = &result {
                    s.failed = Some(format!("{e:#}"));
                }
                cv.notify_all();
                result
            })?;
        Ok(Load {
            shared,
            thread: Some(thread),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long the load has been running, pauses left out.
    pub fn time(&self) -> Duration {
        Duration::from_millis(self.state().load_ms)
    }

    pub fn done(&self) -> bool {
        self.state().done
    }

    /// The load's error, if it stopped on one.
    pub fn failure(&self) -> Option<String> {
        self.state().failed.clone()
    }

    /// Stops producing and returns once everything sent is acknowledged.
    pub fn pause(&self) -> anyhow::Result<()> {
        let (lock, cv) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        s.pause = true;
        let (s, timeout) = cv
            .wait_timeout_while(s, Duration::from_secs(120), |s| !s.paused && !s.done)
            .unwrap_or_else(|e| e.into_inner());
        anyhow::ensure!(!timeout.timed_out(), "the load did not pause");
        if let Some(e) = &s.failed {
            anyhow::bail!("the load failed: {e}");
        }
        Ok(())
    }

    pub fn resume(&self) {
        let (lock, cv) = &*self.shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        s.pause = false;
        cv.notify_all();
    }

    pub fn join(mut self) -> anyhow::Result<LoadReport> {
        self.thread
            .take()
            .context("joined twice")?
            .join()
            .map_err(|_| anyhow::anyhow!("the load thread panicked"))?
    }
}

fn pace(
    plan: &Plan,
    producer: &FutureProducer,
    shared: &(Mutex<State>, Condvar),
) -> anyhow::Result<LoadReport> {
    let gap_ms = plan.load.as_millis() as f64 / plan.orders.max(1) as f64;
    let started = Instant::now();
    // Load time 0 is `lead` ahead of the wall clock, so that each record, the
    // first ones too, is produced `lead` before its timestamp. Whole
    // milliseconds: what Kafka and Avro keep.
    let lead = TimeDelta::from_std(plan.lead)?;
    let start = chrono::DateTime::from_timestamp_millis(chrono::Utc::now().timestamp_millis())
        .context("the clock")?
        + lead;
    let mut paused = Duration::ZERO;
    let mut next_order = 0u64;
    // Events still to send, by (load ms, sequence).
    let mut pending: BTreeMap<(u64, u64), Input> = BTreeMap::new();
    let mut seq = 0u64;
    let mut report = LoadReport {
        worst_ack_ms: i64::MIN,
        ..LoadReport::default()
    };
    let mut in_flight: Vec<(i64, DeliveryFuture)> = Vec::new();
    loop {
        {
            let (lock, cv) = shared;
            let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
            if s.pause {
                drop(s);
                await_acks(&mut in_flight, &mut report)?;
                let since = Instant::now();
                let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
                s.paused = true;
                cv.notify_all();
                let mut s = cv
                    .wait_while(s, |s| s.pause)
                    .unwrap_or_else(|e| e.into_inner());
                s.paused = false;
                paused += since.elapsed();
                continue;
            }
            s.load_ms = (started.elapsed() - paused).as_millis() as u64;
        }
        let horizon = (started.elapsed() - paused).as_millis() as u64;
        while next_order < plan.orders && (next_order as f64 * gap_ms) as u64 <= horizon {
            let placed = start + TimeDelta::milliseconds((next_order as f64 * gap_ms) as i64);
            for (at, input) in story(plan.seed, next_order, placed) {
                let v = (at - start).num_milliseconds().max(0) as u64;
                pending.insert((v, seq), input);
                seq += 1;
            }
            next_order += 1;
        }
        let shift = TimeDelta::from_std(paused)?;
        while let Some(entry) = pending.first_entry() {
            if entry.key().0 > horizon {
                break;
            }
            let ((v, _), input) = entry.remove_entry();
            let at: Timestamp = start + TimeDelta::milliseconds(v as i64) + shift;
            let (topic, key, payload) = shifted(&input, shift).record(&plan.topics);
            let ts = at.timestamp_millis();
            let delivery = producer
                .send_result(
                    FutureRecord::to(&topic)
                        .key(key.as_bytes())
                        .payload(&payload)
                        .timestamp(ts),
                )
                .map_err(|(e, _)| e)
                .context("producing an input record")?;
            in_flight.push((ts, delivery));
            report.records += 1;
            report.last_ts = report.last_ts.max(ts);
        }
        await_acks(&mut in_flight, &mut report)?;
        report.orders = next_order;
        if next_order == plan.orders && pending.is_empty() {
            return Ok(report);
        }
        std::thread::sleep(TICK);
    }
}

fn await_acks(
    in_flight: &mut Vec<(i64, DeliveryFuture)>,
    report: &mut LoadReport,
) -> anyhow::Result<()> {
    let (stamps, futures): (Vec<i64>, Vec<DeliveryFuture>) = in_flight.drain(..).unzip();
    let acks = futures::executor::block_on(futures::future::join_all(futures));
    let now = chrono::Utc::now().timestamp_millis();
    for (ack, ts) in acks.into_iter().zip(stamps) {
        ack.context("producer dropped a delivery")?
            .map_err(|(e, _)| e)
            .context("input record not acknowledged")?;
        report.worst_ack_ms = report.worst_ack_ms.max(now - ts);
    }
    Ok(())
}

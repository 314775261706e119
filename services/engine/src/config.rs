//! The engine's settings. The services read them from `WISMO_*` keys (see the
//! runtime crate); replay and tests build them directly.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMode {
    /// Outputs acknowledged, then changelog, then offsets; a crash repeats outputs
    /// (same ids, same bytes). The default.
    AtLeastOnce,
    /// Outputs, changelog and offsets in one Kafka transaction per commit interval.
    Transactional,
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub delivery: DeliveryMode,
    /// How often outputs, state and offsets are committed (Kafka Streams'
    /// `commit.interval.ms`): one transaction, or one round of acks, per interval.
    pub commit_interval: Duration,
    /// How long an input that is caught up but empty holds back the others, in
    /// event time: a record is decided once the wall clock is this far past it, in
    /// case the idle input still delivers something earlier (Kafka Streams'
    /// `max.task.idle.ms`). Timers fire this far behind the wall clock.
    pub max_task_idle: Duration,
    /// How long an internal input may stay silent (no record, no watermark) from
    /// one of its writers before the task stops waiting for that writer. `None`:
    /// wait for ever (the in-memory log, where every writer runs).
    pub upstream_timeout: Option<Duration>,
    /// A task that has sent nothing to an internal output for this long sends its
    /// watermark again, so a reader knows the writer is alive.
    pub watermark_heartbeat: Duration,
    /// Records buffered per input partition before that partition is paused.
    pub max_buffered_records: usize,
    /// Records an internal input (merged per upstream writer) keeps in memory;
    /// past it, each writer's further records are spilled, in order, to
    /// `spill_dir`. On a backlog writers run apart in time, and the spill holds
    /// how far.
    pub max_merged_records: usize,
    /// Local scratch directory for spills (emptied by the owner at start-up).
    /// `None`: spills stay in memory (replay and tests, which hold their whole
    /// log in memory anyway).
    pub spill_dir: Option<std::sync::Arc<std::path::Path>>,
    /// States a task keeps decoded between commits; past it, those taken least
    /// recently are kept as their changelog bytes (a third of the memory) and
    /// decoded when next needed, as Kafka Streams keeps state in RocksDB behind
    /// its cache. Restored states start as bytes.
    pub max_decoded_states: usize,
    /// How often internal input partitions are purged up to their committed
    /// offsets (Kafka Streams' `repartition.purge.interval.ms`). `None`: never
    /// (their topics then need a retention of their own).
    pub purge_interval: Option<Duration>,
    /// Records or timers one task decides before the loop looks at the others.
    pub task_budget: usize,
    /// A record's broker timestamp is taken as at most this far past the wall
    /// clock: a producer with a wrong clock cannot move time into the future.
    pub max_future_timestamp: Duration,
    /// The largest output (key, value and headers) produced as it is: a larger one
    /// goes to dead-letter instead, so the broker never refuses it.
    pub max_output_bytes: usize,
    /// How much of a refused record's key and value a dead letter keeps; beyond
    /// it, the first bytes, the whole size and a SHA-256.
    pub dead_letter_max_original_bytes: usize,
    /// When a task that keeps crashing its process decides carefully, and sends
    /// what it crashes on to dead-letter (see [`crate::breaker`]).
    pub breaker: crate::breaker::BreakerConfig,
    /// Testing only: deciding a record with this key panics, to show that a bug
    /// in a decision costs one record, not the partition.
    pub panic_on_key: Option<String>,
    /// Testing only: deciding a record with this key fails the whole instance
    /// ([`crate::EngineError::FailPoint`]; the services abort on it), as a crash
    /// no `catch_unwind` sees would.
    pub crash_on_key: Option<String>,
    /// Testing only: deciding a record with this key makes the producer fail for
    /// good ([`crate::transport::Transport::fail_producer`]), once per instance.
    pub fatal_on_key: Option<String>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            delivery: DeliveryMode::AtLeastOnce,
            commit_interval: Duration::from_millis(100),
            max_task_idle: Duration::from_millis(250),
            upstream_timeout: Some(Duration::from_secs(60)),
            watermark_heartbeat: Duration::from_secs(1),
            max_buffered_records: 2_000,
            max_merged_records: 20_000,
            spill_dir: None,
            max_decoded_states: 20_000,
            purge_interval: Some(Duration::from_secs(30)),
            task_budget: 1_000,
            max_future_timestamp: Duration::from_secs(300),
            max_output_bytes: 900_000,
            dead_letter_max_original_bytes: crate::dead_letter::DEFAULT_MAX_ORIGINAL_BYTES,
            breaker: crate::breaker::BreakerConfig::default(),
            panic_on_key: None,
            crash_on_key: None,
            fatal_on_key: None,
        }
    }
}

pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

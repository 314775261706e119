//! The deterministic simulation: wismo's three services on the in-memory log under
//! a seeded schedule of fetches, crashes, rebalances and commits, against a clean
//! run of the same input (what `replay` decides).

pub mod workload;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use replay::cluster::{Cluster, Service, Settings};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use wismo_codec::{subjects, Codec, DeadLetter};
use wismo_config::Topics;
use wismo_core::clock::VirtualClock;
use wismo_core::matcher::MatcherConfig;
use wismo_core::tracker::TrackerConfig;
use wismo_engine::transport::memory::{Faults, FetchPolicy};
use wismo_engine::{BreakerConfig, DeliveryMode};
use workload::Arrival;

/// What left wismo: every command record by topic and id, and the dead letters.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// `(topic, command id)` → every copy's bytes.
    pub commands: BTreeMap<(String, String), Vec<Vec<u8>>>,
    /// Where a letter sits depends on partitioning: by content only.
    pub dead_letters: BTreeSet<Letter>,
}

/// A dead letter's content.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Letter {
    pub kind: String,
    pub reason: String,
    /// The original value (its first bytes when `whole` is set).
    pub value: Vec<u8>,
    /// The whole value's size and SHA-256, when the letter kept only part of it.
    pub whole: Option<(i64, String)>,
}

impl Outcome {
    /// One copy per command.
    pub fn distinct(&self) -> BTreeMap<(String, String), Vec<u8>> {
        self.commands
            .iter()
            .filter_map(|(k, copies)| Some((k.clone(), copies.first()?.clone())))
            .collect()
    }

    /// Commands on their topic more than once, and how often.
    pub fn repeated(&self) -> impl Iterator<Item = (&(String, String), usize)> {
        self.commands
            .iter()
            .filter(|(_, copies)| copies.len() > 1)
            .map(|(k, copies)| (k, copies.len()))
    }
}

pub fn settings(partitions: i32, scan_partitions: i32, delivery: DeliveryMode) -> Settings {
    let mut engine = replay::engine_config();
    engine.delivery = delivery;
    // Crashes here are the simulation's, not a record's: every restart decides
    // carefully for a while (one commit per decision), and nothing is poison.
    engine.breaker = BreakerConfig {
        careful_after: 1,
        poison_after: u32::MAX,
        careful_decisions: 20,
    };
    Settings {
        matcher: MatcherConfig::default(),
        tracker: {
            let mut t = TrackerConfig {
                coalesce_window: chrono::Duration::seconds(30),
                ..TrackerConfig::default()
            };
            // No binding cap unless a test asks for one ([`capped`]).
            t.notifications.per_recipient_max = 1_000;
            t.notifications.per_recipient_period = chrono::Duration::hours(6);
            t
        },
        topics: Topics::from_env(&wismo_config::Env::default()),
        engine,
        partitions,
        scan_partitions,
    }
}

pub fn horizon(arrivals: &[Arrival]) -> i64 {
    arrivals.last().map_or(0, |a| a.at) + 20 * 86_400_000
}

pub fn collect(cluster: &Cluster) -> Outcome {
    let t = &cluster.settings.topics;
    let codec = Codec::default();
    let mut outcome = Outcome::default();
    for topic in [&t.notifications, &t.delay_apologies, &t.review_requests] {
        for r in cluster.log.records(topic) {
            let value = r.value.unwrap_or_default();
            let id = replay::render::value(t, topic, &value)["command_id"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            outcome
                .commands
                .entry((topic.clone(), id))
                .or_default()
                .push(value);
        }
    }
    for r in cluster.log.records(&t.dead_letter) {
        let Some(letter) = r
            .value
            .and_then(|v| codec.decode::<DeadLetter>(subjects::DEAD_LETTER, &v).ok())
        else {
            continue;
        };
        outcome.dead_letters.insert(Letter {
            kind: letter.error_kind,
            reason: letter.reason,
            value: letter.original_value.unwrap_or_default(),
            whole: letter.original_size.zip(letter.original_sha256),
        });
    }
    outcome
}

/// Every arrival at once, one instance of each service, nothing going wrong.
/// A binding cap: at most `max` commands per recipient per 6 h.
pub fn capped(mut s: replay::cluster::Settings, max: Option<u32>) -> replay::cluster::Settings {
    if let Some(max) = max {
        s.tracker.notifications.per_recipient_max = max;
    }
    s
}

pub fn reference(arrivals: &[Arrival], delivery: DeliveryMode, cap: Option<u32>) -> Outcome {
    let clock = Arc::new(VirtualClock::new(
        chrono::DateTime::from_timestamp_millis(horizon(arrivals)).unwrap_or_default(),
    ));
    let mut cluster = Cluster::new(capped(settings(1, 1, delivery), cap), clock);
    for a in arrivals {
        cluster.publish(&a.topic, a.key.as_deref(), a.payload.clone(), a.at);
    }
    cluster.start_all().expect("start");
    cluster.run_until_quiet().expect("run");
    collect(&cluster)
}

/// What a seed varies, and what happened, for the failure message.
#[derive(Debug, Default)]
pub struct Story {
    pub crashes: usize,
    pub joins: usize,
    pub leaves: usize,
}

struct Chaos {
    rng: ChaCha8Rng,
    crashes_left: usize,
    story: Story,
}

impl Chaos {
    fn fetch(&mut self) -> FetchPolicy {
        if std::env::var("WISMO_SIM_PLAIN_FETCH").is_ok() {
            return FetchPolicy::default();
        }
        FetchPolicy {
            max_records: self.rng.random_range(1..=40),
            seed: Some(self.rng.random()),
        }
    }

    fn faults(&mut self) -> Faults {
        if std::env::var("WISMO_SIM_NO_FAULTS").is_ok() {
            return Faults::default();
        }
        let crash = self.crashes_left > 0 && self.rng.random_bool(0.5);
        // A producer that fails for good is replaced: no crash, a rewind.
        let producer_fails = self.rng.random_bool(0.25);
        Faults {
            crash_after_calls: crash.then(|| self.rng.random_range(1..120)),
            producer_fails_after_calls: producer_fails.then(|| self.rng.random_range(0..200)),
            ..Faults::default()
        }
    }
}

/// The same arrivals, published in chunks as time goes by, through instances
/// that crash, join and leave at the seed's whim.
/// A run with faults. With a binding `cap`, the orders (and so the tracker's
/// writers into each dispatcher partition) have one partition: which of two
/// same-millisecond commands a full cap holds depends on their arrival order
/// across tracker partitions (docs/architecture.md).
pub fn chaotic(
    arrivals: &[Arrival],
    seed: u64,
    delivery: DeliveryMode,
    cap: Option<u32>,
) -> (Outcome, Story) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5157_u64);
    let (p, s) = (rng.random_range(1..=3), rng.random_range(1..=3));
    let p = if cap.is_some() { 1 } else { p };
    let first = arrivals.first().map_or(0, |a| a.at);
    let clock = Arc::new(VirtualClock::new(
        chrono::DateTime::from_timestamp_millis(first).unwrap_or_default(),
    ));
    let mut chaos_settings = capped(settings(p, s, delivery), cap);
    // Small buffers: inputs that run ahead are paused, merged queues read on.
    chaos_settings.engine.max_buffered_records = rng.random_range(2..=40);
    chaos_settings.engine.max_merged_records = chaos_settings.engine.max_buffered_records;
    if let Some(n) = std::env::var("WISMO_SIM_BUFFER")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        chaos_settings.engine.max_buffered_records = n;
        chaos_settings.engine.max_merged_records = n;
    }
    // Two seeds in three keep at most a few states decoded, the rest as their
    // changelog bytes: the reference run keeps all of them decoded.
    if !seed.is_multiple_of(3) {
        chaos_settings.engine.max_decoded_states = (seed % 4) as usize;
    }
    // Every fourth seed spills to files, as the services do; the others in memory.
    let spill = seed
        .is_multiple_of(4)
        .then(|| tempfile::tempdir().expect("scratch dir"));
    chaos_settings.engine.spill_dir = spill.as_ref().map(|d| Arc::from(d.path()));
    let mut cluster = Cluster::new(chaos_settings, clock.clone());
    let idle =
        chrono::Duration::from_std(cluster.settings.engine.max_task_idle).unwrap_or_default();
    let mut chaos = Chaos {
        crashes_left: rng.random_range(0..=6),
        rng,
        story: Story::default(),
    };
    for service in Service::ALL {
        let (f, x) = (chaos.fetch(), chaos.faults());
        cluster.start(service, f, x).expect("start");
    }
    let mut published = 0;
    for _ in 0..4_000 {
        if published == arrivals.len() && chaos.rng.random_bool(0.05) {
            break;
        }
        match chaos.rng.random_range(0..100) {
            0..=24 if published < arrivals.len() => {
                let n = chaos
                    .rng
                    .random_range(1..=8)
                    .min(arrivals.len() - published);
                for a in &arrivals[published..published + n] {
                    cluster.publish(&a.topic, a.key.as_deref(), a.payload.clone(), a.at);
                }
                published += n;
                let last = arrivals[published - 1].at;
                // Live, the wall clock is just past the last arrival.
                clock.advance_to(
                    chrono::DateTime::from_timestamp_millis(last).unwrap_or_default() + idle,
                );
            }
            25..=79 => {
                let i = chaos.rng.random_range(0..cluster.members.len().max(1));
                step(&mut cluster, &mut chaos, i, false);
            }
            80..=89 => {
                let i = chaos.rng.random_range(0..cluster.members.len().max(1));
                step(&mut cluster, &mut chaos, i, true);
            }
            90..=93 if chaos.crashes_left > 0 && !cluster.members.is_empty() => {
                let i = chaos.rng.random_range(0..cluster.members.len());
                if std::env::var("WISMO_SIM_DEBUG").is_ok() {
                    eprintln!("kill -9 of {}", cluster.members[i].instance.member());
                }
                chaos.crashes_left -= 1;
                chaos.story.crashes += 1;
                cluster.crash(i);
            }
            94..=96 => {
                let service = Service::ALL[chaos.rng.random_range(0..3)];
                if cluster
                    .members
                    .iter()
                    .filter(|m| m.service == service)
                    .count()
                    < 3
                {
                    let (f, x) = (chaos.fetch(), chaos.faults());
                    cluster.start(service, f, x).expect("start");
                    chaos.story.joins += 1;
                }
            }
            97..=99 => {
                let service = Service::ALL[chaos.rng.random_range(0..3)];
                let of: Vec<usize> = (0..cluster.members.len())
                    .filter(|i| cluster.members[*i].service == service)
                    .collect();
                if of.len() > 1 {
                    let i = of[chaos.rng.random_range(0..of.len())];
                    if cluster.stop(i).is_err() {
                        chaos.story.crashes += 1;
                    }
                    chaos.story.leaves += 1;
                }
            }
            _ => {}
        }
        keep_every_service(&mut cluster, &mut chaos);
    }
    for a in &arrivals[published..] {
        cluster.publish(&a.topic, a.key.as_deref(), a.payload.clone(), a.at);
    }
    clock
        .advance_to(chrono::DateTime::from_timestamp_millis(horizon(arrivals)).unwrap_or_default());
    // Run out what is left; instances still crash on schedule and come back.
    chaos.crashes_left = 0;
    for _ in 0..100_000 {
        keep_every_service(&mut cluster, &mut chaos);
        let before = cluster.log.total_records();
        let mut progress = false;
        for i in 0..cluster.members.len() {
            progress |= step(&mut cluster, &mut chaos, i, false);
        }
        for i in 0..cluster.members.len() {
            progress |= step(&mut cluster, &mut chaos, i, true);
        }
        if !progress
            && cluster.log.total_records() == before
            && cluster.lag() == 0
            && cluster.members.len() >= 3
        {
            break;
        }
    }
    if std::env::var("WISMO_SIM_DEBUG").is_ok() {
        for m in &cluster.members {
            eprintln!("{}:\n{}", m.instance.member(), m.instance.describe());
        }
    }
    (collect(&cluster), chaos.story)
}

/// Polls (or commits) member `i`; a member whose transport pulled the plug is gone.
fn step(cluster: &mut Cluster, chaos: &mut Chaos, i: usize, commit: bool) -> bool {
    let Some(m) = cluster.members.get_mut(i) else {
        return false;
    };
    let result = if commit {
        m.instance.commit().map(|_| false)
    } else {
        m.instance.poll()
    };
    match result {
        Ok(progress) => progress,
        Err(e) => {
            if std::env::var("WISMO_SIM_DEBUG").is_ok() {
                eprintln!("crash of {}: {e}", cluster.members[i].instance.member());
            }
            chaos.story.crashes += 1;
            cluster.crash(i);
            true
        }
    }
}

fn keep_every_service(cluster: &mut Cluster, chaos: &mut Chaos) {
    for service in Service::ALL {
        if !cluster.members.iter().any(|m| m.service == service) {
            let (f, x) = (chaos.fetch(), chaos.faults());
            cluster.start(service, f, x).expect("restart");
        }
    }
}

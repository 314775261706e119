//! The wismo side: the three service binaries on fresh groups and fresh internal
//! and output topics (a topic prefix of the run's own), timed from their start
//! until every command `replay` decides for the backlog is on the command topics.
//!
//! Staged (the default): the scan-matcher first, alone, until it has routed every
//! scan replay routes; then the order-tracker and dispatcher start beside it, and
//! find every routed scan waiting, as after an order-tracker outage. With
//! `all_at_once` the three start together and the engine's watermarks keep the
//! tracker from running ahead of the matcher. Either way the services decide the
//! backlog in event time; the commands are compared with replay's, whole records.

use super::commands::{self, Commands, COMMAND_TOPICS};
use super::input::Input;
use crate::measure::process_cpu_seconds;
use crate::service::Service;
use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use wismo_config::Topics;
use wismo_e2e::{service_binary, unique_name};

const POLL: Duration = Duration::from_millis(50);
const SERVICES: [&str; 3] = ["scan-matcher", "order-tracker", "dispatcher"];
/// Commands decided this long before the services stopped are compared: later
/// ones may still have been on their way.
const MARGIN_MS: i64 = 10_000;

/// One timed pipeline run.
#[derive(Debug)]
pub struct WismoRun {
    /// From starting the first process until the last command of the backlog
    /// was on its topic, less the pause between the stages.
    pub wall: f64,
    /// Of that, start-up: until each stage first consumed a record.
    pub start_up: f64,
    /// CPU seconds of the scan-matcher, order-tracker and dispatcher processes
    /// when the backlog was decided.
    pub cpu: [f64; 3],
    /// The broker's CPU seconds over the run, when its pid is known.
    pub broker_cpu: Option<f64>,
    /// Every command on the run's command topics.
    pub commands: Commands,
    /// Commands decided by this instant (epoch ms) are final on both sides.
    pub cut: i64,
    /// Records the order-tracker consumed, input records read again included:
    /// above the input's count when it reads a partition more than once.
    pub tracker_consumed: f64,
    /// Records the scan-matcher and the order-tracker spilled to disk (merged
    /// inputs whose writers ran apart).
    pub spilled: [f64; 2],
    /// States the order-tracker decoded from their bytes (kept as bytes past
    /// `WISMO_MAX_DECODED_STATES`).
    pub tracker_decoded: f64,
    /// The order-tracker's changelog as written in the run: records and value bytes.
    pub changelog: (u64, u64),
    /// Records on the run's dead-letter topic.
    pub dead_letters: u64,
    /// Per service: its commits and timers.
    pub commits: [Commits; 3],
    /// Wall seconds of the scan-matcher's stage alone, its start-up included
    /// (0 when all at once).
    pub first_stage: f64,
}

/// What one service's commits took, from its metrics.
#[derive(Debug, Default, Clone, Copy)]
pub struct Commits {
    pub count: f64,
    /// Wall seconds in commits, and in each of [`COMMIT_STAGES`].
    pub seconds: f64,
    pub stages: [f64; COMMIT_STAGES.len()],
    pub timers_fired: f64,
}

/// The stages of a commit (`wismo_stage_seconds`): at least once, then the one
/// of a transactional commit.
pub const COMMIT_STAGES: [&str; 5] = [
    "produce",
    "changelog_encode",
    "changelog_produce",
    "offsets",
    "transaction",
];

impl Commits {
    fn read(metrics: &str) -> Self {
        Commits {
            count: counter(metrics, "wismo_commits_total", ""),
            seconds: counter(metrics, "wismo_commit_seconds_sum", ""),
            stages: COMMIT_STAGES.map(|stage| {
                counter(
                    metrics,
                    "wismo_stage_seconds_sum",
                    &format!("stage=\"{stage}\""),
                )
            }),
            timers_fired: counter(metrics, "wismo_timers_fired_total", ""),
        }
    }
}

/// How to run the services.
pub struct Setup<'a> {
    pub bootstrap: &'a str,
    pub orders: &'a str,
    pub scans: &'a str,
    pub partitions: i32,
    pub policy: &'a Path,
    pub extra_env: &'a [(&'a str, &'a str)],
    pub broker_pid: Option<u32>,
    pub all_at_once: bool,
    pub timeout: Duration,
}

/// Sum of a counter over every label set whose labels contain `needle`.
pub(crate) fn counter(metrics: &str, name: &str, needle: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(name) && l.contains(needle))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

pub fn run(setup: &Setup<'_>, input: &Input) -> anyhow::Result<WismoRun> {
    let prefix = unique_name("loadtest") + ".";
    let policy = setup.policy.to_str().context("policy path is not UTF-8")?;
    let mut env: Vec<(String, String)> = vec![
        ("WISMO_BOOTSTRAP_SERVERS".into(), setup.bootstrap.into()),
        ("WISMO_TOPIC_PREFIX".into(), prefix.clone()),
        ("WISMO_TOPIC_ORDERS".into(), setup.orders.into()),
        ("WISMO_TOPIC_CARRIER_SCANS".into(), setup.scans.into()),
        ("WISMO_POLICY_FILE".into(), policy.into()),
        ("RUST_LOG".into(), "warn".into()),
    ];
    env.extend(
        setup
            .extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let topics = Topics::from_env(&wismo_config::Env::from_pairs(env.clone()));
    create_topics(setup, &env)?;

    let broker0 = setup.broker_pid.map(process_cpu_seconds).transpose()?;
    let deadline = Instant::now() + setup.timeout;
    let started = Instant::now();
    let mut services: [Option<Service>; 3] = [Some(Service::start(SERVICES[0], &env)?), None, None];
    let mut cpu = [0.0; 3];
    let mut start_up = Duration::ZERO;
    let mut paused = Duration::ZERO;
    let mut first_stage = Duration::ZERO;
    if setup.all_at_once {
        services[1] = Some(Service::start(SERVICES[1], &env)?);
        services[2] = Some(Service::start(SERVICES[2], &env)?);
    } else {
        let (mut routed, mut consumed) = (0.0, 0.0);
        let waited = wait(deadline, || {
            let m = services[0].as_mut().context("matcher")?.metrics()?;
            routed = counter(&m, "wismo_records_produced_total", &topics.routed_scans);
            consumed = counter(&m, "wismo_records_consumed_total", "");
            Ok((consumed > 0.0, routed >= input.replayed.routed as f64))
        });
        let (first, _) = waited.with_context(|| {
            format!(
                "after {:.0}s: the scan-matcher routed {routed:.0} of the {} scans replay \
                 routes and consumed {consumed:.0} records",
                started.elapsed().as_secs_f64(),
                input.replayed.routed
            )
        })?;
        start_up += first.duration_since(started);
        first_stage = started.elapsed();
        // The scan-matcher keeps running, as it does while the order-tracker is
        // down: its watermarks tell the tracker how far it has come. Stopped, it
        // would fall silent, and the tracker would wait for it for
        // `WISMO_UPSTREAM_TIMEOUT` (60 s) before deciding the last routed scans.
        let pause = Instant::now();
        services[1] = Some(Service::start(SERVICES[1], &env)?);
        services[2] = Some(Service::start(SERVICES[2], &env)?);
        paused = pause.elapsed();
    }
    let stage = Instant::now();
    let expected = input.replayed.commands.len() as i64;
    let counter_client = CommandCount::new(setup.bootstrap, &topics)?;
    let mut tracker_consumed = 0.0;
    let mut spilled = [0.0; 2];
    let mut on_topics = 0;
    let waited = wait(deadline, || {
        let t = services[1].as_mut().context("tracker")?.metrics()?;
        tracker_consumed = counter(&t, "wismo_records_consumed_total", "");
        spilled[1] = counter(&t, "wismo_spilled_records_total", "");
        on_topics = counter_client.count()?;
        Ok((tracker_consumed > 0.0, on_topics >= expected))
    });
    if waited.is_err() {
        // Say which commands are missing or differ before giving up.
        if let Ok(live) = commands::read(setup.bootstrap, &topics) {
            commands::compare(&live, &input.replayed.commands, i64::MAX);
        }
    }
    let (first, done) = waited.with_context(|| {
        format!(
            "after {:.0}s: {on_topics} of the {expected} commands on their topics; the \
             order-tracker consumed {tracker_consumed:.0} records",
            started.elapsed().as_secs_f64()
        )
    })?;
    start_up += first.duration_since(stage);
    let m = services[0].as_mut().context("matcher")?.metrics()?;
    spilled[0] = counter(&m, "wismo_spilled_records_total", "");
    let tracker_decoded = match services[1].as_mut() {
        Some(t) => counter(&t.metrics()?, "wismo_states_decoded_total", ""),
        None => 0.0,
    };
    let mut commits = [Commits::default(); 3];
    for (i, s) in services.iter_mut().enumerate() {
        if let Some(s) = s {
            cpu[i] = s.cpu()?;
            commits[i] = Commits::read(&s.metrics()?);
        }
    }
    let broker1 = setup.broker_pid.map(process_cpu_seconds).transpose()?;
    let stopped_at = chrono::Utc::now().timestamp_millis();
    for s in services.iter_mut().flatten() {
        s.stop()?;
    }
    let commands = commands::read(setup.bootstrap, &topics)?;
    let changelog = topic_size(setup.bootstrap, &topics.tracker_changelog)?;
    let (dead_letters, _) = topic_size(setup.bootstrap, &topics.dead_letter)?;
    Ok(WismoRun {
        wall: (done.duration_since(started) - paused).as_secs_f64(),
        start_up: start_up.as_secs_f64(),
        cpu,
        broker_cpu: broker1.zip(broker0).map(|(b1, b0)| b1 - b0),
        commands,
        cut: stopped_at - MARGIN_MS,
        tracker_consumed,
        spilled,
        tracker_decoded,
        changelog,
        dead_letters,
        commits,
        first_stage: first_stage.as_secs_f64(),
    })
}

/// Records on `topic` and the bytes of their values, read to its end.
fn topic_size(bootstrap: &str, topic: &str) -> anyhow::Result<(u64, u64)> {
    let (mut records, mut bytes) = (0u64, 0u64);
    crate::topic::read_topic(bootstrap, topic, |m| {
        records += 1;
        bytes += rdkafka::Message::payload(m).map_or(0, <[u8]>::len) as u64;
        Ok(())
    })?;
    Ok((records, bytes))
}

/// Looks every 50 ms; `look` says (started, done). Returns when each first held.
fn wait(
    deadline: Instant,
    mut look: impl FnMut() -> anyhow::Result<(bool, bool)>,
) -> anyhow::Result<(Instant, Instant)> {
    let mut first = None;
    loop {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the backlog was not decided in time"
        );
        let (started, done) = look()?;
        let now = Instant::now();
        if started {
            first.get_or_insert(now);
        }
        if done {
            return Ok((first.unwrap_or(now), now));
        }
        std::thread::sleep(POLL);
    }
}

/// Records on the run's command topics, from their high watermarks (no
/// watermark records travel there: they are external topics).
struct CommandCount {
    client: BaseConsumer,
    topics: Vec<String>,
}

impl CommandCount {
    fn new(bootstrap: &str, topics: &Topics) -> anyhow::Result<Self> {
        Ok(CommandCount {
            client: ClientConfig::new()
                .set("bootstrap.servers", bootstrap)
                .create()
                .context("creating a watermark client")?,
            topics: COMMAND_TOPICS
                .iter()
                .map(|t| topics.resolve(t).to_string())
                .collect(),
        })
    }

    fn count(&self) -> anyhow::Result<i64> {
        let mut n = 0;
        for topic in &self.topics {
            let md = self
                .client
                .fetch_metadata(Some(topic), Duration::from_secs(10))?;
            for t in md.topics() {
                for p in t.partitions() {
                    let (low, high) =
                        self.client
                            .fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
                    n += high - low;
                }
            }
        }
        Ok(n)
    }
}

/// The run's topics, made as an operator makes them: `wismoctl create-topics`
/// with the run's settings (the shared inputs exist already).
fn create_topics(setup: &Setup<'_>, env: &[(String, String)]) -> anyhow::Result<()> {
    let out = Command::new(service_binary("wismoctl")?)
        .args([
            "--bootstrap",
            setup.bootstrap,
            "create-topics",
            "--partitions",
        ])
        .arg(setup.partitions.to_string())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .context("running wismoctl create-topics")?;
    anyhow::ensure!(
        out.status.success(),
        "wismoctl create-topics failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

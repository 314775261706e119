//! The wismo side: the three service binaries on fresh groups and fresh internal
//! and output topics, timed from their start until the backlog is decided.
//!
//! Progress is read every 50 ms from each service's `/metrics` and from the
//! groups' committed offsets (see [`Counts`]). The backlog is decided when the
//! scan-matcher has committed every input record and every shipment registration
//! it produced, the order-tracker every order event and every scan the matcher
//! routed, and the dispatcher every command the tracker put on the outbox. A batch
//! is committed only after its outputs are acknowledged, so then every output is
//! on its topic. The state must then hold for two seconds and two more loop
//! passes of every running service (the tracker fires its due timers once it has
//! caught up); the time and CPU reported are those of the first look at it.

use super::input::Input;
use super::progress::{self, Committed, Counts, Watched};
use crate::measure::process_cpu_seconds;
use anyhow::{bail, Context};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use wismo_e2e::{free_port, http_get, service_binary, unique_name, ServiceProcess};

const POLL: Duration = Duration::from_millis(50);
const SETTLE: Duration = Duration::from_secs(2);
const SERVICES: [&str; 3] = ["scan-matcher", "order-tracker", "dispatcher"];

/// One timed pipeline run.
#[derive(Debug, Clone, Copy)]
pub struct WismoRun {
    /// From starting the first process until the backlog was decided, less the
    /// confirmation between the stages.
    pub wall: f64,
    /// Of that, start-up: until the first record was consumed, and (staged) from
    /// starting the tracker until it consumed one.
    pub start_up: f64,
    /// CPU seconds of the scan-matcher, order-tracker and dispatcher processes
    /// when their work was done.
    pub cpu: [f64; 3],
    /// The broker's CPU seconds over the run, when its pid is known.
    pub broker_cpu: Option<f64>,
    pub counts: Counts,
}

/// Topic names of one run. The inputs are shared by every run; the rest are new.
struct RunTopics {
    orders: String,
    scans: String,
    registrations: String,
    routed: String,
    outbox: String,
    env: Vec<(String, String)>,
}

impl RunTopics {
    fn new(orders: &str, scans: &str) -> RunTopics {
        let run = unique_name("loadtest");
        let fresh = |what: &str| format!("{run}-{what}");
        let (registrations, routed, outbox) =
            (fresh("shipments"), fresh("routed-scans"), fresh("outbox"));
        let env = [
            ("WISMO_TOPIC_ORDERS", orders.to_string()),
            ("WISMO_TOPIC_CARRIER_SCANS", scans.to_string()),
            ("WISMO_TOPIC_SHIPMENT_REGISTRATIONS", registrations.clone()),
            ("WISMO_TOPIC_ROUTED_SCANS", routed.clone()),
            ("WISMO_TOPIC_OUTBOX", outbox.clone()),
            ("WISMO_TOPIC_NOTIFICATIONS", fresh("notifications")),
            ("WISMO_TOPIC_DELAY_APOLOGIES", fresh("delay-apologies")),
            ("WISMO_TOPIC_REVIEW_REQUESTS", fresh("review-requests")),
            ("WISMO_TOPIC_DEAD_LETTER", fresh("dead-letter")),
            ("WISMO_TOPIC_MATCHER_CHANGELOG", fresh("matcher-changelog")),
            ("WISMO_TOPIC_TRACKER_CHANGELOG", fresh("tracker-changelog")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        RunTopics {
            orders: orders.to_string(),
            scans: scans.to_string(),
            registrations,
            routed,
            outbox,
            env,
        }
    }

    fn watched(&self) -> Watched<'_> {
        Watched {
            orders: &self.orders,
            scans: &self.scans,
            registrations: &self.registrations,
            routed: &self.routed,
            outbox: &self.outbox,
        }
    }
}

/// A started service: its process and metrics port.
struct Running {
    process: ServiceProcess,
    http: u16,
}

/// What a run watches: the services (`None` before they start or after they
/// stop), their groups' offsets, and the last metrics of a stopped service.
struct Watch<'a> {
    services: [Option<Running>; 3],
    committed: [Committed; 3],
    frozen: [Option<String>; 3],
    topics: &'a RunTopics,
    broker_pid: Option<u32>,
    deadline: Instant,
}

/// One look at the run: when, what, and the CPU seconds then.
#[derive(Clone, Copy)]
struct Look {
    at: Instant,
    counts: Counts,
    /// Loop passes each running service has completed (`wismo_batch_seconds_count`);
    /// an idle service completes one per timer tick (100 ms).
    passes: [Option<u64>; 3],
    cpu: [Option<f64>; 3],
    broker: Option<f64>,
}

/// Runs the services over the backlog in `orders` and `scans` until it is
/// decided. `extra_env` goes to every service (e.g. `WISMO_KAFKA_CONSUMER_*`).
///
/// Staged (the default): the scan-matcher first, alone, until it has routed the
/// whole backlog; then it is stopped and the order-tracker and dispatcher start.
/// The tracker then finds every routed scan waiting, with its own timestamp, and
/// decides the backlog in stream time, as after a tracker restart. The two-second
/// confirmation between the stages is not counted. With `all_at_once` the three
/// start together (see `docs/performance.md` for why that is not the default).
#[allow(clippy::too_many_arguments)]
pub fn run(
    bootstrap: &str,
    input: &Input,
    (orders, scans): (&str, &str),
    partitions: i32,
    policy: &Path,
    extra_env: &[(&str, &str)],
    broker_pid: Option<u32>,
    all_at_once: bool,
    timeout: Duration,
) -> anyhow::Result<WismoRun> {
    let topics = RunTopics::new(orders, scans);
    create_topics(bootstrap, &topics, partitions)?;
    let groups = SERVICES.map(|name| unique_name(&format!("loadtest-{name}")));
    let policy = policy.to_str().context("policy path is not UTF-8")?;
    let env = |i: usize| -> Vec<(&str, &str)> {
        let mut env: Vec<(&str, &str)> = vec![
            ("WISMO_BOOTSTRAP_SERVERS", bootstrap),
            ("WISMO_GROUP_ID", &groups[i]),
            ("WISMO_POLICY_FILE", policy),
            ("RUST_LOG", "warn"),
        ];
        env.extend(topics.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        env.extend_from_slice(extra_env);
        env
    };
    let committed = [
        Committed::new(
            bootstrap,
            &groups[0],
            &[orders, scans, &topics.registrations],
            partitions,
        )?,
        Committed::new(bootstrap, &groups[1], &[orders, &topics.routed], partitions)?,
        Committed::new(bootstrap, &groups[2], &[&topics.outbox], partitions)?,
    ];

    let broker0 = broker_pid.map(process_cpu_seconds).transpose()?;
    let started = Instant::now();
    let mut watch = Watch {
        services: [Some(start(SERVICES[0], &env(0))?), None, None],
        committed,
        frozen: [None, None, None],
        topics: &topics,
        broker_pid,
        deadline: started + timeout,
    };
    let mut start_up = Duration::ZERO;
    let (mut paused, mut broker_paused, mut matcher_cpu) = (Duration::ZERO, 0.0, None);
    if all_at_once {
        watch.services[1] = Some(start(SERVICES[1], &env(1))?);
        watch.services[2] = Some(start(SERVICES[2], &env(2))?);
    } else {
        let (look, first) = watch.until(Counts::matcher_started, |c| c.routed(input))?;
        start_up += first.duration_since(started);
        // The matcher's work is done: stop it, so neither its idle polling nor the
        // confirmation counts; its last metrics stand in for it from now on.
        matcher_cpu = look.cpu[0];
        if let Some(mut matcher) = watch.services[0].take() {
            watch.frozen[0] = http_get(matcher.http, "/metrics").map(|(_, body)| body);
            matcher.process.terminate_within(Duration::from_secs(5))?;
        }
        paused = look.at.elapsed();
        if let (Some(pid), Some(then)) = (broker_pid, look.broker) {
            broker_paused = process_cpu_seconds(pid)? - then;
        }
        watch.services[1] = Some(start(SERVICES[1], &env(1))?);
        watch.services[2] = Some(start(SERVICES[2], &env(2))?);
    }
    let stage = Instant::now();
    let (look, first) = watch.until(
        |c| c.tracker_started() || (all_at_once && c.matcher_started()),
        |c| c.routed(input) && c.decided(input),
    )?;
    start_up += first.duration_since(stage);

    for s in watch.services.iter_mut().flatten() {
        s.process.terminate_within(Duration::from_secs(5))?;
    }
    let cpu = [matcher_cpu.or(look.cpu[0]), look.cpu[1], look.cpu[2]];
    Ok(WismoRun {
        wall: (look.at.duration_since(started) - paused).as_secs_f64(),
        start_up: start_up.as_secs_f64(),
        cpu: cpu.map(|c| c.unwrap_or_default()),
        broker_cpu: look
            .broker
            .zip(broker0)
            .map(|(b, b0)| b - b0 - broker_paused),
        counts: look.counts,
    })
}

impl Watch<'_> {
    /// Looks every 50 ms until `done` holds and the counts stay unchanged for two
    /// seconds while every running service completes two more loop passes. A
    /// service that has caught up fires its due timers in its next pass, which may
    /// take seconds and changes no counter until its outputs are acknowledged; the
    /// passes show it has finished. Returns the first look at the final counts,
    /// and when `started` first held.
    fn until(
        &mut self,
        started: impl Fn(&Counts) -> bool,
        done: impl Fn(&Counts) -> bool,
    ) -> anyhow::Result<(Look, Instant)> {
        let mut first = None;
        let mut settled: Option<Look> = None;
        loop {
            if Instant::now() > self.deadline {
                bail!(
                    "the backlog was not decided in time; last counts: {:?}",
                    settled.map(|s| s.counts)
                );
            }
            if let Some(look) = self.look()? {
                if first.is_none() && started(&look.counts) {
                    first = Some(look.at);
                }
                match settled {
                    _ if !done(&look.counts) => settled = None,
                    Some(s) if s.counts == look.counts => {
                        let passed = s.passes.iter().zip(look.passes).all(|(then, now)| {
                            then.zip(now).is_none_or(|(then, now)| now >= then + 2)
                        });
                        if passed && look.at.duration_since(s.at) >= SETTLE {
                            return Ok((s, first.unwrap_or(s.at)));
                        }
                    }
                    _ => settled = Some(look),
                }
            }
            std::thread::sleep(POLL);
        }
    }

    /// One look; `None` while a running service does not answer on `/metrics` yet.
    fn look(&mut self) -> anyhow::Result<Option<Look>> {
        for s in self.services.iter_mut().flatten() {
            if let Some(status) = s.process.try_wait()? {
                bail!(
                    "{} exited ({status}); last output:\n{}",
                    s.process.name(),
                    s.process.log_tail(30)
                );
            }
        }
        let at = Instant::now();
        let mut cpu = [None; 3];
        for (slot, s) in cpu.iter_mut().zip(&self.services) {
            if let Some(s) = s {
                *slot = Some(process_cpu_seconds(s.process.pid())?);
            }
        }
        let broker = self.broker_pid.map(process_cpu_seconds).transpose()?;
        let mut bodies: [String; 3] = Default::default();
        for (i, body) in bodies.iter_mut().enumerate() {
            *body = match (&self.services[i], &self.frozen[i]) {
                (Some(s), _) => match http_get(s.http, "/metrics") {
                    Some((_, b)) => b,
                    None => return Ok(None),
                },
                (None, Some(frozen)) => frozen.clone(),
                (None, None) => String::new(),
            };
        }
        let committed = [
            self.committed[0].sum()?,
            self.committed[1].sum()?,
            self.committed[2].sum()?,
        ];
        let mut passes = [None; 3];
        for (i, slot) in passes.iter_mut().enumerate() {
            if self.services[i].is_some() {
                *slot = Some(progress::passes(&bodies[i]));
            }
        }
        let [m, o, d] = &bodies;
        let counts = Counts::read(&self.topics.watched(), [m, o, d], committed);
        Ok(Some(Look {
            at,
            counts,
            passes,
            cpu,
            broker,
        }))
    }
}

/// The run's topics, made as an operator makes them: `wismoctl create-topics`
/// with the run's `WISMO_TOPIC_*` names (the shared inputs exist already).
fn create_topics(bootstrap: &str, topics: &RunTopics, partitions: i32) -> anyhow::Result<()> {
    let out = Command::new(service_binary("wismoctl")?)
        .args(["--bootstrap", bootstrap, "create-topics", "--partitions"])
        .arg(partitions.to_string())
        .envs(topics.env.iter().map(|(k, v)| (k, v)))
        .output()
        .context("running wismoctl create-topics")?;
    anyhow::ensure!(
        out.status.success(),
        "wismoctl create-topics failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (_, topic) in &topics.env {
        wismo_e2e::wait_for_topic(bootstrap, topic, Duration::from_secs(30))?;
    }
    Ok(())
}

fn start(name: &str, env: &[(&str, &str)]) -> anyhow::Result<Running> {
    let http = free_port()?;
    let addr = format!("127.0.0.1:{http}");
    let mut env = env.to_vec();
    env.push(("WISMO_HTTP_ADDR", &addr));
    let process = ServiceProcess::spawn(service_binary(name)?, &env)?;
    Ok(Running { process, http })
}

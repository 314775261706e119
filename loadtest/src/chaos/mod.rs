//! `loadtest chaos`: faults under a paced load, against a real Apache Kafka
//! broker, with the ground truth from `replay`.
//!
//! Once per delivery mode, on a broker of its own: the three services start with
//! one instance each; a paced load of orders and their scans runs ([`load`]);
//! meanwhile the seeded schedule ([`schedule`]) kills instances with SIGKILL,
//! scales every service 1 → 3 → 1, restarts them all one by one with SIGTERM,
//! and stops the broker (keeping its data) for 30 s or more. Then the records on
//! the input topics go through `replay` ([`truth`]), and the commands on the
//! topics are compared with replay's, whole records ([`verdict`]).
//!
//! Ends with one `chaos: mode=<m> expected=<n> lost=<n> dup=<n> mismatched=<n>`
//! line per mode, and fails if a command was lost, differs from replay's, is one
//! replay never decided, repeats in transactional mode, or a service exited
//! without being told to.

mod faults;
mod fleet;
mod load;
pub(crate) mod profile;
mod report;
mod rng;
mod schedule;
pub(crate) mod story;
mod truth;
mod verdict;
mod watch;

use anyhow::Context;
use clap::Args;
use profile::{Profile, ProfileName};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wismo_config::Topics;

/// How long the end of a run waits for a command replay decided while none
/// more arrives.
const STALL: Duration = Duration::from_secs(60);

#[derive(Args)]
pub struct ChaosArgs {
    #[arg(long, value_enum, default_value = "short")]
    profile: ProfileName,
    /// Seeds the fault schedule and the orders.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Delivery modes to run, one after the other.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "at-least-once,transactional"
    )]
    modes: Vec<String>,
    /// Orders instead of the profile's number (placed over the same time).
    #[arg(long)]
    orders: Option<u64>,
    /// The per-recipient cap of the chaos policy. High by default (see
    /// `profile::policy`).
    #[arg(long, default_value_t = 1_000_000)]
    per_recipient_max: u32,
    /// A whole policy file instead of the chaos policy (its thresholds must be
    /// seconds for timers to fire during the run).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// How far ahead of its timestamp each input record is produced, in ms.
    #[arg(long, default_value_t = 2_000)]
    lead_ms: u64,
    /// How long past the last input and the last fault the comparison reaches,
    /// in seconds, so the timers armed at the end fire (the profile's by default).
    #[arg(long)]
    tail_secs: Option<u64>,
    /// Where the services' logs go (kept). Without it, a temp dir kept only
    /// when a mode fails.
    #[arg(long)]
    logs: Option<PathBuf>,
}

pub fn run(args: ChaosArgs) -> anyhow::Result<()> {
    for name in ["scan-matcher", "order-tracker", "dispatcher", "wismoctl"] {
        wismo_e2e::service_binary(name)?;
    }
    for m in &args.modes {
        anyhow::ensure!(
            ["at-least-once", "transactional"].contains(&m.as_str()),
            "--modes takes at-least-once and transactional, not {m}"
        );
    }
    let mut profile = Profile::of(args.profile);
    if let Some(n) = args.orders {
        anyhow::ensure!(n > 0, "--orders must be positive");
        profile.orders = n;
    }
    if let Some(secs) = args.tail_secs {
        profile.tail = Duration::from_secs(secs);
    }
    let plan = schedule::schedule(args.seed, &profile);
    let temp = tempfile::Builder::new().prefix("wismo-chaos-").tempdir()?;
    let logs = args
        .logs
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&logs)?;
    let policy = match &args.policy {
        Some(p) => p.clone(),
        None => {
            let p = logs.join("policy.toml");
            std::fs::write(&p, profile::policy(args.per_recipient_max))?;
            p
        }
    };
    wismo_config::policy::load_policy(&policy)?;
    report::schedule(&args, &profile, &plan, &policy);

    let mut lines = Vec::new();
    let mut failed = Vec::new();
    for mode in &args.modes {
        let dir = logs.join(mode);
        std::fs::create_dir_all(&dir)?;
        let outcome = run_mode(&args, &profile, &plan, mode, &policy, &dir)
            .with_context(|| format!("chaos in {mode} mode (logs in {})", dir.display()))?;
        let passed = outcome.passed();
        report::mode(mode, &outcome);
        lines.push(report::line(mode, &outcome.verdict));
        if !passed {
            failed.push(mode.clone());
        }
    }
    println!();
    for l in &lines {
        println!("{l}");
    }
    if !failed.is_empty() {
        if args.logs.is_none() {
            let kept = temp.keep();
            eprintln!("chaos: service logs kept in {}", kept.display());
        }
        anyhow::bail!("chaos failed in {}", failed.join(", "));
    }
    Ok(())
}

/// Everything one mode's run found.
pub struct Outcome {
    pub profile: Profile,
    pub bootstrap: String,
    pub load: load::LoadReport,
    pub baseline: Option<f64>,
    pub faults: Vec<faults::Done>,
    pub truth: truth::Truth,
    pub verdict: verdict::Verdict,
    pub live_dead_letters: usize,
    pub uncaused: Vec<fleet::Exit>,
    pub unclean_stops: Vec<fleet::Exit>,
    pub counters: std::collections::BTreeMap<(&'static str, &'static str), f64>,
    pub kills: [usize; 3],
    pub cut: i64,
    /// Wall seconds of each phase, in order.
    pub phases: Vec<(&'static str, f64)>,
    pub examples: Vec<String>,
    pub transactional: bool,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.verdict.passed(self.transactional)
            && self.uncaused.is_empty()
            && self.live_dead_letters == self.truth.dead_letters
    }
}

fn run_mode(
    args: &ChaosArgs,
    profile: &Profile,
    plan: &[schedule::Planned],
    mode: &str,
    policy: &Path,
    logs: &Path,
) -> anyhow::Result<Outcome> {
    let mut phases = Phases::new(mode);
    eprintln!("chaos: {mode}: starting a broker");
    let mut broker = wismo_e2e::Broker::start()?;
    let bootstrap = broker.bootstrap();
    let prefix = wismo_e2e::unique_name("chaos") + ".";
    let env: Vec<(String, String)> = [
        ("WISMO_BOOTSTRAP_SERVERS", bootstrap.as_str()),
        ("WISMO_TOPIC_PREFIX", prefix.as_str()),
        ("WISMO_POLICY_FILE", policy.to_str().context("policy path")?),
        ("WISMO_COALESCE_WINDOW", profile::COALESCE_WINDOW),
        ("WISMO_DELIVERY_MODE", mode),
        ("RUST_LOG", "info"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = wismo_config::Env::from_pairs(env.clone());
    let topics = Topics::from_env(&config);
    crate::topic::create_all(&bootstrap, &env, profile.partitions)?;

    let mut fleet = fleet::Fleet::new(env.clone(), logs);
    for service in 0..3 {
        fleet.start(service, 0)?;
    }
    for service in 0..3 {
        fleet.wait_ready(service, 0, Duration::from_secs(120))?;
    }
    let watcher = watch::Watcher::start(&bootstrap, &topics)?;
    phases.mark("start-up");
    let load = load::Load::start(load::Plan {
        bootstrap: bootstrap.clone(),
        topics: topics.clone(),
        seed: args.seed,
        orders: profile.orders,
        load: profile.load,
        lead: Duration::from_millis(args.lead_ms),
    })?;
    let groups = Arc::new(watch::Groups::of(&prefix, &topics));
    let mut runner = faults::Runner {
        fleet: &mut fleet,
        broker: &mut broker,
        load: &load,
        groups: groups.clone(),
        bootstrap: bootstrap.clone(),
        broker_up: true,
    };
    runner.until_load(profile.load.mul_f64(0.03))?;
    let baseline = runner.baseline()?;
    let faults = runner.run(plan)?;
    drop(runner);
    let load_report = load.join()?;
    phases.mark("load and faults");

    // Compare up to a cut past the last input and the last fault, once every
    // timer due by then has had its time to fire.
    let last_fault = faults.iter().map(|f| f.end).max().unwrap_or(0);
    let cut = load_report.last_ts.max(last_fault) + profile.tail.as_millis() as i64;
    let idle = chrono::Utc::now().timestamp_millis();
    fleet_wait(
        &mut fleet,
        Duration::from_millis((cut + 1_000 - idle).max(0) as u64),
    )?;
    phases.mark("tail");
    let truth = truth::replay(&bootstrap, &topics, &config, cut)?;
    phases.mark("replay");
    anyhow::ensure!(
        truth.inputs as u64 == load_report.records,
        "the input topics hold {} records, the load produced {}",
        truth.inputs,
        load_report.records
    );
    let expected: Vec<(usize, String)> = (truth.commands.iter())
        .filter(|(_, v)| v["decided_at"].as_i64().is_some_and(|d| d <= cut))
        .map(|(k, _)| k.clone())
        .collect();
    anyhow::ensure!(
        expected.len() as u64 >= profile.orders,
        "replay decided only {} commands for {} orders: the load did not reach the pipeline",
        expected.len(),
        profile.orders
    );
    // Every command replay decides, or none more for a while: what is missing
    // then is lost.
    let (mut missing, mut progressed) = (usize::MAX, Instant::now());
    loop {
        let ids = watcher.ids();
        let now_missing = expected.iter().filter(|k| !ids.contains(k)).count();
        if now_missing == 0 || progressed.elapsed() > STALL {
            break;
        }
        if now_missing < missing {
            (missing, progressed) = (now_missing, Instant::now());
        }
        fleet_wait(&mut fleet, Duration::from_millis(500))?;
    }
    // A clean stop sends what each instance still holds: the topics read after
    // it hold every copy of every command.
    phases.mark("settle");
    fleet.stop_all()?;
    let live = watch::read_all(&bootstrap, &topics)?;
    // What the last stops sent reaches the watcher too, for its arrival times.
    let caught_up = Instant::now() + Duration::from_secs(30);
    while watcher.count() < live.len() && Instant::now() < caught_up {
        std::thread::sleep(Duration::from_millis(100));
    }
    let seen = watcher.stop()?;
    anyhow::ensure!(
        seen.len() == live.len(),
        "the watcher saw {} command records, the topics hold {}",
        seen.len(),
        live.len()
    );
    let live_dead_letters = watch::count(&bootstrap, &topics.dead_letter)?;
    let verdict = verdict::judge(&truth, verdict::render(&topics), &live, &seen, cut);
    let examples = report::examples(&verdict, &truth, &live, &topics, &faults);
    phases.mark("stop and compare");
    Ok(Outcome {
        profile: profile.clone(),
        bootstrap,
        load: load_report,
        baseline,
        faults,
        truth,
        verdict,
        live_dead_letters,
        uncaused: std::mem::take(&mut fleet.uncaused),
        unclean_stops: std::mem::take(&mut fleet.unclean_stops),
        counters: std::mem::take(&mut fleet.counters),
        kills: fleet.kills,
        cut,
        phases: phases.done,
        examples,
        transactional: mode == "transactional",
    })
}

/// Lets `d` of wall time pass while looking after the fleet.
fn fleet_wait(fleet: &mut fleet::Fleet, d: Duration) -> anyhow::Result<()> {
    let until = Instant::now() + d;
    loop {
        fleet.supervise(true)?;
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(200)));
    }
}

/// Wall time of a mode's phases, each logged as it ends.
struct Phases {
    mode: String,
    last: Instant,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new(mode: &str) -> Phases {
        Phases {
            mode: mode.to_string(),
            last: Instant::now(),
            done: Vec::new(),
        }
    }

    fn mark(&mut self, phase: &'static str) {
        let secs = self.last.elapsed().as_secs_f64();
        self.last = Instant::now();
        eprintln!("chaos: {}: {phase} took {secs:.1}s", self.mode);
        self.done.push((phase, secs));
    }
}

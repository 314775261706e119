//! `loadtest steady --rate R --minutes M`: a paced live flow through the three
//! services, with end-to-end latency and time-to-detect percentiles.
//!
//! On a throwaway Apache Kafka broker: the run's topics (`wismoctl
//! create-topics`), the command topics stamped with the broker's append time;
//! with `--open-timers N`, N order states with armed, far-future timers written
//! to the order-tracker's changelog first ([`timers`]), so the tracker holds N
//! timers while the flow runs; then the scan-matcher, order-tracker and
//! dispatcher release binaries, and `R` input records per second for `M`
//! minutes ([`pace`]), the chaos run's stories under its policy of seconds
//! ([`policy_text`]), so parcels turn late or stuck and timers come due while
//! the run goes on. After
//! a tail for the last timers, every command is read back and matched to its
//! order's inputs ([`latency`]); the services' `wismo_detection_lag_seconds`
//! histograms, scraped before and after, give time to detect ([`report`]).
//!
//! Ends with one `summary:` line. See `docs/performance.md`, section 5.

mod latency;
mod pace;
mod report;
mod stats;
mod timers;

use crate::chaos::profile;
use crate::service::{Service, NAMES, TRACKER};
use anyhow::{ensure, Context};
use clap::Args;
use stats::Histogram;
use std::time::{Duration, Instant};
use wismo_config::Topics;

/// How often the services' metrics are sampled during the run.
const SAMPLE: Duration = Duration::from_secs(1);

#[derive(Args)]
pub struct SteadyArgs {
    /// Input records per second (order events and scans together).
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Minutes of paced input.
    #[arg(long, default_value_t = 3.0)]
    minutes: f64,
    /// Order states with an armed, far-future timer restored by the
    /// order-tracker before the flow starts (the 1 M-timer profile: 1000000).
    #[arg(long, default_value_t = 0)]
    open_timers: u64,
    /// Partitions of every topic.
    #[arg(long, default_value_t = 2)]
    partitions: i32,
    /// Seeds the orders' stories.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds past the last input before the commands are read, so the timers
    /// of the last orders come due (the policy's longest is 30 s).
    #[arg(long, default_value_t = 40)]
    tail_secs: u64,
}

/// What the services' metrics showed over the run.
#[derive(Debug, Default)]
pub struct Observed {
    /// `wismo_timers_open` of the order-tracker: at the load's start, the
    /// fewest and the most while it ran.
    pub timers_at_start: f64,
    pub timers_min: f64,
    pub timers_max: f64,
    pub keys_max: f64,
    /// Peak RSS per service seen in the samples (bytes).
    pub rss_max: [u64; 3],
    pub cpu: [f64; 3],
    /// Seconds from starting the services until the tracker held every
    /// preloaded timer.
    pub restore_s: Option<f64>,
    /// Deltas over the run, summed over the services.
    pub detection: Histogram,
    pub timer_lag: Histogram,
    /// Which services observed detection lag.
    pub detection_by: Vec<(&'static str, f64)>,
}

pub fn run(args: SteadyArgs) -> anyhow::Result<()> {
    ensure!(args.rate > 0, "--rate must be positive");
    ensure!(args.minutes > 0.0, "--minutes must be positive");
    ensure!(args.partitions > 0, "--partitions must be positive");
    for name in NAMES.iter().chain(&["wismoctl"]) {
        wismo_e2e::service_binary(name)?;
    }
    let load_time = Duration::from_secs_f64(args.minutes * 60.0);
    eprintln!("steady: starting a throwaway Apache Kafka broker");
    let broker = wismo_e2e::Broker::start()?;
    let bootstrap = broker.bootstrap();
    let dir = tempfile::tempdir().context("creating a temp dir")?;
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, policy_text()?)?;
    let prefix = wismo_e2e::unique_name("steady") + ".";
    let env: Vec<(String, String)> = [
        ("WISMO_BOOTSTRAP_SERVERS", bootstrap.as_str()),
        ("WISMO_TOPIC_PREFIX", prefix.as_str()),
        ("WISMO_POLICY_FILE", policy.to_str().context("policy path")?),
        ("WISMO_COALESCE_WINDOW", profile::COALESCE_WINDOW),
        ("RUST_LOG", "warn"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = wismo_config::Env::from_pairs(env.clone());
    let topics = Topics::from_env(&config);
    crate::topic::create_all(&bootstrap, &env, args.partitions)?;
    latency::stamp_on_append(&bootstrap, &topics)?;

    let written = if args.open_timers > 0 {
        let tracker_config = wismo_config::tracker_config(&config)?;
        // Due after the run, however long writing and restoring take.
        let horizon = chrono::Utc::now()
            + chrono::Duration::from_std(load_time + Duration::from_secs(args.tail_secs))?
            + chrono::Duration::hours(6);
        let w = timers::write(
            &bootstrap,
            &topics.tracker_changelog,
            args.open_timers,
            &tracker_config,
            horizon,
        )?;
        eprintln!(
            "steady: wrote {} states ({} bytes, {:.0} B each) in {:.1}s; earliest deadline {}; \
             heap per decoded state {:.0} B",
            w.states,
            w.bytes,
            w.bytes as f64 / w.states as f64,
            w.seconds,
            w.earliest_deadline,
            w.heap_per_state
        );
        Some(w)
    } else {
        None
    };

    let started = Instant::now();
    let mut fleet = Vec::new();
    for name in NAMES {
        fleet.push(Service::start(name, &env)?);
    }
    let mut seen = Observed::default();
    if args.open_timers > 0 {
        let want = args.open_timers as f64;
        let mut open = 0.0;
        wismo_e2e::wait_until(
            "the order-tracker to hold every preloaded timer",
            Duration::from_secs(1_800),
            || {
                let m = fleet[TRACKER].metrics()?;
                open = crate::service::value(&m, "wismo_timers_open").unwrap_or(0.0);
                Ok((open >= want).then_some(()))
            },
        )
        .with_context(|| format!("{open} of {want} timers open"))?;
        seen.restore_s = Some(started.elapsed().as_secs_f64());
        eprintln!(
            "steady: the order-tracker holds {open} timers after {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    let before = scrape(&mut fleet)?;
    seen.timers_at_start =
        crate::service::value(&before[TRACKER], "wismo_timers_open").unwrap_or(0.0);
    seen.timers_min = f64::INFINITY;

    let load = pace::Load::start(pace::Plan {
        bootstrap: bootstrap.clone(),
        topics: topics.clone(),
        seed: args.seed,
        rate: args.rate,
        load: load_time,
    })?;
    let mut last = Instant::now();
    let mut samples = 0u64;
    while !load.is_finished() {
        // Sampling the services while the load runs, once a second.
        std::thread::sleep(Duration::from_millis(100));
        if last.elapsed() >= SAMPLE {
            last = Instant::now();
            sample(&mut fleet, &mut seen)?;
            samples += 1;
            let sent = load.sent.load(std::sync::atomic::Ordering::Relaxed);
            if samples.is_multiple_of(30) {
                eprintln!(
                    "steady: {sent} records sent, {} timers open",
                    seen.timers_max
                );
            }
        }
    }
    let produced = load.join()?;
    eprintln!(
        "steady: produced {} records of {} orders in {:.1}s ({:.1}/s); waiting {}s for the last timers",
        produced.records,
        produced.orders,
        produced.seconds,
        produced.records as f64 / produced.seconds,
        args.tail_secs
    );
    // The tail: the last orders' timers must come due; time passing is the point.
    let tail_end = Instant::now() + Duration::from_secs(args.tail_secs);
    while Instant::now() < tail_end {
        std::thread::sleep(SAMPLE);
        sample(&mut fleet, &mut seen)?;
    }
    let after = scrape(&mut fleet)?;
    for (i, s) in fleet.iter().enumerate() {
        seen.cpu[i] = s.cpu()?;
    }
    for (i, name) in NAMES.iter().enumerate() {
        let d = Histogram::parse(&after[i], "wismo_detection_lag_seconds")
            .minus(&Histogram::parse(&before[i], "wismo_detection_lag_seconds"));
        if d.count() > 0.0 {
            seen.detection_by.push((name, d.count()));
        }
        seen.detection = seen.detection.plus(&d);
    }
    seen.timer_lag = Histogram::parse(&after[TRACKER], "wismo_timer_lag_seconds").minus(
        &Histogram::parse(&before[TRACKER], "wismo_timer_lag_seconds"),
    );
    for s in &mut fleet {
        s.stop()?;
    }
    let commands = latency::read(&bootstrap, &topics)?;
    let (all, by_topic) = latency::figures(&commands, &produced.inputs);
    report::print(&report::Run {
        rate: args.rate,
        minutes: args.minutes,
        open_timers: args.open_timers,
        written: written.as_ref(),
        produced: &produced,
        commands: commands.len(),
        all: &all,
        by_topic: &by_topic,
        seen: &seen,
    });
    drop(broker);
    Ok(())
}

/// The chaos policy (thresholds of seconds, no quiet hours, no binding cap)
/// with the product's apology gap (24 h): a second apology to an order is
/// deferred past the run rather than measured as a late detection.
fn policy_text() -> anyhow::Result<String> {
    let chaos = profile::policy(1_000_000);
    let text = chaos.replace("apology_gap = \"10s\"", "apology_gap = \"24h\"");
    ensure!(
        text != chaos,
        "the chaos policy has no apology_gap to replace"
    );
    wismo_config::policy::parse_policy(&text, "steady")?;
    Ok(text)
}

/// Every service's `/metrics`, in [`NAMES`] order.
fn scrape(fleet: &mut [Service]) -> anyhow::Result<Vec<String>> {
    fleet.iter_mut().map(Service::metrics).collect()
}

fn sample(fleet: &mut [Service], seen: &mut Observed) -> anyhow::Result<()> {
    let m = fleet[TRACKER].metrics()?;
    if let Some(open) = crate::service::value(&m, "wismo_timers_open") {
        seen.timers_min = seen.timers_min.min(open);
        seen.timers_max = seen.timers_max.max(open);
    }
    if let Some(keys) = crate::service::value(&m, "wismo_state_keys") {
        seen.keys_max = seen.keys_max.max(keys);
    }
    for (i, s) in fleet.iter_mut().enumerate() {
        // Also fails if a service has exited.
        s.metrics()?;
        seen.rss_max[i] = seen.rss_max[i].max(s.rss()?);
    }
    Ok(())
}

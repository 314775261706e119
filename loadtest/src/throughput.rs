//! `loadtest throughput --orders N`: how fast the three services decide a backlog
//! of N orders' input, next to a raw consume-and-produce of the same records on
//! the same broker, and whether they decide exactly what `replay` decides.
//!
//! Produces the backlog once (to a throwaway Apache Kafka broker unless
//! `--bootstrap` names one), then per round runs, in an order that alternates
//! between rounds:
//! * raw: [`raw::passthrough`] of every input record to a scratch topic;
//! * wismo: [`pipeline::run`], the scan-matcher, order-tracker and dispatcher
//!   binaries on fresh groups and topics, until every command replay decides for
//!   the backlog is on its topic; then the commands are compared with replay's,
//!   whole records, and the dead letters counted (as many as replay's: none).
//!
//! Reports medians of the rounds and the medians of each round's wismo/raw ratios,
//! and ends with one `summary:` line. See `docs/performance.md`.

pub(crate) mod commands;
mod input;
mod peer;
pub(crate) mod pipeline;
mod raw;
mod replay;

use crate::measure::{self, child_pid, median, process_cpu_seconds};
use anyhow::{ensure, Context};
use clap::Args;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct ThroughputArgs {
    /// Orders in the backlog (each ~8 input records). 50000 is the heavy run.
    #[arg(long, default_value_t = 5_000)]
    orders: u64,
    /// Timed rounds; each runs every variant once.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Partitions of every topic.
    #[arg(long, default_value_t = 2)]
    partitions: i32,
    /// A broker to use; without it a throwaway Apache Kafka broker is started.
    #[arg(long)]
    bootstrap: Option<String>,
    /// The dispatcher's global egress rate (policy `egress_per_second`). Lifted by
    /// default, so the run measures the pipeline rather than the configured limit;
    /// 500 is the product default.
    #[arg(long, default_value_t = 1_000_000)]
    egress_per_second: u32,
    /// Start the three services together instead of the scan-matcher first.
    #[arg(long)]
    all_at_once: bool,
    /// The services' delivery mode: at-least-once or transactional.
    #[arg(long, default_value = "at-least-once")]
    delivery: String,
    /// Also run this peer implementation of the job in every round, beside raw and
    /// wismo (`loadtest/peers/`).
    #[arg(long, value_enum)]
    peer: Option<peer::Kind>,
    /// Longest a single run may take, in seconds.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
    /// An extra `KEY=VALUE` for the services' environment (repeatable), e.g.
    /// `--service-env WISMO_MAX_BUFFERED_RECORDS=100000`, to see what one setting
    /// changes. The figures in `docs/performance.md` use none unless they say so.
    #[arg(long = "service-env", value_parser = key_value)]
    service_env: Vec<(String, String)>,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Raw,
    Wismo,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::Raw => "raw passthrough",
            Variant::Wismo => "wismo pipeline",
        }
    }
}

/// One timed run of a variant, in the units both sides share.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: f64,
    /// Of `wall`, the time before records flowed: raw, until the first record
    /// arrived; wismo, see [`pipeline::WismoRun::start_up`].
    start_up: f64,
    cpu: f64,
    broker_cpu: Option<f64>,
}

impl Run {
    /// Wall seconds without the start-up.
    fn steady(&self) -> f64 {
        self.wall - self.start_up
    }
}

/// What every run of a round shares.
struct Bench {
    bootstrap: String,
    orders_topic: String,
    scans_topic: String,
    input: input::Input,
    policy: PathBuf,
    broker_pid: Option<u32>,
    partitions: i32,
    all_at_once: bool,
    delivery: String,
    service_env: Vec<(String, String)>,
    timeout: Duration,
}

pub fn run(args: ThroughputArgs) -> anyhow::Result<()> {
    ensure!(args.orders > 0, "--orders must be positive");
    ensure!(args.rounds > 0, "--rounds must be positive");
    ensure!(args.partitions > 0, "--partitions must be positive");
    ensure!(
        args.egress_per_second > 0,
        "--egress-per-second must be positive"
    );
    let (broker, bootstrap) = measure::broker(&args.bootstrap)?;
    // The broker's CPU is only visible when it is our child.
    let broker_pid = broker.as_ref().and_then(|_| child_pid("java"));

    // Fail before any run if a binary is missing.
    for name in ["scan-matcher", "order-tracker", "dispatcher", "wismoctl"] {
        wismo_e2e::service_binary(name)?;
    }
    let mut peer = peer::Peer::new(args.peer)?;
    let dir = tempfile::tempdir().context("creating a temp dir")?;
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[notifications]\negress_per_second = {}\n",
            args.egress_per_second
        ),
    )?;
    ensure!(
        ["at-least-once", "transactional"].contains(&args.delivery.as_str()),
        "--delivery is at-least-once or transactional"
    );
    wismo_config::policy::load_policy(&policy)?;

    let orders_topic = wismo_e2e::unique_name("loadtest-orders");
    let scans_topic = wismo_e2e::unique_name("loadtest-carrier-scans");
    wismo_e2e::create_topics(
        &bootstrap,
        &[
            (&orders_topic, args.partitions),
            (&scans_topic, args.partitions),
        ],
        false,
    )?;
    let t = Instant::now();
    let input = input::produce(
        &bootstrap,
        &orders_topic,
        &scans_topic,
        args.orders,
        &policy,
    )?;
    eprintln!(
        "broker {bootstrap}; produced {} orders in {:.1}s: {} order events ({} shipments), \
         {} scans, {} records, {} bytes; event times {} .. {}",
        input.orders,
        t.elapsed().as_secs_f64(),
        input.order_events,
        input.shipments,
        input.scans,
        input.records(),
        input.bytes,
        input.first.format("%Y-%m-%d %H:%M"),
        input.last.format("%Y-%m-%d %H:%M"),
    );
    if !args.service_env.is_empty() {
        eprintln!("service environment added: {:?}", args.service_env);
    }
    let bench = Bench {
        bootstrap,
        orders_topic,
        scans_topic,
        input,
        policy,
        broker_pid,
        partitions: args.partitions,
        all_at_once: args.all_at_once,
        delivery: args.delivery.clone(),
        service_env: args.service_env.clone(),
        timeout: Duration::from_secs(args.timeout_secs),
    };

    let variants = vec![Variant::Raw, Variant::Wismo];
    let mut runs: Vec<(usize, Variant, Run)> = Vec::new();
    let mut compared = Vec::new();
    for round in 1..=args.rounds {
        // Alternate the order, so drift and noise fall on every variant alike.
        let order: Vec<Variant> = if round % 2 == 1 {
            variants.clone()
        } else {
            variants.iter().rev().copied().collect()
        };
        for variant in order {
            let run = match variant {
                Variant::Raw => bench.raw()?,
                Variant::Wismo => {
                    let (run, comparison) = bench.wismo()?;
                    compared.push((round, comparison));
                    run
                }
            };
            eprintln!(
                "round {round}: {:<28} wall {:.3}s (start-up {:.3}s), cpu {:.3}s, broker cpu {}",
                variant.label(),
                run.wall,
                run.start_up,
                run.cpu,
                run.broker_cpu
                    .map_or("-".to_string(), |c| format!("{c:.3}s")),
            );
            runs.push((round, variant, run));
        }
        peer.round(&bench, round)?;
    }

    report(&args, &bench.input, &variants, &runs);
    report_decisions(&compared);
    peer.report(&bench.input, &runs);
    summary(&bench.input, &runs, &compared);
    drop(broker);
    Ok(())
}

impl Bench {
    /// One raw passthrough to a new scratch topic.
    fn raw(&self) -> anyhow::Result<Run> {
        let scratch = wismo_e2e::unique_name("loadtest-passthrough");
        wismo_e2e::create_topics(&self.bootstrap, &[(&scratch, self.partitions)], false)?;
        let broker0 = self.broker_pid.map(process_cpu_seconds).transpose()?;
        let r = raw::passthrough(
            &self.bootstrap,
            &[&self.orders_topic, &self.scans_topic],
            &scratch,
            self.input.records(),
            &[],
            self.timeout,
        )?;
        let broker1 = self.broker_pid.map(process_cpu_seconds).transpose()?;
        Ok(Run {
            wall: r.wall,
            start_up: r.first_record,
            cpu: r.cpu,
            broker_cpu: broker1.zip(broker0).map(|(b1, b0)| b1 - b0),
        })
    }

    /// One pipeline run, and how its commands compare with replay's.
    fn wismo(&self) -> anyhow::Result<(Run, commands::Comparison)> {
        let mut env = vec![("WISMO_DELIVERY_MODE", self.delivery.as_str())];
        env.extend(
            self.service_env
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let setup = pipeline::Setup {
            bootstrap: &self.bootstrap,
            orders: &self.orders_topic,
            scans: &self.scans_topic,
            partitions: self.partitions,
            policy: &self.policy,
            extra_env: &env,
            broker_pid: self.broker_pid,
            all_at_once: self.all_at_once,
            timeout: self.timeout,
        };
        let w = pipeline::run(&setup, &self.input)?;
        let cut = chrono::DateTime::from_timestamp_millis(w.cut).unwrap_or_default();
        let replayed = self
            .input
            .replay_until(cut + chrono::Duration::seconds(1), &self.policy)?;
        let mut comparison = commands::compare(&w.commands, &replayed.commands, w.cut);
        if w.dead_letters != replayed.dead_letters {
            eprintln!(
                "  {} dead letters, replay {}",
                w.dead_letters, replayed.dead_letters
            );
            comparison.equal = false;
        }
        let (writes, bytes) = w.changelog;
        eprintln!(
            "  cpu by service (matcher, tracker, dispatcher) {:.2?}; tracker consumed {:.0} \
             records, wrote {writes} changelog records of {:.0} bytes on average; spilled \
             (matcher, tracker) {:.0?}; the tracker decoded {:.0} states from their bytes; {} dead letters; {} commands decided by the cut, \
             replay {}, equal {}",
            w.cpu,
            w.tracker_consumed,
            bytes as f64 / writes.max(1) as f64,
            w.spilled,
            w.tracker_decoded,
            w.dead_letters,
            comparison.live,
            comparison.replay,
            comparison.equal
        );
        if w.first_stage > 0.0 {
            eprintln!("  the scan-matcher alone took {:.2}s", w.first_stage);
        }
        for (name, c) in ["matcher", "tracker", "dispatcher"].iter().zip(&w.commits) {
            let stages: Vec<String> = (pipeline::COMMIT_STAGES.iter())
                .zip(&c.stages)
                // A stage this delivery mode has not: never observed.
                .filter(|(_, s)| **s != 0.0)
                .map(|(stage, s)| format!("{stage} {s:.2}"))
                .collect();
            eprintln!(
                "  {name}: {:.0} commits in {:.2}s ({}); {:.0} timers fired",
                c.count,
                c.seconds,
                stages.join(", "),
                c.timers_fired
            );
        }
        let run = Run {
            wall: w.wall,
            start_up: w.start_up,
            cpu: w.cpu.iter().sum(),
            broker_cpu: w.broker_cpu,
        };
        Ok((run, comparison))
    }
}

fn report(
    args: &ThroughputArgs,
    input: &input::Input,
    variants: &[Variant],
    runs: &[(usize, Variant, Run)],
) {
    let n = input.records() as f64;
    let of = |v: Variant| -> Vec<Run> {
        runs.iter()
            .filter(|(_, x, _)| *x == v)
            .map(|(_, _, r)| *r)
            .collect()
    };
    let med = |rs: &[Run], f: &dyn Fn(&Run) -> f64| median(&rs.iter().map(f).collect::<Vec<_>>());
    let broker = |rs: &[Run]| -> String {
        let v: Vec<f64> = rs.iter().filter_map(|r| r.broker_cpu).collect();
        if v.is_empty() {
            "-".into()
        } else {
            format!("{:.2}", median(&v))
        }
    };
    println!();
    println!(
        "{} orders, {} input records ({} bytes), {} partitions, {} rounds, medians:",
        input.orders,
        input.records(),
        input.bytes,
        args.partitions,
        args.rounds
    );
    println!();
    println!("| run | wall s | start-up s | events/s (wall) | events/s (without start-up) | CPU s | events/CPU-s | broker CPU s |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for &v in variants {
        let rs = of(v);
        println!(
            "| {} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2} | {:.0} | {} |",
            v.label(),
            med(&rs, &|r| r.wall),
            med(&rs, &|r| r.start_up),
            med(&rs, &|r| n / r.wall),
            med(&rs, &|r| n / r.steady()),
            med(&rs, &|r| r.cpu),
            med(&rs, &|r| n / r.cpu),
            broker(&rs),
        );
    }

    // Ratios within each round (side by side), then their median.
    let ratio = |wismo: Variant, raw: Variant, f: &dyn Fn(&Run) -> Option<f64>| -> String {
        let mut per_round = Vec::new();
        for round in 1..=args.rounds {
            let find = |v: Variant| {
                runs.iter()
                    .find(|(r, x, _)| *r == round && *x == v)
                    .map(|(_, _, run)| *run)
            };
            if let (Some(w), Some(r)) = (find(wismo), find(raw)) {
                if let (Some(a), Some(b)) = (f(&w), f(&r)) {
                    per_round.push(a / b);
                }
            }
        }
        if per_round.is_empty() {
            "-".into()
        } else {
            ratio_text(median(&per_round))
        }
    };
    println!();
    println!("| wismo/raw, median of the rounds' ratios | events/s (wall) | events/s (without start-up) | CPU s | broker CPU s |");
    println!("|---|---:|---:|---:|---:|");
    let (w, r) = (Variant::Wismo, Variant::Raw);
    println!(
        "| default client settings | {} | {} | {} | {} |",
        ratio(w, r, &|x| Some(n / x.wall)),
        ratio(w, r, &|x| Some(n / x.steady())),
        ratio(w, r, &|x| Some(x.cpu)),
        ratio(w, r, &|x| x.broker_cpu),
    );
}

/// Two decimals, or three significant digits below 0.1 (so 0.0013 is not 0.00).
fn ratio_text(r: f64) -> String {
    if r > 0.0 && r < 0.1 {
        let decimals = (2.0 - r.log10().floor()).clamp(2.0, 8.0) as usize;
        format!("{r:.decimals$}")
    } else {
        format!("{r:.2}")
    }
}

/// Each wismo run's commands against replay's over the same events.
fn report_decisions(compared: &[(usize, commands::Comparison)]) {
    println!();
    println!("| round | commands decided by the cut | replay's | whole records equal |");
    println!("|---|---:|---:|---|");
    for (round, c) in compared {
        println!("| {round} | {} | {} | {} |", c.live, c.replay, c.equal);
    }
}

/// The one line a script reads: medians over the rounds, and whether every
/// round decided exactly what replay decides.
fn summary(
    input: &input::Input,
    runs: &[(usize, Variant, Run)],
    compared: &[(usize, commands::Comparison)],
) {
    let n = input.records() as f64;
    let of = |v: Variant| -> Vec<&Run> {
        runs.iter()
            .filter(|(_, x, _)| *x == v)
            .map(|(_, _, r)| r)
            .collect()
    };
    let eps = |rs: &[&Run]| median(&rs.iter().map(|r| n / r.wall).collect::<Vec<_>>());
    let (wismo, raw) = (of(Variant::Wismo), of(Variant::Raw));
    let (wismo_eps, raw_eps) = (eps(&wismo), eps(&raw));
    let cpu_us = median(&wismo.iter().map(|r| r.cpu).collect::<Vec<_>>()) * 1e6 / n;
    let decided = compared.iter().map(|(_, c)| c.live).min().unwrap_or(0);
    let replay = compared.iter().map(|(_, c)| c.replay).max().unwrap_or(0);
    let equal = !compared.is_empty() && compared.iter().all(|(_, c)| c.equal);
    println!();
    println!(
        "summary: ratio={} wismo_eps={wismo_eps:.0} raw_eps={raw_eps:.0} cpu_us_per_event={cpu_us:.1} decided={decided} replay={replay} equal={equal}",
        ratio_text(wismo_eps / raw_eps)
    );
}

#[cfg(test)]
mod tests {
    use super::ratio_text;

    #[test]
    fn small_ratios_keep_three_significant_digits() {
        assert_eq!(ratio_text(0.5), "0.50");
        assert_eq!(ratio_text(1.234), "1.23");
        assert_eq!(ratio_text(0.0013), "0.00130");
        assert_eq!(ratio_text(0.0456), "0.0456");
        assert_eq!(ratio_text(0.0), "0.00");
    }
}

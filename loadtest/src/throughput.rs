//! `loadtest throughput --orders N`: how fast the three services decide a backlog
//! of N orders' input, next to a raw consume-and-produce of the same records on
//! the same broker.
//!
//! Produces the backlog once (a throwaway Tansu broker unless `--bootstrap` names
//! one), then per round runs, in an order that alternates between rounds:
//! * raw: [`raw::passthrough`] of every input record to a scratch topic;
//! * wismo: [`pipeline::run`], the scan-matcher, order-tracker and dispatcher
//!   binaries on fresh groups and topics, until the backlog is decided;
//! * both again with the consumers' `fetch.wait.max.ms` at 10 (unless `--no-fast`).
//!
//! Reports medians of the rounds and the medians of each round's wismo/raw ratios.
//! See `docs/performance.md`.

mod input;
mod pipeline;
mod progress;
mod raw;
mod replay;

use crate::measure::{self, child_pid, median, process_cpu_seconds};
use anyhow::{ensure, Context};
use clap::Args;
use progress::Counts;
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
    /// A broker to use; without it a throwaway Tansu broker is started.
    #[arg(long)]
    bootstrap: Option<String>,
    /// The dispatcher's global egress rate (policy `egress_per_second`). Lifted by
    /// default, so the run measures the pipeline rather than the configured limit;
    /// 500 is the product default.
    #[arg(long, default_value_t = 1_000_000)]
    egress_per_second: u32,
    /// Skip the variants with the consumers' `fetch.wait.max.ms` at 10.
    #[arg(long)]
    no_fast: bool,
    /// Start the three services together instead of the scan-matcher first. The
    /// tracker then decides scans that reach it after it caught up in wall-clock
    /// time, and the commands this defers are not waited for.
    #[arg(long)]
    all_at_once: bool,
    /// Longest a single run may take, in seconds.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Raw,
    Wismo,
    RawFast,
    WismoFast,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::Raw => "raw passthrough",
            Variant::Wismo => "wismo pipeline",
            Variant::RawFast => "raw, fetch.wait.max.ms=10",
            Variant::WismoFast => "wismo, fetch.wait.max.ms=10",
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
    let broker_pid = broker.as_ref().and_then(|_| child_pid("tansu"));

    // Fail before any run if a binary is missing.
    for name in ["scan-matcher", "order-tracker", "dispatcher", "wismoctl"] {
        wismo_e2e::service_binary(name)?;
    }
    let dir = tempfile::tempdir().context("creating a temp dir")?;
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[notifications]\negress_per_second = {}\n",
            args.egress_per_second
        ),
    )?;
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
        usize::try_from(args.partitions)?,
        args.orders,
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
    let bench = Bench {
        bootstrap,
        orders_topic,
        scans_topic,
        input,
        policy,
        broker_pid,
        partitions: args.partitions,
        all_at_once: args.all_at_once,
        timeout: Duration::from_secs(args.timeout_secs),
    };

    let mut variants = vec![Variant::Raw, Variant::Wismo];
    if !args.no_fast {
        variants.extend([Variant::RawFast, Variant::WismoFast]);
    }
    let mut runs: Vec<(usize, Variant, Run)> = Vec::new();
    let mut decided = Vec::new();
    for round in 1..=args.rounds {
        // Alternate the order, so drift and noise fall on every variant alike.
        let order: Vec<Variant> = if round % 2 == 1 {
            variants.clone()
        } else {
            variants.iter().rev().copied().collect()
        };
        for variant in order {
            let run = match variant {
                Variant::Raw => bench.raw(false)?,
                Variant::RawFast => bench.raw(true)?,
                Variant::Wismo | Variant::WismoFast => {
                    let (run, counts) = bench.wismo(variant == Variant::WismoFast)?;
                    decided.push((round, variant, counts));
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
    }

    report(&args, &bench.input, &variants, &runs);
    report_decisions(&bench.input, &decided);
    drop(broker);
    Ok(())
}

impl Bench {
    /// One raw passthrough to a new scratch topic; `fast` sets the consumer's
    /// `fetch.wait.max.ms` to 10.
    fn raw(&self, fast: bool) -> anyhow::Result<Run> {
        let scratch = wismo_e2e::unique_name("loadtest-passthrough");
        wismo_e2e::create_topics(&self.bootstrap, &[(&scratch, self.partitions)], false)?;
        let extra: &[(&str, &str)] = if fast {
            &[("fetch.wait.max.ms", "10")]
        } else {
            &[]
        };
        let broker0 = self.broker_pid.map(process_cpu_seconds).transpose()?;
        let r = raw::passthrough(
            &self.bootstrap,
            &[&self.orders_topic, &self.scans_topic],
            &scratch,
            self.input.records(),
            extra,
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

    /// One pipeline run; `fast` sets the services' consumers' `fetch.wait.max.ms`
    /// to 10.
    fn wismo(&self, fast: bool) -> anyhow::Result<(Run, Counts)> {
        let extra: &[(&str, &str)] = if fast {
            &[("WISMO_KAFKA_CONSUMER_FETCH_WAIT_MAX_MS", "10")]
        } else {
            &[]
        };
        let w = pipeline::run(
            &self.bootstrap,
            &self.input,
            (&self.orders_topic, &self.scans_topic),
            self.partitions,
            &self.policy,
            extra,
            self.broker_pid,
            self.all_at_once,
            self.timeout,
        )?;
        eprintln!(
            "  cpu by service (matcher, tracker, dispatcher) {:.2?}; {:?}",
            w.cpu, w.counts
        );
        let run = Run {
            wall: w.wall,
            start_up: w.start_up,
            cpu: w.cpu.iter().sum(),
            broker_cpu: w.broker_cpu,
        };
        Ok((run, w.counts))
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
            format!("{:.2}", median(&per_round))
        }
    };
    println!();
    println!("| wismo/raw, median of the rounds' ratios | events/s (wall) | events/s (without start-up) | CPU s | broker CPU s |");
    println!("|---|---:|---:|---:|---:|");
    let mut pairs = vec![("default client settings", Variant::Wismo, Variant::Raw)];
    if variants.contains(&Variant::WismoFast) {
        pairs.push(("fetch.wait.max.ms=10", Variant::WismoFast, Variant::RawFast));
    }
    for (label, w, r) in pairs {
        println!(
            "| {label} | {} | {} | {} | {} |",
            ratio(w, r, &|x| Some(n / x.wall)),
            ratio(w, r, &|x| Some(n / x.steady())),
            ratio(w, r, &|x| Some(x.cpu)),
            ratio(w, r, &|x| x.broker_cpu),
        );
    }
}

/// What each wismo run decided, next to what replay decides from the same events.
fn report_decisions(input: &input::Input, decided: &[(usize, Variant, Counts)]) {
    println!();
    println!(
        "What each wismo run decided (from the services' counters); replay of the same events \
         decides {} commands and {} dead letters:",
        input.replayed.commands, input.replayed.dead_letters
    );
    println!();
    println!("| run | routed scans | outbox records | commands dispatched | notifications | delay apologies | review requests | suppressed | dead letters | of which unmatched scans | egress waits |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (round, variant, c) in decided {
        println!(
            "| {round}: {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            variant.label(),
            c.routed_produced,
            c.outbox_produced,
            c.commands,
            c.notifications,
            c.apologies,
            c.reviews,
            c.suppressed,
            c.dead_letters,
            c.unmatched,
            c.egress_waits
        );
    }
}

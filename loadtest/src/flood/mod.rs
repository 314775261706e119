//! `loadtest flood`: a bounded mixed flood of valid and hostile records through
//! the services on a real broker (a throwaway Apache Kafka one unless
//! `--bootstrap` names one), with the release binaries.
//!
//! Valid orders, each followed by one hostile record of every class in turn
//! ([`mix`]): random bytes, truncated frames, unknown schema ids, valid Avro of
//! the wrong schema, oversized fields, texts and records, times at the ends of an
//! i64 and of chrono, a broker timestamp of 1970, far-future scans, keys that do
//! not match, records without a value, too many items or channels, contact details
//! for a timezone, scans naming another order, conflicting registrations, and a
//! decision that panics (a failpoint) now and then. It passes when no service
//! exits, every hostile record is on `dead-letter` once (by the record it is for)
//! with a short reason that quotes nothing long and no contact details, nothing
//! else is there, every valid order is decided (confirmed and delivered; with the
//! scan-matcher alone, each of its scans routed to it), and each service's peak
//! RSS stays under `--max-rss-mb`. Ends with one line:
//! `flood: records=<n> bad=<n> dead_letters=<n> decided=<n> max_rss_mb=<x> ok=<bool>`.

mod check;
mod mix;

use anyhow::{ensure, Context};
use check::{peak_rss_mb, Decisions, Letters, Tail};
use clap::Args;
use mix::{Expect, Kind};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use wismo_e2e::hostile::{bulk_producer, send_all, Rec};
use wismo_e2e::{http_get, Service, Stage};

const ALL: [&str; 3] = ["scan-matcher", "order-tracker", "dispatcher"];
/// Stop waiting when nothing new was decided or dead-lettered for this long.
const STALL: Duration = Duration::from_secs(120);

#[derive(Args)]
pub struct FloodArgs {
    /// Records in the flood, valid and hostile together.
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    /// The services to run: all three, or `scan-matcher` alone (then the mix is
    /// scans and shipments only).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "scan-matcher,order-tracker,dispatcher"
    )]
    services: Vec<String>,
    /// Partitions of every topic.
    #[arg(long, default_value_t = 2)]
    partitions: u32,
    /// A broker to use; without it a throwaway Apache Kafka broker is started.
    #[arg(long)]
    bootstrap: Option<String>,
    /// Seeds the random bytes and names the run's ids.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The same valid orders without the hostile records: the baseline for memory.
    #[arg(long)]
    no_hostile: bool,
    /// The most peak RSS any service may reach, in MiB.
    #[arg(long, default_value_t = 512)]
    max_rss_mb: u64,
    /// Longest the run may take, in seconds.
    #[arg(long, default_value_t = 1_800)]
    timeout_secs: u64,
}

pub fn run(args: FloodArgs) -> anyhow::Result<()> {
    let mut names: Vec<&str> = args.services.iter().map(String::as_str).collect();
    names.sort_by_key(|n| ALL.iter().position(|a| a == n));
    let with_tracker = names == ALL;
    ensure!(
        with_tracker || names == ["scan-matcher"],
        "--services is scan-matcher,order-tracker,dispatcher or scan-matcher"
    );
    ensure!(args.records >= 100, "--records must be at least 100");
    for name in names.iter().chain(&["wismoctl"]) {
        wismo_e2e::service_binary(name)?;
    }
    let (broker, bootstrap) = crate::measure::broker(&args.bootstrap)?;
    let dir = tempfile::tempdir()?;
    let policy = dir.path().join("policy.toml");
    // The egress rate is lifted: the run measures the pipeline, not the limit.
    std::fs::write(&policy, "[notifications]\negress_per_second = 1000000\n")?;
    let policy = policy.to_str().context("policy path")?.to_string();
    let stage = Stage::on(&bootstrap, args.partitions, args.partitions)?;
    let (orders, scans) = (stage.topic("orders"), stage.topic("carrier-scans"));

    let t = Instant::now();
    let mut mix = mix::mix(
        args.records,
        with_tracker,
        !args.no_hostile,
        args.seed,
        &mix::Topics {
            orders: &orders,
            scans: &scans,
        },
    )?;
    eprintln!(
        "flood: {} valid orders, {} records, generated in {:.1}s",
        mix.orders.len(),
        mix.anchors.len() + mix.flood.len(),
        t.elapsed().as_secs_f64()
    );

    let deciding = if with_tracker {
        "order-tracker"
    } else {
        "scan-matcher"
    };
    let mut services = Vec::new();
    for name in &names {
        let mut env = vec![
            ("WISMO_POLICY_FILE", policy.as_str()),
            ("WISMO_COALESCE_WINDOW", "2s"),
        ];
        if *name == deciding {
            env.push(("WISMO_FAILPOINT_PANIC_KEY", mix::PANIC_KEY));
        }
        services.push((*name, stage.start(name, &env)?));
    }

    let producer = bulk_producer(&bootstrap)?;
    let anchors: Vec<Rec> = mix.anchors.iter().map(|p| p.rec.clone()).collect();
    send_all(&producer, &anchors)?;
    wait_registered(&services[0].1, &mix)?;

    // Moved out, not copied: a large flood is most of this process's memory.
    let (flood, kinds): (Vec<Rec>, Vec<Kind>) = std::mem::take(&mut mix.flood)
        .into_iter()
        .map(|p| (p.rec, p.kind))
        .unzip();
    let started = Instant::now();
    let at = send_all(&producer, &flood)?;
    let produce_secs = started.elapsed().as_secs_f64();
    let mut expected_at = BTreeSet::new();
    let mut expected_reg: BTreeSet<String> = BTreeSet::new();
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    for ((rec, kind), (partition, offset)) in flood.iter().zip(&kinds).zip(&at) {
        if let Kind::Bad(class, expect) = kind {
            *classes.entry(format!("{class:?}")).or_default() += 1;
            match expect {
                Expect::Itself => {
                    expected_at.insert((rec.topic.clone(), *partition, *offset));
                }
                Expect::Registration(order) => {
                    expected_reg.insert(order.clone());
                }
            }
        }
    }
    let bad = expected_at.len() + expected_reg.len();
    let records = mix.anchors.len() + flood.len();
    drop(flood);
    let per_order = if with_tracker { 5 } else { 4 };
    let valid = records - bad;
    eprintln!(
        "flood: produced {} records in {produce_secs:.1}s; hostile by class: {classes:?}",
        at.len()
    );

    // Watch until every hostile record is a dead letter and every order decided.
    let registrations = stage.topic("wismo-scan-matcher-shipments");
    let dead_tail = Tail::new(&bootstrap, &stage.topic("dead-letter"))?;
    let decided_tail = if with_tracker {
        Tail::new(&bootstrap, &stage.topic("notification-commands"))?
    } else {
        Tail::new(&bootstrap, &stage.topic("wismo-scan-matcher-routed-scans"))?
    };
    let mut letters = Letters::default();
    let mut decisions = Decisions::default();
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let (mut last_progress, mut last_report, mut progress) =
        (Instant::now(), Instant::now(), (0, 0));
    let mut exited = Vec::new();
    let (matched, decided) = loop {
        for (_, _, v) in dead_tail.poll()? {
            letters.add(&v)?;
        }
        for (_, _, v) in decided_tail.poll()? {
            if with_tracker {
                decisions.add_command(&v)?;
            } else {
                decisions.add_routed(&v)?;
            }
        }
        let matched = matched(&letters, &expected_at, &expected_reg, &registrations);
        let decided = decided_orders(&mix.orders, &decisions, with_tracker) * per_order;
        for (name, s) in &mut services {
            if let Some(status) = s.process.try_wait()? {
                exited.push(format!(
                    "{name} exited ({status}): {}",
                    s.process.log_tail(20)
                ));
            }
        }
        let now = Instant::now();
        if (matched, decided) != progress {
            progress = (matched, decided);
            last_progress = now;
        }
        if now.duration_since(last_report) > Duration::from_secs(10) {
            eprintln!("flood: {matched}/{bad} dead letters, {decided}/{valid} decided");
            last_report = now;
        }
        let done = matched == bad && decided == valid;
        if done || !exited.is_empty() || now > deadline || now.duration_since(last_progress) > STALL
        {
            break (matched, decided);
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let decide_secs = started.elapsed().as_secs_f64();
    // Anything more that arrives now is unexpected.
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_secs(3) {
        for (_, _, v) in dead_tail.poll()? {
            letters.add(&v)?;
        }
    }
    let mut rss = Vec::new();
    for (name, s) in &services {
        rss.push((*name, peak_rss_mb(s.process.pid()).unwrap_or(f64::NAN)));
    }
    for (name, s) in &mut services {
        if exited.iter().any(|e| e.starts_with(*name)) {
            continue;
        }
        let status = s.process.terminate_within(Duration::from_secs(30))?;
        if !status.success() {
            exited.push(format!("{name} stopped badly on SIGTERM ({status})"));
        }
    }
    drop(broker);

    // Distinct: by record, and registrations by content.
    let dead_letters = letters.by_source.len() - letters.repeated_registrations(&registrations);
    let expected = |k: &(String, i32, i64)| expected_at.contains(k) || k.0 == registrations;
    for ((t, _, _), d) in letters
        .by_source
        .iter()
        .filter(|(k, _)| !expected(k))
        .take(5)
    {
        eprintln!(
            "flood: unexpected dead letter for {t}: {} {}",
            d.error_kind, d.reason
        );
    }
    let max_rss = rss.iter().map(|(_, r)| *r).fold(0.0, f64::max);
    for e in &exited {
        eprintln!("flood: {e}");
    }
    for r in letters.unsafe_reasons.iter().take(5) {
        eprintln!("flood: unsafe reason: {r}");
    }
    println!(
        "flood: services={} partitions={} produced in {produce_secs:.1}s, decided in {decide_secs:.1}s: {:.0} records/s",
        names.join(","),
        args.partitions,
        records as f64 / decide_secs
    );
    println!(
        "flood: peak RSS MiB {}; dead letters repeated by rewinds {}",
        rss.iter()
            .map(|(n, r)| format!("{n}={r:.0}"))
            .collect::<Vec<_>>()
            .join(" "),
        letters.repeats + letters.repeated_registrations(&registrations)
    );
    let ok = exited.is_empty()
        && matched == bad
        && dead_letters == bad
        && decided == valid
        && letters.unsafe_reasons.is_empty()
        && max_rss <= args.max_rss_mb as f64;
    println!(
        "flood: records={records} bad={bad} dead_letters={dead_letters} decided={decided} max_rss_mb={max_rss:.0} ok={ok}"
    );
    ensure!(ok, "the flood failed: see above");
    Ok(())
}

/// Waits until the scan-matcher knows the owner of every anchor's number.
fn wait_registered(matcher: &Service, mix: &mix::Mix) -> anyhow::Result<()> {
    let anchored: BTreeSet<usize> = mix
        .anchors
        .iter()
        .filter_map(|p| match p.kind {
            Kind::Valid(n) => Some(n),
            Kind::Bad(..) => None,
        })
        .collect();
    let mut waiting: Vec<&mix::Order> = anchored.iter().map(|n| &mix.orders[*n]).collect();
    wismo_e2e::wait_until(
        "the anchors' registrations",
        Duration::from_secs(120),
        || {
            waiting.retain(|o| {
                !http_get(matcher.http, &format!("/tracking/{}", o.tracking))
                    .is_some_and(|(s, body)| s == 200 && body.contains(&o.id))
            });
            Ok(waiting.is_empty().then_some(()))
        },
    )
}

/// How many expected dead letters are there: those for a record, by where it
/// was; those for a refused registration, by the order it was for.
fn matched(
    letters: &Letters,
    at: &BTreeSet<(String, i32, i64)>,
    reg: &BTreeSet<String>,
    registrations: &str,
) -> usize {
    let by_record = at
        .iter()
        .filter(|k| letters.by_source.contains_key(*k))
        .count();
    let refused = letters.refused_registrations(registrations);
    by_record + reg.intersection(&refused).count()
}

/// Valid orders decided in full: confirmed and delivered; with the scan-matcher
/// alone, each of their scans routed to them.
fn decided_orders(orders: &[mix::Order], d: &Decisions, with_tracker: bool) -> usize {
    orders
        .iter()
        .filter(|o| {
            if with_tracker {
                d.confirmed.contains(&o.id) && d.delivered.contains(&o.id)
            } else {
                o.scan_ids
                    .iter()
                    .all(|s| d.routed.contains(&(o.id.clone(), s.clone())))
            }
        })
        .count()
}

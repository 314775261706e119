//! `--peer kafka-streams`: the same job written as a Kafka Streams application
//! (`loadtest/peers/kafka-streams/`), run in each round on the same broker and the
//! same backlog as the raw passthrough and wismo.
//!
//! Per round the peer's `run.sh` starts the JVM with a new application id (so a
//! new group and new internal topics), a new output topic and a new state dir. It
//! prints `first at=<ms>` when it decides its first input record and `done
//! records=N commands=M held=H dropped=D` once it has decided every input record;
//! the run is over when a read-committed consumer has counted M commands on the output
//! topic. Wall seconds run from spawning the JVM to then; CPU seconds and peak RSS
//! are the JVM's, from `/proc`, at that moment.

use super::{input::Input, Bench, Run, Variant};
use crate::measure::{median, process_cpu_seconds};
use anyhow::{bail, Context};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wismo_e2e::{unique_name, ServiceProcess};

/// Peer implementations `--peer` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    KafkaStreams,
}

/// One timed peer run.
#[derive(Debug, Clone, Copy)]
struct PeerRun {
    run: Run,
    /// The JVM's peak resident set (`VmHWM`), in MiB.
    rss_mib: f64,
    /// Commands the peer decided, and the records counted on its output topic.
    commands: u64,
    output_records: u64,
    /// Scans that waited for their tracking number, and scans the hold dropped
    /// (resends of a held scan).
    held: u64,
    dropped: u64,
}

/// The peer of a throughput run, if `--peer` named one, and its runs so far.
pub struct Peer {
    script: Option<PathBuf>,
    runs: Vec<(usize, PeerRun)>,
}

impl Peer {
    /// Builds the peer (once, before any timing) when `kind` names one.
    pub fn new(kind: Option<Kind>) -> anyhow::Result<Peer> {
        let script = match kind {
            None => None,
            Some(Kind::KafkaStreams) => {
                let script = PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/peers/kafka-streams/run.sh"
                ));
                eprintln!("building the Kafka Streams peer (Maven, once)");
                let status = Command::new(&script)
                    .arg("build")
                    .status()
                    .with_context(|| format!("running {} build", script.display()))?;
                anyhow::ensure!(status.success(), "building the Kafka Streams peer failed");
                Some(script)
            }
        };
        Ok(Peer {
            script,
            runs: Vec::new(),
        })
    }

    /// Runs the peer over the backlog once, if there is one.
    pub fn round(&mut self, bench: &Bench, round: usize) -> anyhow::Result<()> {
        let Some(script) = &self.script else {
            return Ok(());
        };
        let r = run(script, bench)?;
        eprintln!(
            "round {round}: {:<28} wall {:.3}s (start-up {:.3}s), cpu {:.3}s, broker cpu {}, \
             peak rss {:.0} MiB; {} commands ({} on the topic), {} scans held, {} dropped",
            "kafka streams peer",
            r.run.wall,
            r.run.start_up,
            r.run.cpu,
            r.run
                .broker_cpu
                .map_or("-".to_string(), |c| format!("{c:.3}s")),
            r.rss_mib,
            r.commands,
            r.output_records,
            r.held,
            r.dropped,
        );
        self.runs.push((round, r));
        Ok(())
    }

    /// The peer beside the raw passthrough and wismo (default client settings):
    /// medians of the rounds, and the medians of each round's ratios.
    pub fn report(&self, input: &Input, runs: &[(usize, Variant, Run)]) {
        if self.runs.is_empty() {
            return;
        }
        let n = input.records() as f64;
        let of = |v: Variant| -> Vec<(usize, Run)> {
            runs.iter()
                .filter(|(_, x, _)| *x == v)
                .map(|(round, _, r)| (*round, *r))
                .collect()
        };
        let peer: Vec<(usize, Run)> = self.runs.iter().map(|(i, p)| (*i, p.run)).collect();
        let rss = median(&self.runs.iter().map(|(_, p)| p.rss_mib).collect::<Vec<_>>());
        println!();
        println!(
            "Kafka Streams peer beside raw and wismo, {} input records, medians of the rounds \
             (RSS: the JVM's peak; not measured for raw, which runs inside the loadtest, nor \
             for wismo's services):",
            input.records()
        );
        println!();
        println!("| run | wall s | start-up s | events/s (wall) | events/s (without start-up) | CPU s | events/CPU-s | peak RSS MiB | broker CPU s |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (label, rs, rss) in [
            (Variant::Raw.label(), of(Variant::Raw), None),
            (Variant::Wismo.label(), of(Variant::Wismo), None),
            ("kafka streams peer", peer.clone(), Some(rss)),
        ] {
            if rs.is_empty() {
                continue;
            }
            let med =
                |f: &dyn Fn(&Run) -> f64| median(&rs.iter().map(|(_, r)| f(r)).collect::<Vec<_>>());
            let broker: Vec<f64> = rs.iter().filter_map(|(_, r)| r.broker_cpu).collect();
            println!(
                "| {label} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2} | {:.0} | {} | {} |",
                med(&|r| r.wall),
                med(&|r| r.start_up),
                med(&|r| n / r.wall),
                med(&|r| n / r.steady()),
                med(&|r| r.cpu),
                med(&|r| n / r.cpu),
                rss.map_or("-".into(), |m| format!("{m:.0}")),
                if broker.is_empty() {
                    "-".into()
                } else {
                    format!("{:.2}", median(&broker))
                },
            );
        }
        println!();
        println!("| median of the rounds' ratios | events/s (wall) | events/s (without start-up) | CPU s | broker CPU s |");
        println!("|---|---:|---:|---:|---:|");
        for (label, other) in [
            ("peer/raw", of(Variant::Raw)),
            ("wismo/peer", of(Variant::Wismo)),
        ] {
            let wismo_over_peer = label == "wismo/peer";
            let ratio = |f: &dyn Fn(&Run) -> Option<f64>| -> String {
                let per_round: Vec<f64> = peer
                    .iter()
                    .filter_map(|(round, p)| {
                        let (_, o) = other.iter().find(|(r, _)| r == round)?;
                        let (a, b) = if wismo_over_peer { (o, p) } else { (p, o) };
                        Some(f(a)? / f(b)?)
                    })
                    .collect();
                if per_round.is_empty() {
                    "-".into()
                } else {
                    format!("{:.2}", median(&per_round))
                }
            };
            println!(
                "| {label} | {} | {} | {} | {} |",
                ratio(&|r| Some(n / r.wall)),
                ratio(&|r| Some(n / r.steady())),
                ratio(&|r| Some(r.cpu)),
                ratio(&|r| r.broker_cpu),
            );
        }
        let decided: Vec<String> = self
            .runs
            .iter()
            .map(|(round, p)| {
                format!(
                    "round {round}: {} commands, {} scans held for their tracking number, {} dropped",
                    p.commands, p.held, p.dropped
                )
            })
            .collect();
        println!();
        println!("The peer decided: {}.", decided.join("; "));
    }
}

/// One run of the peer until its commands are on the output topic.
fn run(script: &PathBuf, bench: &Bench) -> anyhow::Result<PeerRun> {
    let output = unique_name("loadtest-peer-commands");
    wismo_e2e::create_topics(&bench.bootstrap, &[(&output, bench.partitions)], false)?;
    let state = tempfile::tempdir().context("creating the peer's state dir")?;
    let state_dir = state.path().to_str().context("state dir is not UTF-8")?;
    let app_id = unique_name("loadtest-peer");
    let expected = bench.input.records().to_string();
    let args = [
        "--bootstrap",
        &bench.bootstrap,
        "--application-id",
        &app_id,
        "--orders-topic",
        &bench.orders_topic,
        "--scans-topic",
        &bench.scans_topic,
        "--output-topic",
        &output,
        "--state-dir",
        state_dir,
        "--expect-records",
        &expected,
    ];
    let mut counter = OutputCounter::new(&bench.bootstrap, &output, bench.partitions)?;

    let broker0 = bench.broker_pid.map(process_cpu_seconds).transpose()?;
    let started = Instant::now();
    let started_ms = epoch_ms(SystemTime::now());
    let mut peer = ServiceProcess::spawn_with_args(script, &args, &[])?;
    let deadline = started + bench.timeout;
    let (mut first_ms, mut done) = (None, None);
    let result = loop {
        if Instant::now() > deadline {
            bail!(
                "the peer did not decide the backlog within {:?} ({} commands on its topic); \
                 last output:\n{}",
                bench.timeout,
                counter.seen,
                peer.log_tail(30)
            );
        }
        if let Some(status) = peer.try_wait()? {
            bail!(
                "the peer exited ({status}); last output:\n{}",
                peer.log_tail(30)
            );
        }
        // Waits up to 50 ms for output records: the loop's pace.
        counter.poll(Duration::from_millis(50))?;
        if first_ms.is_none() || done.is_none() {
            let logs = peer.logs();
            first_ms = first_ms.or_else(|| field(&logs, "first", "at"));
            done = done.or_else(|| Done::parse(&logs));
        }
        if let Some(d) = done.filter(|d| counter.seen >= d.commands) {
            let at = started.elapsed().as_secs_f64();
            let cpu = process_cpu_seconds(peer.pid())?;
            let rss_mib = peak_rss_kib(peer.pid())? as f64 / 1024.0;
            let broker1 = bench.broker_pid.map(process_cpu_seconds).transpose()?;
            let start_up = first_ms.map_or(0.0, |ms| ms.saturating_sub(started_ms) as f64 / 1e3);
            break PeerRun {
                run: Run {
                    wall: at,
                    start_up,
                    cpu,
                    broker_cpu: broker1.zip(broker0).map(|(b1, b0)| b1 - b0),
                },
                rss_mib,
                commands: d.commands,
                output_records: counter.seen,
                held: d.held,
                dropped: d.dropped,
            };
        }
    };
    peer.terminate_within(Duration::from_secs(15))?;
    Ok(result)
}

/// The peer's `done` line.
#[derive(Debug, Clone, Copy)]
struct Done {
    commands: u64,
    held: u64,
    dropped: u64,
}

impl Done {
    fn parse(logs: &str) -> Option<Done> {
        Some(Done {
            commands: field(logs, "done", "commands")?,
            held: field(logs, "done", "held")?,
            dropped: field(logs, "done", "dropped")?,
        })
    }
}

/// `name=<u64>` on the first output line that starts with `word `.
fn field(logs: &str, word: &str, name: &str) -> Option<u64> {
    let line = logs
        .lines()
        .find(|l| l.strip_prefix(word).is_some_and(|r| r.starts_with(' ')))?;
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

/// Counts the records on the peer's output topic, read committed, so under
/// exactly-once only committed commands count.
struct OutputCounter {
    consumer: BaseConsumer,
    seen: u64,
}

impl OutputCounter {
    fn new(bootstrap: &str, topic: &str, partitions: i32) -> anyhow::Result<Self> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", unique_name("loadtest-peer-count"))
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("fetch.wait.max.ms", "50")
            .create()
            .context("creating the output counter")?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning)?;
        }
        consumer
            .assign(&tpl)
            .context("assigning the output topic")?;
        Ok(OutputCounter { consumer, seen: 0 })
    }

    /// Counts what arrives within `wait`, then whatever else is already here.
    fn poll(&mut self, wait: Duration) -> anyhow::Result<()> {
        let mut timeout = wait;
        while let Some(m) = self.consumer.poll(timeout) {
            m.context("reading the peer's output")?;
            self.seen += 1;
            timeout = Duration::ZERO;
        }
        Ok(())
    }
}

fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Peak resident set of a process (`VmHWM` in `/proc/<pid>/status`), in KiB.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no VmHWM in /proc/{pid}/status"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peer_lines() {
        let logs = "WARN x\nfirst at=1700000000123\ndone records=10 commands=4 held=3 dropped=1\n";
        assert_eq!(field(logs, "first", "at"), Some(1_700_000_000_123));
        let done = Done::parse(logs).expect("a done line");
        assert_eq!((done.commands, done.held, done.dropped), (4, 3, 1));
        assert!(Done::parse("first at=1\n").is_none());
        assert_eq!(field("firstly at=3\n", "first", "at"), None);
    }

    #[test]
    fn own_peak_rss_is_readable() {
        assert!(peak_rss_kib(std::process::id()).is_ok_and(|k| k > 0));
    }
}

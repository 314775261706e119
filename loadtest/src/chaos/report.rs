//! What a chaos run prints: the schedule first (to stderr), then per mode the
//! faults with their recoveries and the comparison (stdout), and at the end the
//! one line per mode a script reads.

use super::faults::Done;
use super::profile::Profile;
use super::schedule::{Planned, SERVICES};
use super::truth::Truth;
use super::verdict::{Stats, Verdict};
use super::watch::Record;
use super::{ChaosArgs, Outcome};
use crate::throughput::commands::COMMAND_TOPICS;
use std::path::Path;
use wismo_config::Topics;

pub fn schedule(args: &ChaosArgs, profile: &Profile, plan: &[Planned], policy: &Path) {
    eprintln!(
        "chaos: profile {:?}, seed {}, {} orders over {}s of load, {} partitions, lead {} ms, policy {}",
        args.profile,
        args.seed,
        profile.orders,
        profile.load.as_secs(),
        profile.partitions,
        args.lead_ms,
        policy.display()
    );
    for p in plan {
        eprintln!(
            "chaos:   at {:>6.1}s  {}",
            p.at.as_secs_f64(),
            p.fault.describe()
        );
    }
}

fn stats(s: &Option<Stats>) -> String {
    s.map_or("-".into(), |s| {
        format!(
            "n={} p50={:.2}s p99={:.2}s max={:.2}s",
            s.n, s.p50, s.p99, s.max
        )
    })
}

fn secs(s: Option<f64>) -> String {
    s.map_or("not within the limit".into(), |s| format!("{s:.1}"))
}

pub fn mode(mode: &str, o: &Outcome) {
    let v = &o.verdict;
    println!();
    let wall: f64 = o.phases.iter().map(|(_, s)| s).sum();
    println!(
        "## chaos, {mode}: {} orders, {} input records, {} partitions, {wall:.0}s wall (broker {})",
        o.load.orders, o.truth.inputs, o.profile.partitions, o.bootstrap
    );
    println!();
    println!(
        "phases: {}",
        (o.phases.iter())
            .map(|(p, s)| format!("{p} {s:.1}s"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "kills by service: {}",
        (0..3)
            .map(|s| format!("{} {}", SERVICES[s], o.kills[s]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "baseline (no fault): groups caught up in {}s; compared up to the cut at {}",
        secs(o.baseline),
        chrono::DateTime::from_timestamp_millis(o.cut)
            .map_or("-".into(), |t| t.format("%H:%M:%S%.3f").to_string())
    );
    println!();
    println!("| load s | fault | took s | outputs held up s | groups caught up s |");
    println!("|---:|---|---:|---:|---:|");
    for f in &o.faults {
        println!(
            "| {:.1} | {} | {:.1} | {} | {} |",
            f.due.as_secs_f64(),
            f.what,
            (f.end - f.begin) as f64 / 1000.0,
            v.outputs_recovered(f.begin, f.end)
                .map_or("-".into(), |s| format!("{s:.1}")),
            secs(f.caught_up),
        );
    }
    println!();
    println!(
        "commands: expected {} (replay, decided by the cut), on the topics {}, lost {}, \
         mismatched {}, extra {}",
        v.expected,
        v.on_topics,
        v.lost.len(),
        v.mismatched.len(),
        v.extra.len()
    );
    println!(
        "repeats: {} records repeat {} ids; copies not byte-identical: {}",
        v.dup,
        v.dup_ids,
        v.differing_copies.len()
    );
    println!(
        "timers fired twice: {} repeats of timer-decided commands, {} timer-decided commands replay never decided",
        v.timers_twice, v.timer_extra
    );
    println!(
        "time to detect (delay apology on its topic - detectable_at): {}{}",
        stats(&v.detect),
        v.slowest_detect
            .as_ref()
            .map_or(String::new(), |(id, _)| format!(" (slowest {id})"))
    );
    println!(
        "output latency (on its topic - decided_at): {}",
        stats(&v.latency)
    );
    println!(
        "dead letters: {} on the topic, replay {}",
        o.live_dead_letters, o.truth.dead_letters
    );
    println!(
        "service exits nobody caused: {}; SIGTERMs that did not exit 0: {}",
        o.uncaused.len(),
        o.unclean_stops.len()
    );
    for e in o.uncaused.iter().chain(&o.unclean_stops) {
        let at = chrono::DateTime::from_timestamp_millis(e.at)
            .map_or("-".into(), |t| t.format("%H:%M:%S%.3f").to_string());
        println!("  {} slot {} ({}) at {at}:", e.service, e.slot, e.status);
        for line in last_words(&e.tail) {
            println!("    {line}");
        }
    }
    println!(
        "load: worst acknowledgement {} ms after the record's timestamp (lead covers < 0)",
        o.load.worst_ack_ms
    );
    let counters: Vec<String> = (o.counters.iter())
        .filter(|(_, n)| **n > 0.0)
        .map(|((s, c), n)| format!("{s} {c} {n}"))
        .collect();
    println!(
        "counters (summed over instances, as last scraped): {}",
        counters.join("; ")
    );
    for e in &o.examples {
        println!("{e}");
    }
}

/// Of an instance's last output, its warnings and its final error: the
/// client's connection chatter and the backtrace say nothing more (the whole
/// output is in the slot's log).
fn last_words(tail: &str) -> Vec<&str> {
    let said: Vec<&str> = (tail.lines())
        .filter(|l| (l.contains(" WARN ") && !l.contains("librdkafka")) || l.starts_with("Error:"))
        .map(|l| l.get(..400).unwrap_or(l))
        .collect();
    said[said.len().saturating_sub(4)..].to_vec()
}

pub fn line(mode: &str, v: &Verdict) -> String {
    format!(
        "chaos: mode={mode} expected={} lost={} dup={} mismatched={}",
        v.expected,
        v.lost.len(),
        v.dup,
        v.mismatched.len()
    )
}

/// A few lost, mismatched and extra commands, each with both records and the
/// faults around its decision: where a reproduction starts.
pub fn examples(
    v: &Verdict,
    truth: &Truth,
    live: &[Record],
    topics: &Topics,
    faults: &[Done],
) -> Vec<String> {
    let render = super::verdict::render(topics);
    let mut out = Vec::new();
    let kinds = [
        ("lost", &v.lost),
        ("mismatched", &v.mismatched),
        ("extra", &v.extra),
    ];
    for (kind, keys) in kinds {
        for key in keys.iter().take(5) {
            let want = truth.commands.get(key);
            let got: Vec<_> = (live.iter())
                .filter(|r| r.topic == key.0 && r.id == key.1)
                .map(|r| (render(r), r.arrived, r.partition, r.offset))
                .collect();
            let decided = (want.and_then(|w| w["decided_at"].as_i64()))
                .or_else(|| got.first().and_then(|g| g.0["decided_at"].as_i64()))
                .unwrap_or(0);
            let near: Vec<String> = (faults.iter())
                .filter(|f| f.begin - 60_000 <= decided && decided <= f.end + 60_000)
                .map(|f| format!("{} ({:+.1}s)", f.what, (f.begin - decided) as f64 / 1000.0))
                .collect();
            out.push(format!(
                "{kind}: {} {}\n  replay: {}\n  live:   {}\n  faults within 60 s of its decision: {}",
                COMMAND_TOPICS[key.0],
                key.1,
                want.map_or("-".into(), |w| w.to_string()),
                if got.is_empty() {
                    "-".into()
                } else {
                    got.iter()
                        .map(|(v, at, p, o)| format!("{v} (arrived {at}, partition {p} offset {o})"))
                        .collect::<Vec<_>>()
                        .join("\n          ")
                },
                if near.is_empty() { "none".into() } else { near.join(", ") },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_exit_is_told_by_its_warnings_and_its_error() {
        let tail = "2026 INFO decided\n2026  WARN librdkafka: GETPID retrying\n\
                    2026  WARN transaction failed; rewinding\nError: delivery failed\n\
                    \nStack backtrace:\n   0: main";
        assert_eq!(
            super::last_words(tail),
            [
                "2026  WARN transaction failed; rewinding",
                "Error: delivery failed"
            ]
        );
    }
}

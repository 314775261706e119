//! The run's tables and its `summary:` line (stdout).

use super::latency::Figures;
use super::pace::Produced;
use super::stats::Percentiles;
use super::timers::Written;
use super::Observed;
use crate::service::NAMES;
use std::collections::BTreeMap;

/// The target: time to detect, p99, under 1 s past the deadline.
const TARGET_S: f64 = 1.0;

pub struct Run<'a> {
    pub rate: u32,
    pub minutes: f64,
    pub open_timers: u64,
    pub written: Option<&'a Written>,
    pub produced: &'a Produced,
    pub commands: usize,
    pub all: &'a Figures,
    pub by_topic: &'a BTreeMap<&'static str, Figures>,
    pub seen: &'a Observed,
}

fn row(label: &str, p: &Percentiles) -> String {
    format!(
        "| {label} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        p.n, p.p50, p.p90, p.p99, p.max
    )
}

fn ms(bound: Option<f64>) -> String {
    match bound {
        Some(b) if b.is_finite() => format!("{:.0}", b * 1000.0),
        Some(_) => "inf".into(),
        None => "-".into(),
    }
}

pub fn print(run: &Run<'_>) {
    let (all, seen, produced) = (run.all, run.seen, run.produced);
    println!();
    println!(
        "inputs: {} records of {} orders in {:.1}s ({:.1} records/s; the limiter held a record \
         at most {} ms past its planned time)",
        produced.records,
        produced.orders,
        produced.seconds,
        produced.records as f64 / produced.seconds,
        produced.worst_wait_ms
    );
    println!();
    println!("End-to-end, ms (command's broker append time less an input's produce time):");
    println!();
    println!("| commands | n | p50 | p90 | p99 | max |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!("{}", row("all: since the order's last input", &all.e2e));
    println!(
        "{}",
        row("decided on an input: since that input", &all.on_input)
    );
    println!(
        "{}",
        row("decided on a timer: since its deadline", &all.on_timer)
    );
    println!(
        "{}",
        row("delay apologies: since `detectable_at`", &all.detect)
    );
    println!(
        "{}",
        row("… detectable at a deadline: past it", &all.detect_deadline)
    );
    println!(
        "{}",
        row("… detectable at a scan: since it", &all.detect_scan)
    );
    println!(
        "{}",
        row(
            "delay apologies: `decided_at` less `detectable_at`",
            &all.policy_wait
        )
    );
    for (topic, f) in run.by_topic {
        println!(
            "{}",
            row(&format!("{topic}: since the order's last input"), &f.e2e)
        );
    }
    println!();
    let d = &seen.detection;
    println!(
        "Time to detect, `wismo_detection_lag_seconds` over the run ({} observations, from {:?}); \
         a percentile is the upper bound of the bucket it falls in:",
        d.count(),
        seen.detection_by
    );
    println!();
    println!("| le (s) | observations |");
    println!("|---:|---:|");
    for (bound, n) in d.per_bucket() {
        println!("| {bound} | {n} |");
    }
    println!();
    println!(
        "detection p50 <= {} ms, p90 <= {} ms, p99 <= {} ms; the order-tracker's timer lag \
         (`wismo_timer_lag_seconds`, {} timers fired): p50 <= {} ms, p99 <= {} ms",
        ms(d.quantile_bound(0.5)),
        ms(d.quantile_bound(0.9)),
        ms(d.quantile_bound(0.99)),
        seen.timer_lag.count(),
        ms(seen.timer_lag.quantile_bound(0.5)),
        ms(seen.timer_lag.quantile_bound(0.99)),
    );
    if let Some(w) = run.written {
        println!(
            "open timers: {} states preloaded ({:.0} B per changelog entry, {:.0} B of heap per \
             decoded state); the order-tracker held {} timers after {:.1}s, {}..{} during the run",
            w.states,
            w.bytes as f64 / w.states as f64,
            w.heap_per_state,
            seen.timers_at_start,
            seen.restore_s.unwrap_or(0.0),
            seen.timers_min,
            seen.timers_max
        );
    }
    println!(
        "order-tracker: at most {} keys and {} timers open; peak RSS MiB {:?} and CPU s {:?} for {:?}",
        seen.keys_max,
        seen.timers_max,
        seen.rss_max.map(|b| b / (1 << 20)),
        seen.cpu.map(|c| (c * 10.0).round() / 10.0),
        NAMES
    );
    let p99 = d.quantile_bound(0.99);
    let held = run.open_timers == 0 || seen.timers_min >= run.open_timers as f64;
    // The target is about deadlines; the histogram also holds the apologies
    // detectable at a scan, which wait for the coalescing window by design.
    let deadlines = &all.detect_deadline;
    let ok = all.unmatched == 0 && held && deadlines.n > 0 && deadlines.p99 < TARGET_S * 1000.0;
    if all.unmatched > 0 {
        println!(
            "{} commands had no input of their order before them",
            all.unmatched
        );
    }
    println!();
    println!(
        "summary: rate={} minutes={} inputs={} commands={} e2e_p50_ms={:.0} e2e_p99_ms={:.0} \
         detect_p50_ms={} detect_p99_ms={} deadline_detect_p50_ms={:.0} deadline_detect_p99_ms={:.0} \
         open_timers={} ok={ok}",
        run.rate,
        run.minutes,
        produced.records,
        run.commands,
        all.e2e.p50,
        all.e2e.p99,
        ms(d.quantile_bound(0.5)),
        ms(p99),
        deadlines.p50,
        deadlines.p99,
        if run.open_timers > 0 { seen.timers_min } else { seen.timers_max },
    );
}

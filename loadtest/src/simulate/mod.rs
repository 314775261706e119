//! `loadtest simulate`: a month of orders with known truth through wismo's
//! decisions, and a report of how good they were (see `docs/decision-quality.md`).
//!
//! One file per concern: the truth ([`model`]), the carriers' scans it implies
//! ([`generator`]), relay noise ([`noise`]), the run through `replay`
//! ([`runner`]), the measurements ([`report`]), and the Markdown ([`markdown`])
//! and PNG charts ([`charts`]) of the report.

mod charts;
mod generator;
mod markdown;
mod model;
mod noise;
mod report;
mod runner;

use chrono::NaiveDate;
use clap::Args;
use std::path::PathBuf;
use wismo_core::tracker::TrackerConfig;

#[derive(Args)]
pub struct SimulateArgs {
    /// Orders to place over the month.
    #[arg(long, default_value_t = 100_000)]
    orders: u64,
    /// Days over which they are placed.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Seed of every random draw: the same seed, the same month.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// First day of the month (UTC). The default crosses both DST changes of the
    /// autumn and two US holidays.
    #[arg(long, default_value = "2026-10-24")]
    start: NaiveDate,
    /// Where to write `decision-quality.md` and its charts (`decision-quality/*.png`).
    #[arg(long, default_value = "target/simulate")]
    out: PathBuf,
    /// Also run the month without holiday calendars, on plain calendar time, and
    /// with one apology per incident (the earlier rule), and compare.
    #[arg(long)]
    compare: bool,
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let params = runner::Params {
        orders: args.orders,
        days: args.days,
        seed: args.seed,
        start: args.start,
    };
    let run = runner::run(&params, TrackerConfig::default())?;
    let quality = report::measure(&run.orders, &run.lines);
    let charts = args.out.join("decision-quality");
    std::fs::create_dir_all(&charts)?;
    charts::lead_time(&charts.join("lead-time.png"), &quality.lead_hours)?;
    charts::messages_per_order(
        &charts.join("messages-per-order.png"),
        &quality.messages_per_order,
    )?;
    let extra = format!(
        "{} --out {}",
        if args.compare { " --compare" } else { "" },
        args.out.display()
    );
    let mut text = markdown::render(
        &params,
        &quality,
        run.inputs,
        run.elapsed.as_secs_f64(),
        "decision-quality",
        &extra,
    );
    if args.compare {
        let mut no_holidays = TrackerConfig::default();
        no_holidays.delay.holiday_countries.clear();
        no_holidays.delay.lane_holidays = false;
        let mut calendar_time = no_holidays.clone();
        calendar_time.delay.default_calendar =
            wismo_core::calendar::BusinessCalendar::always_open();
        let mut per_incident = TrackerConfig::default();
        per_incident.delay.apologies = wismo_core::delay::ApologyMode::PerIncident;
        let mut others = Vec::new();
        let variants = [
            ("no holiday calendars", no_holidays),
            ("calendar time (weekends count too)", calendar_time),
            (
                "one apology per incident, no morning re-check (the earlier rule)",
                per_incident,
            ),
        ];
        for (name, config) in variants {
            let r = runner::run(&params, config)?;
            others.push((name, report::measure(&r.orders, &r.lines)));
        }
        let mut variants = vec![("default", &quality)];
        variants.extend(others.iter().map(|(n, q)| (*n, q)));
        text.push_str(&markdown::comparison(&variants));
    }
    let report = args.out.join("decision-quality.md");
    std::fs::write(&report, &text)?;
    for t in markdown::targets(&quality) {
        eprintln!(
            "{:<40} {:<28} {}",
            t.name,
            t.measured,
            if t.met { "met" } else { "MISSED" }
        );
    }
    eprintln!("report: {} (run to {})", report.display(), run.until);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CI-sized month: every target holds.
    #[test]
    fn a_small_month_meets_every_target() {
        let params = runner::Params {
            orders: 3_000,
            days: 30,
            seed: 7,
            start: NaiveDate::from_ymd_opt(2026, 10, 24).unwrap(),
        };
        let run = runner::run(&params, TrackerConfig::default()).expect("runs");
        let q = report::measure(&run.orders, &run.lines);
        let (reachable, apologised) = q.recall();
        assert!(
            reachable > 100,
            "enough problem parcels to judge: {reachable}"
        );
        for t in markdown::targets(&q) {
            assert!(t.met, "{} missed: {} ({})", t.name, t.measured, t.why);
        }
        assert_eq!(apologised, reachable);
        assert!(
            q.returns > 0 && q.returns_told == q.returns,
            "{} of {}",
            q.returns_told,
            q.returns
        );
        // The run is deterministic in its seed.
        let again = runner::run(&params, TrackerConfig::default()).expect("runs");
        assert_eq!(again.lines, run.lines);
    }
}

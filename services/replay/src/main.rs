//! `replay FILE`: prints, as JSON lines, the commands and dead letters wismo would
//! produce for the events in FILE. Settings come from the same `WISMO_*` variables
//! (or `WISMO_CONFIG_FILE`) the services read, so a dry run matches a deployment.

use anyhow::Context;
use clap::Parser;
use std::io::{Read, Write};
use wismo_config::{matcher_config, tracker_config, Env, Topics};

#[derive(Parser)]
#[command(
    name = "replay",
    about = "Run wismo's decisions over a JSON-lines event file on a virtual clock"
)]
struct Args {
    /// The event file (`-` for standard input).
    file: String,
    /// How far past the last event to run the clock, firing timers (e.g. 30s, 4d).
    #[arg(long, default_value = "1h")]
    horizon: String,
    /// A policy file to dry-run (overrides WISMO_POLICY_FILE).
    #[arg(long)]
    policy: Option<String>,
    /// After the commands, print per order the status timeline and every decision
    /// held back with its reason, then counters (lines starting with `# `).
    #[arg(long)]
    explain: bool,
    /// Move every time in the file by this many milliseconds, as `wismoctl
    /// publish --shift-to-now` did (it prints `shift_ms=`), to compare with a live run.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    shift_ms: i64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut env = Env::from_process()?;
    if let Some(policy) = &args.policy {
        env.set("WISMO_POLICY_FILE", policy);
    }
    let horizon = Env::from_pairs([("--horizon", args.horizon.as_str())])
        .duration("--horizon", chrono::Duration::zero())?;
    let text = if args.file == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file))?
    };
    let (matcher, tracker, topics) = (
        matcher_config(&env)?,
        tracker_config(&env)?,
        Topics::from_env(&env),
    );
    let run = replay::FileRun {
        horizon,
        shift: chrono::Duration::milliseconds(args.shift_ms),
    };
    let (lines, explanation) = if args.explain {
        let (lines, e) = replay::explain_file(&text, matcher, tracker, topics, run)?;
        (lines, Some(e))
    } else {
        (
            replay::replay_file(&text, matcher, tracker, topics, run)?,
            None,
        )
    };
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    if let Some(e) = explanation {
        write!(out, "{}", e.render())?;
    }
    Ok(())
}

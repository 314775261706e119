//! `loadtest`: measurements of wismo against a real broker. See `docs/performance.md`.
//!
//! * `restore`: how long rebuilding N orders from the order tracker's changelog
//!   takes, next to a plain read of the same bytes.
//! * `throughput`: how fast the three services decide a backlog of N orders' input,
//!   next to a plain consume-and-produce of the same records on the same broker.
//! * `flood`: valid records interleaved with every class of hostile input
//!   through the services; every bad one must be dead-lettered, every valid one
//!   decided, with bounded memory. See `flood/mod.rs`.
//! * `chaos`: kills, scaling, a rolling restart and broker outages under a paced
//!   load, with every command compared with `replay`'s. See `chaos/mod.rs`.
//! * `steady`: a paced live flow at R records/s for M minutes, optionally beside
//!   1 M open timers: end-to-end latency and time-to-detect percentiles. See
//!   `steady/mod.rs`.
//! * `simulate`: a month of orders with known truth through wismo's decisions, in
//!   memory, and a decision-quality report. See `docs/decision-quality.md`.

mod alloc;
mod chaos;
mod flood;
mod gen;
mod measure;
mod produce;
mod restore;
mod service;
mod simulate;
mod steady;
mod throughput;
mod topic;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

#[derive(Parser)]
#[command(name = "loadtest", about = "Measures wismo against a real broker")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Time a changelog restore of N orders against a raw read of the same partition.
    Restore(restore::RestoreArgs),
    /// Time the three services deciding a backlog of N orders against a raw
    /// consume-and-produce passthrough of the same input records.
    Throughput(throughput::ThroughputArgs),
    /// Kill, scale, restart and cut off the services and the broker under a paced
    /// load, and compare every command with replay's, once per delivery mode.
    Chaos(chaos::ChaosArgs),
    /// A mixed flood of valid and hostile records through the services: no exit,
    /// every bad record dead-lettered, every valid one decided, RSS bounded.
    Flood(flood::FloodArgs),
    /// A paced live flow of R input records per second for M minutes (optionally
    /// beside N open timers): end-to-end latency and time to detect.
    Steady(steady::SteadyArgs),
    /// Run a simulated month with known truth through wismo's decisions and write a
    /// decision-quality report (Markdown and PNG charts).
    Simulate(simulate::SimulateArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Restore(args) => restore::run(args),
        Command::Throughput(args) => throughput::run(args),
        Command::Chaos(args) => chaos::run(args),
        Command::Flood(args) => flood::run(args),
        Command::Steady(args) => steady::run(args),
        Command::Simulate(args) => simulate::run(args),
    }
}

//! A throwaway Tansu broker per test.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _};

use crate::{
    kafka,
    process::ServiceProcess,
    util::{free_port, port_accepts, tansu_bin},
};

/// How long [`Broker::start`] waits for the broker to answer metadata.
pub const BROKER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A Tansu broker (Kafka wire protocol) on a free loopback port, with
/// in-memory storage and its own temp dir (working directory + log).
///
/// Equivalent command line:
///
/// ```text
/// tansu broker --cluster-id wismo-e2e \
///     --listener-url tcp://127.0.0.1:<port> \
///     --advertised-listener-url tcp://127.0.0.1:<port> \
///     --storage-engine memory://tansu/
/// ```
///
/// The process is killed on drop, which discards all data. Tansu 0.6 does
/// not support Kafka transactions.
#[derive(Debug)]
pub struct Broker {
    port: u16,
    process: ServiceProcess,
}

impl Broker {
    /// Starts a fresh broker and waits until a metadata request succeeds.
    pub fn start() -> anyhow::Result<Self> {
        let bin = tansu_bin()?;
        let mut last_err = None;
        // The free port may be grabbed between probing and tansu's bind;
        // retry a few times with a new port in that case.
        for _ in 0..3 {
            let port = free_port()?;
            match Self::start_on(&bin, port) {
                Ok(broker) => return Ok(broker),
                Err(err) => {
                    eprintln!("[wismo-e2e] tansu failed to start on port {port}: {err:#}");
                    last_err = Some(err);
                }
            }
        }
        Err(last_err.expect("at least one attempt"))
    }

    fn start_on(bin: &Path, port: u16) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("wismo-e2e-tansu-")
            .tempdir()
            .context("creating broker temp dir")?;
        let url = format!("tcp://127.0.0.1:{port}");
        let mut command = Command::new(bin);
        command
            .arg("broker")
            .args(["--cluster-id", "wismo-e2e"])
            .args(["--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            // tansu loads `.env` from its working directory; use an empty one.
            .current_dir(dir.path())
            .env(
                "RUST_LOG",
                std::env::var("TANSU_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .env("NO_COLOR", "1");
        let process = ServiceProcess::spawn_command("tansu".into(), command, dir)?;
        let mut broker = Self { port, process };
        broker.wait_ready(BROKER_START_TIMEOUT)?;
        Ok(broker)
    }

    fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let fail = |broker: &mut Self, why: String| -> anyhow::Result<()> {
            bail!(
                "tansu on port {}: {why}; log tail:\n{}",
                broker.port,
                broker.process.log_tail(40)
            )
        };
        // Plain TCP first, so librdkafka doesn't spin on connection refused.
        while !port_accepts(self.port) {
            if let Some(status) = self.process.try_wait()? {
                return fail(self, format!("exited during startup ({status})"));
            }
            if Instant::now() >= deadline {
                return fail(self, format!("port not open within {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match kafka::fetch_metadata(&self.bootstrap(), None, left.min(Duration::from_secs(5))) {
                Ok(_) => return Ok(()),
                Err(err) => {
                    if let Some(status) = self.process.try_wait()? {
                        return fail(self, format!("exited during startup ({status})"));
                    }
                    if Instant::now() >= deadline {
                        return fail(self, format!("no metadata within {timeout:?}: {err:#}"));
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }

    /// `bootstrap.servers` value, e.g. `127.0.0.1:40123`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The broker's TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The broker's log file.
    pub fn log_path(&self) -> &Path {
        self.process.log_path()
    }

    /// Whatever the broker printed so far.
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    /// Whether the broker process is still alive.
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// Creates topics with replication factor 1; see [`kafka::create_topics`].
    pub fn create_topics(&self, topics: &[(&str, i32)], compacted: bool) -> anyhow::Result<()> {
        kafka::create_topics(&self.bootstrap(), topics, compacted)
    }

    /// Kills the broker now (SIGKILL); the data is gone with it.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        self.process.kill().map(drop)
    }
}

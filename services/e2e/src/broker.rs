//! Apache Kafka brokers for the tests: one shared per test binary, or one of a
//! test's own when it stops or bounces the broker.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::{mpsc, OnceLock},
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _};
use tempfile::TempDir;

use crate::{
    kafka,
    process::ServiceProcess,
    util::{free_port, port_accepts},
};

/// How long [`Broker::start`] waits for the broker to answer metadata.
pub const BROKER_START_TIMEOUT: Duration = Duration::from_secs(90);

/// What a broker runs with beyond the defaults ([`Broker::start_with`]).
#[derive(Debug, Clone, Default)]
pub struct BrokerOptions {
    /// Extra server properties, appended to the generated ones.
    pub properties: String,
    /// SCRAM-SHA-512 users `(name, password)`. With any, the broker also listens
    /// for SASL_SSL on a port of its own, with a CA and certificate made at start
    /// (`scripts/kafka/tls.sh`); PLAINTEXT stays on [`Broker::bootstrap`].
    pub scram_users: Vec<(String, String)>,
}

/// A single-node KRaft broker on free loopback ports, run by `scripts/broker.sh
/// run` in the foreground, with its data in a temp dir of its own. Killed on
/// drop; [`Broker::stop`] and [`Broker::start_again`] bounce it with its data.
#[derive(Debug)]
pub struct Broker {
    port: u16,
    controller_port: u16,
    sasl_ssl_port: Option<u16>,
    options: BrokerOptions,
    data: TempDir,
    process: Option<ServiceProcess>,
}

impl Broker {
    /// Starts a fresh, empty broker and waits until a metadata request succeeds.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(BrokerOptions::default())
    }

    /// [`Broker::start`] with extra properties or a SASL_SSL listener.
    pub fn start_with(options: BrokerOptions) -> anyhow::Result<Self> {
        let mut last_err = None;
        // A free port may be taken between probing and the broker's bind.
        for _ in 0..3 {
            let data = tempfile::Builder::new()
                .prefix("wismo-e2e-kafka-")
                .tempdir()
                .context("creating broker temp dir")?;
            let sasl_ssl_port = (!options.scram_users.is_empty())
                .then(free_port)
                .transpose()?;
            let mut broker = Broker {
                port: free_port()?,
                controller_port: free_port()?,
                sasl_ssl_port,
                options: options.clone(),
                data,
                process: None,
            };
            match broker.start_again() {
                Ok(()) => return Ok(broker),
                Err(err) => {
                    eprintln!("[wismo-e2e] broker failed to start: {err:#}");
                    last_err = Some(err);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("broker never started")))
    }

    /// The bootstrap address of this test binary's shared broker, started on first
    /// use. Tests that share it use topic names of their own ([`crate::Stage`]).
    pub fn shared() -> anyhow::Result<String> {
        static SHARED: OnceLock<Result<String, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| Broker::kept(BrokerOptions::default(), |b| b.bootstrap()))
            .clone()
            .map_err(anyhow::Error::msg)
    }

    /// Starts a broker that lives as long as the test binary, and returns what
    /// `describe` says of it.
    pub(crate) fn kept<T: Send + 'static>(
        options: BrokerOptions,
        describe: impl FnOnce(&Broker) -> T + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = mpsc::channel();
        // The broker dies with the thread that spawned it (parent-death
        // signal), so that thread lives as long as the test binary.
        let spawned = std::thread::Builder::new()
            .name("wismo-e2e-broker".into())
            .spawn(move || match Broker::start_with(options) {
                Ok(broker) => {
                    let _ = tx.send(Ok(describe(&broker)));
                    loop {
                        std::thread::park();
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("{e:#}")));
                }
            });
        match spawned {
            Ok(_) => rx
                .recv()
                .unwrap_or_else(|_| Err("the broker thread ended".into())),
            Err(e) => Err(format!("spawning the broker thread: {e}")),
        }
    }

    /// Starts the broker (again) on its ports and data, and waits until it serves.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.process.is_none(), "the broker is already running");
        let log_dir = tempfile::Builder::new()
            .prefix("wismo-e2e-kafka-log-")
            .tempdir()
            .context("creating broker log dir")?;
        let mut command = Command::new(broker_script());
        command
            .arg("run")
            .env("WISMO_BROKER_DIR", self.data.path())
            .env("WISMO_BROKER_PORT", self.port.to_string())
            .env(
                "WISMO_BROKER_CONTROLLER_PORT",
                self.controller_port.to_string(),
            )
            .env(
                "WISMO_BROKER_HEAP",
                std::env::var("WISMO_E2E_BROKER_HEAP").unwrap_or_else(|_| "512m".into()),
            );
        if !self.options.properties.is_empty() {
            let path = self.data.path().join("extra.properties");
            std::fs::write(&path, &self.options.properties)?;
            command.env("WISMO_BROKER_PROPERTIES", path);
        }
        if let Some(port) = self.sasl_ssl_port {
            let users: Vec<String> = (self.options.scram_users.iter())
                .map(|(name, password)| format!("{name}:{password}"))
                .collect();
            command
                .env("WISMO_BROKER_SASL_SSL_PORT", port.to_string())
                .env("WISMO_BROKER_SCRAM_USERS", users.join(" "));
        }
        self.process = Some(ServiceProcess::spawn_command(
            "kafka".into(),
            command,
            log_dir,
        )?);
        self.wait_ready(BROKER_START_TIMEOUT)
    }

    /// A clean shutdown (SIGTERM); the data stays for [`Broker::start_again`].
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut process) = self.process.take() {
            process.terminate_within(Duration::from_secs(60))?;
        }
        Ok(())
    }

    fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let process = self.process.as_mut().context("the broker is not running")?;
            if let Some(status) = process.try_wait()? {
                bail!(
                    "broker on port {} exited during start-up ({status}):\n{}\n{}",
                    self.port,
                    process.log_tail(20),
                    crate::util::log_tail(&self.data.path().join("broker.log"), 40)
                );
            }
            if port_accepts(self.port)
                && self.sasl_ssl_port.is_none_or(port_accepts)
                && kafka::fetch_metadata(&self.bootstrap(), None, Duration::from_secs(5)).is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "broker on port {} not serving within {timeout:?}:\n{}",
                    self.port,
                    crate::util::log_tail(&self.data.path().join("broker.log"), 40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `bootstrap.servers` value, e.g. `127.0.0.1:40123`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The broker's client port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The KRaft controller's port on 127.0.0.1.
    pub fn controller_port(&self) -> u16 {
        self.controller_port
    }

    /// The SASL_SSL listener's `bootstrap.servers`, if the broker has one.
    pub fn sasl_ssl_bootstrap(&self) -> Option<String> {
        self.sasl_ssl_port.map(|p| format!("127.0.0.1:{p}"))
    }

    /// The CA certificate that signed the broker's (`ssl.ca.location`).
    pub fn ca_location(&self) -> PathBuf {
        self.data.path().join("tls").join("ca.crt")
    }

    /// The broker's own log (server.log equivalent).
    pub fn log_path(&self) -> PathBuf {
        self.data.path().join("broker.log")
    }

    /// Whatever the broker logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Whether the broker process is alive.
    pub fn is_running(&mut self) -> bool {
        self.process.as_mut().is_some_and(|p| p.is_running())
    }

    /// Creates topics with replication factor 1; see [`kafka::create_topics`].
    pub fn create_topics(&self, topics: &[(&str, i32)], compacted: bool) -> anyhow::Result<()> {
        kafka::create_topics(&self.bootstrap(), topics, compacted)
    }

    /// Kills the broker now (SIGKILL), as a crash would; the data stays.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut process) = self.process.take() {
            process.kill()?;
        }
        Ok(())
    }
}

/// `scripts/broker.sh` of this repository.
fn broker_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/broker.sh")
}

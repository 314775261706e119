//! Driving wismo's own binaries in a test: the services, `wismoctl`, their HTTP side.

use crate::{free_port, service_binary, wait_until, ServiceProcess};
use anyhow::{bail, Context};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

/// Runs `wismoctl --bootstrap <bootstrap> <args>` and returns its standard output.
pub fn wismoctl(bootstrap: &str, args: &[&str]) -> anyhow::Result<String> {
    wismoctl_with(bootstrap, &[], args)
}

/// [`wismoctl`] with extra environment (a topic prefix, say).
pub fn wismoctl_with(
    bootstrap: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> anyhow::Result<String> {
    let out = Command::new(service_binary("wismoctl")?)
        .arg("--bootstrap")
        .arg(bootstrap)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .context("running wismoctl")?;
    anyhow::ensure!(
        out.status.success(),
        "wismoctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// The `value` of each JSON line `wismoctl read` printed.
pub fn values(lines: &str) -> Vec<Value> {
    lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|mut v| v["value"].take())
        .collect()
}

/// A plain HTTP/1.1 GET on loopback: (status, body).
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http_get_with(port, path, &[])
}

/// [`http_get`] with request headers (`Authorization`, say).
pub fn http_get_with(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// The value of the first metric line starting with `series` (name and labels).
pub fn metric(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// A running wismo service and its HTTP port.
pub struct Service {
    pub process: ServiceProcess,
    pub http: u16,
}

impl Service {
    /// Starts service binary `name` against `bootstrap` with extra environment, and
    /// waits until it is ready and owns partitions.
    pub fn start(name: &str, bootstrap: &str, env: &[(&str, &str)]) -> anyhow::Result<Service> {
        // The free port can be taken by another process before the service binds
        // it: then it exits at once, and starts again on another port.
        for attempt in 1.. {
            match Self::start_once(name, bootstrap, env)? {
                Ok(svc) => return Ok(svc),
                Err(logs) if attempt < 3 && logs.contains("in use") => continue,
                Err(logs) => bail!("{name} exited before it was ready: {logs}"),
            }
        }
        unreachable!("the loop returns or fails")
    }

    /// `Ok(Err(logs))`: the process exited before it was ready.
    fn start_once(
        name: &str,
        bootstrap: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Result<Service, String>> {
        let http = free_port()?;
        let addr = format!("127.0.0.1:{http}");
        let mut vars: Vec<(&str, &str)> = vec![
            ("WISMO_BOOTSTRAP_SERVERS", bootstrap),
            ("WISMO_HTTP_ADDR", &addr),
            ("RUST_LOG", "info"),
        ];
        vars.extend_from_slice(env);
        let process = ServiceProcess::spawn(service_binary(name)?, &vars)?;
        let mut svc = Service { process, http };
        let ready = wait_until("readiness", Duration::from_secs(60), || {
            if let Some(status) = svc.process.try_wait()? {
                return Ok(Some(Some(status)));
            }
            Ok(http_get(http, "/readyz")
                .filter(|(s, _)| *s == 200)
                .map(|_| None))
        })
        .with_context(|| format!("{name} never became ready: {}", errors_and_tail(&svc)))?;
        if let Some(status) = ready {
            return Ok(Err(format!("{status}: {}", errors_and_tail(&svc))));
        }
        svc.process
            .wait_for_log("partitions assigned", Duration::from_secs(90))
            .with_context(|| format!("{name} was never assigned partitions"))?;
        Ok(Ok(svc))
    }

    pub fn metrics(&self) -> String {
        http_get(self.http, "/metrics")
            .map(|(_, b)| b)
            .unwrap_or_default()
    }
}

/// The log's first error lines (a backtrace can push them out of the tail), then
/// its tail.
fn errors_and_tail(svc: &Service) -> String {
    let logs = svc.process.logs();
    let errors: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("ERROR") || l.starts_with("Error"))
        .take(5)
        .collect();
    format!(
        "errors: {}\n... last lines:\n{}",
        errors.join("\n"),
        svc.process.log_tail(30)
    )
}

/// One test's own wismo deployment on a broker, usually the test binary's shared
/// one: every topic and consumer group under a prefix of its own
/// (`WISMO_TOPIC_PREFIX`), so tests run side by side without seeing each other.
#[derive(Debug, Clone)]
pub struct Stage {
    pub bootstrap: String,
    pub prefix: String,
    /// `WISMO_KAFKA_*` settings every service and `wismoctl` here get (SASL, TLS).
    pub kafka_env: Vec<(String, String)>,
}

impl Stage {
    /// Every wismo topic in `partitions` partitions on the shared broker.
    pub fn new(partitions: u32) -> anyhow::Result<Stage> {
        Stage::on(&crate::Broker::shared()?, partitions, partitions)
    }

    /// Every wismo topic on the broker at `bootstrap`; the scan-matcher's key space
    /// (`carrier-scans` and its own topics) in `scan_partitions` partitions.
    pub fn on(bootstrap: &str, partitions: u32, scan_partitions: u32) -> anyhow::Result<Stage> {
        Stage::with_kafka_env(bootstrap, Vec::new(), partitions, scan_partitions)
    }

    /// [`Stage::on`] for a cluster that needs client settings (credentials, a CA),
    /// given as `WISMO_KAFKA_*` pairs; topics are created with them too.
    pub fn with_kafka_env(
        bootstrap: &str,
        kafka_env: Vec<(String, String)>,
        partitions: u32,
        scan_partitions: u32,
    ) -> anyhow::Result<Stage> {
        let stage = Stage {
            bootstrap: bootstrap.to_string(),
            prefix: crate::unique_name("t") + ".",
            kafka_env,
        };
        stage.wismoctl(&[
            "create-topics",
            "--partitions",
            &partitions.to_string(),
            "--scan-partitions",
            &scan_partitions.to_string(),
        ])?;
        Ok(stage)
    }

    /// The actual name of a topic given by its default name.
    pub fn topic(&self, default_name: &str) -> String {
        format!("{}{default_name}", self.prefix)
    }

    /// The environment that puts a service (or `replay`) on this stage.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("WISMO_TOPIC_PREFIX", self.prefix.clone())]
    }

    /// `wismoctl` on this stage; default topic names stand for this stage's.
    pub fn wismoctl(&self, args: &[&str]) -> anyhow::Result<String> {
        wismoctl_with(&self.bootstrap, &self.vars(&[]), args)
    }

    /// The prefix, the Kafka settings, then `extra`.
    fn vars<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut vars = vec![("WISMO_TOPIC_PREFIX", self.prefix.as_str())];
        vars.extend(self.kafka_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        vars.extend_from_slice(extra);
        vars
    }

    /// The values on `topic` (a default name), read until `idle_secs` pass quietly.
    pub fn read(&self, topic: &str, idle_secs: u64) -> anyhow::Result<Vec<Value>> {
        Ok(values(&self.wismoctl(&[
            "read",
            topic,
            "--idle-secs",
            &idle_secs.to_string(),
        ])?))
    }

    /// Starts service `name` on this stage without waiting for it (it may die
    /// before it is ready).
    pub fn spawn(&self, name: &str, env: &[(&str, &str)]) -> anyhow::Result<ServiceProcess> {
        let mut vars = vec![("WISMO_BOOTSTRAP_SERVERS", self.bootstrap.as_str())];
        vars.extend(self.vars(env));
        ServiceProcess::spawn(service_binary(name)?, &vars)
    }

    /// Starts service `name` on this stage with extra environment.
    pub fn start(&self, name: &str, env: &[(&str, &str)]) -> anyhow::Result<Service> {
        Service::start(name, &self.bootstrap, &self.vars(env))
    }
}

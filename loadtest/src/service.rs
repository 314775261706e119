//! A release service binary run by a measurement, and what its `/metrics` and
//! `/proc` say while it runs.

use anyhow::{bail, Context};
use std::time::Duration;
use wismo_e2e::{free_port, http_get, service_binary, ServiceProcess};

pub const NAMES: [&str; 3] = ["scan-matcher", "order-tracker", "dispatcher"];
pub const TRACKER: usize = 1;

pub struct Service {
    process: ServiceProcess,
    http: u16,
}

impl Service {
    /// Starts `name` with `env`; returns once its HTTP side answers.
    pub fn start(name: &str, env: &[(String, String)]) -> anyhow::Result<Service> {
        let http = free_port()?;
        let addr = format!("127.0.0.1:{http}");
        let mut vars: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        vars.push(("WISMO_HTTP_ADDR", &addr));
        let process = ServiceProcess::spawn(service_binary(name)?, &vars)?;
        let mut service = Service { process, http };
        wismo_e2e::wait_until(&format!("{name} to start"), Duration::from_secs(60), || {
            service.metrics().map(|m| (!m.is_empty()).then_some(()))
        })?;
        Ok(service)
    }

    /// Its `/metrics` text; fails if the process has exited.
    pub fn metrics(&mut self) -> anyhow::Result<String> {
        if let Some(status) = self.process.try_wait()? {
            bail!(
                "{} exited ({status}); last output:\n{}",
                self.process.name(),
                self.process.log_tail(30)
            );
        }
        Ok(http_get(self.http, "/metrics")
            .map(|(_, b)| b)
            .unwrap_or_default())
    }

    /// Resident set size in bytes (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss(&self) -> anyhow::Result<u64> {
        let pid = self.process.pid();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("reading /proc/{pid}/status"))?;
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .with_context(|| format!("no VmRSS in /proc/{pid}/status"))?;
        Ok(kb * 1024)
    }

    pub fn cpu(&self) -> anyhow::Result<f64> {
        crate::measure::process_cpu_seconds(self.process.pid())
    }

    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.process.terminate_within(Duration::from_secs(30))?;
        Ok(())
    }
}

/// The value of a gauge or counter line `name` (no labels), if present.
pub fn value(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.strip_prefix(' ')?;
        rest.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_unlabelled_values() {
        let m = "# HELP wismo_timers_open x\nwismo_timers_open 1000000\nwismo_timers_open_x 3\n";
        assert_eq!(value(m, "wismo_timers_open"), Some(1e6));
        assert_eq!(value(m, "wismo_state_keys"), None);
    }
}

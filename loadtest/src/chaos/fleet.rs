//! The service instances: up to three slots per service, each with a stable
//! instance id (`<service>-<slot>`, as a StatefulSet's pods), so a restarted
//! instance fences its previous self's transactions at once.
//!
//! Every instance's output is appended to `<logs>/<service>-<slot>.log` when it
//! ends. An exit the harness did not cause is recorded (it must never happen)
//! and the instance is started again, so the run goes on.

use super::schedule::SERVICES;
use crate::throughput::pipeline::counter;
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wismo_e2e::{free_port, http_get, service_binary, ServiceProcess};

/// Counters summed over every instance, scraped just before it is stopped or
/// killed and at the end (an instance that exits on its own loses its own).
const COUNTERS: [&str; 7] = [
    "wismo_upstream_timeouts_total",
    "wismo_commit_failures_total",
    "wismo_aborts_total",
    "wismo_rebalances_total",
    "wismo_restored_keys_total",
    "wismo_dead_letters_total",
    "wismo_timers_fired_total",
];

pub struct Instance {
    process: ServiceProcess,
    http: u16,
    generation: u32,
}

/// An exit: one the harness did not cause, or a SIGTERM that did not end in 0.
#[derive(Debug, Clone)]
pub struct Exit {
    pub service: &'static str,
    pub slot: usize,
    pub status: String,
    /// Epoch ms.
    pub at: i64,
    pub tail: String,
}

pub struct Fleet {
    env: Vec<(String, String)>,
    slots: [Vec<Option<Instance>>; 3],
    generations: BTreeMap<(usize, usize), u32>,
    logs: PathBuf,
    pub uncaused: Vec<Exit>,
    pub unclean_stops: Vec<Exit>,
    pub counters: BTreeMap<(&'static str, &'static str), f64>,
    pub kills: [usize; 3],
    /// Slots whose instance exited by itself, to start again.
    to_restart: Vec<(usize, usize)>,
}

impl Fleet {
    pub fn new(env: Vec<(String, String)>, logs: &Path) -> Fleet {
        Fleet {
            env,
            slots: [vec![], vec![], vec![]],
            generations: BTreeMap::new(),
            logs: logs.to_path_buf(),
            uncaused: Vec::new(),
            unclean_stops: Vec::new(),
            counters: BTreeMap::new(),
            kills: [0; 3],
            to_restart: Vec::new(),
        }
    }

    /// Slots of `service` with a running instance.
    pub fn running(&self, service: usize) -> Vec<usize> {
        (self.slots[service].iter().enumerate())
            .filter_map(|(i, s)| s.as_ref().map(|_| i))
            .collect()
    }

    /// Starts an instance in `slot` and waits until its HTTP side answers.
    pub fn start(&mut self, service: usize, slot: usize) -> anyhow::Result<()> {
        let name = SERVICES[service];
        let http = free_port()?;
        let addr = format!("127.0.0.1:{http}");
        let id = format!("{name}-{slot}");
        let mut vars: Vec<(&str, &str)> = (self.env.iter())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        vars.push(("WISMO_HTTP_ADDR", &addr));
        vars.push(("WISMO_INSTANCE_ID", &id));
        let process = ServiceProcess::spawn(service_binary(name)?, &vars)?;
        let generation = self.generations.entry((service, slot)).or_insert(0);
        *generation += 1;
        let mut instance = Instance {
            process,
            http,
            generation: *generation,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while http_get(http, "/healthz").is_none() {
            if let Some(status) = instance.process.try_wait()? {
                let exit = self.archive(service, slot, &instance, &format!("exit {status}"));
                self.uncaused.push(exit);
                bail!("{id} exited while starting ({status})");
            }
            anyhow::ensure!(Instant::now() < deadline, "{id} did not start in 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        let slots = &mut self.slots[service];
        if slots.len() <= slot {
            slots.resize_with(slot + 1, || None);
        }
        slots[slot] = Some(instance);
        Ok(())
    }

    /// Waits until the instance in `slot` says it is ready (assigned, restored).
    pub fn wait_ready(
        &mut self,
        service: usize,
        slot: usize,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let instance = self.instance(service, slot)?;
            if http_get(instance.http, "/readyz").is_some_and(|(code, _)| code == 200) {
                return Ok(());
            }
            if let Some(status) = instance.process.try_wait()? {
                bail!("{} slot {slot} exited ({status})", SERVICES[service]);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{} slot {slot} not ready within {timeout:?}",
                SERVICES[service]
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn instance(&mut self, service: usize, slot: usize) -> anyhow::Result<&mut Instance> {
        (self.slots[service].get_mut(slot))
            .and_then(Option::as_mut)
            .with_context(|| format!("{} slot {slot} is not running", SERVICES[service]))
    }

    /// SIGKILL, as a node dying would.
    pub fn kill(&mut self, service: usize, slot: usize) -> anyhow::Result<()> {
        let mut instance = self.take(service, slot)?;
        instance.process.kill()?;
        self.kills[service] += 1;
        self.archive(service, slot, &instance, "kill -9");
        Ok(())
    }

    /// SIGTERM and wait for the exit; a clean stop exits 0.
    pub fn terminate(&mut self, service: usize, slot: usize) -> anyhow::Result<()> {
        let mut instance = self.take(service, slot)?;
        let status = instance.process.terminate_within(Duration::from_secs(60))?;
        let exit = self.archive(service, slot, &instance, &format!("SIGTERM: {status}"));
        if status.code() != Some(0) {
            self.unclean_stops.push(exit);
        }
        Ok(())
    }

    fn take(&mut self, service: usize, slot: usize) -> anyhow::Result<Instance> {
        self.scrape(service, slot);
        (self.slots[service].get_mut(slot))
            .and_then(Option::take)
            .with_context(|| format!("{} slot {slot} is not running", SERVICES[service]))
    }

    fn scrape(&mut self, service: usize, slot: usize) {
        let Some(Some(instance)) = self.slots[service].get(slot) else {
            return;
        };
        let Some((_, metrics)) = http_get(instance.http, "/metrics") else {
            return;
        };
        for name in COUNTERS {
            *self.counters.entry((SERVICES[service], name)).or_default() +=
                counter(&metrics, name, "");
        }
    }

    /// Records exits nobody asked for and starts those instances again (only
    /// while the broker is up: a service refuses to start without one).
    pub fn supervise(&mut self, broker_up: bool) -> anyhow::Result<()> {
        for service in 0..3 {
            for slot in 0..self.slots[service].len() {
                let Some(instance) = self.slots[service][slot].as_mut() else {
                    continue;
                };
                let Some(status) = instance.process.try_wait()? else {
                    continue;
                };
                let instance = self.slots[service][slot].take().context("slot")?;
                let exit = self.archive(service, slot, &instance, &format!("exit {status}"));
                eprintln!(
                    "chaos: {} slot {slot} exited by itself ({status}); last output:\n{}",
                    exit.service, exit.tail
                );
                self.uncaused.push(exit);
                self.to_restart.push((service, slot));
            }
        }
        if broker_up {
            for (service, slot) in std::mem::take(&mut self.to_restart) {
                self.start(service, slot)?;
            }
        }
        Ok(())
    }

    /// Scrapes and stops every instance (SIGTERM).
    pub fn stop_all(&mut self) -> anyhow::Result<()> {
        for service in 0..3 {
            for slot in self.running(service) {
                self.terminate(service, slot)?;
            }
        }
        Ok(())
    }

    /// Appends the instance's output to its slot's log; returns what it was.
    fn archive(&self, service: usize, slot: usize, instance: &Instance, how: &str) -> Exit {
        let name = SERVICES[service];
        let path = self.logs.join(format!("{name}-{slot}.log"));
        let logs = strip_ansi(&instance.process.logs());
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| {
                writeln!(
                    f,
                    "=== {name} slot {slot} generation {} pid {}: ended by {how} at {} ===",
                    instance.generation,
                    instance.process.pid(),
                    chrono::Utc::now().format("%H:%M:%S%.3f")
                )?;
                f.write_all(logs.as_bytes())
            });
        if let Err(e) = written {
            eprintln!("chaos: could not write {}: {e}", path.display());
        }
        Exit {
            service: name,
            slot,
            status: how.to_string(),
            at: chrono::Utc::now().timestamp_millis(),
            tail: strip_ansi(&instance.process.log_tail(30)),
        }
    }
}

impl Drop for Fleet {
    /// Whatever still runs when the harness stops (on an error too) leaves its log.
    fn drop(&mut self) {
        for service in 0..3 {
            for slot in 0..self.slots[service].len() {
                if let Some(mut instance) = self.slots[service][slot].take() {
                    let _ = instance.process.kill();
                    self.archive(service, slot, &instance, "the harness stopping");
                }
            }
        }
    }
}

/// Text logs carry terminal colours; the archived ones do not.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ parameters final-byte
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn colours_are_stripped() {
        let line = "\u{1b}[2m2026\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m started \u{1b}[3mservice\u{1b}[0m\u{1b}[2m=\u{1b}[0mx";
        assert_eq!(super::strip_ansi(line), "2026  INFO started service=x");
    }
}

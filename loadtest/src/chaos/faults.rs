//! Carrying out the schedule: each fault at its load time (never before the
//! previous one is done), against the fleet, the broker and the load, while
//! watching for exits nobody caused.
//!
//! After each fault, a probe waits until every consumer group has committed
//! everything its inputs held when the fault ended: the pipeline has caught up.

use super::fleet::Fleet;
use super::load::Load;
use super::schedule::{Fault, Planned};
use super::watch::Groups;
use anyhow::Context;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use wismo_e2e::Broker;

/// Longest a probe waits for the groups to catch up.
const CATCH_UP_LIMIT: Duration = Duration::from_secs(120);

/// One fault as it happened.
pub struct Done {
    pub what: String,
    /// Load time it was due at, and wall clock (epoch ms) it began and ended.
    pub due: Duration,
    pub begin: i64,
    pub end: i64,
    /// Seconds from the fault's end until every group had caught up, or `None`
    /// if they had not within the limit.
    pub caught_up: Option<f64>,
}

struct Pending {
    what: String,
    due: Duration,
    begin: i64,
    end: i64,
    probe: JoinHandle<Option<f64>>,
}

pub struct Runner<'a> {
    pub fleet: &'a mut Fleet,
    pub broker: &'a mut Broker,
    pub load: &'a Load,
    pub groups: Arc<Groups>,
    pub bootstrap: String,
    pub broker_up: bool,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Runner<'_> {
    /// Waits `d` of wall time, looking after the fleet meanwhile.
    fn pass(&mut self, d: Duration) -> anyhow::Result<()> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            self.fleet.supervise(self.broker_up)?;
            std::thread::sleep(Duration::from_millis(100).min(d));
        }
        Ok(())
    }

    /// Waits until the load has run for `t`.
    pub fn until_load(&mut self, t: Duration) -> anyhow::Result<()> {
        while self.load.time() < t && !self.load.done() {
            self.pass(Duration::from_millis(100))?;
        }
        Ok(())
    }

    /// A probe with no fault: the baseline the recoveries compare with.
    pub fn baseline(&mut self) -> anyhow::Result<Option<f64>> {
        let probe = self.probe()?;
        probe
            .join()
            .map_err(|_| anyhow::anyhow!("the probe panicked"))
    }

    pub fn run(&mut self, plan: &[Planned]) -> anyhow::Result<Vec<Done>> {
        let mut pending = Vec::new();
        for p in plan {
            while self.load.time() < p.at && !self.load.done() {
                self.pass(Duration::from_millis(100))?;
            }
            if let Some(e) = self.load.failure() {
                anyhow::bail!("the load failed: {e}");
            }
            let begin = now_ms();
            eprintln!(
                "chaos: {:>6.1}s {}",
                self.load.time().as_secs_f64(),
                p.fault.describe()
            );
            self.apply(&p.fault)
                .with_context(|| format!("carrying out {}", p.fault.describe()))?;
            pending.push(Pending {
                what: p.fault.describe(),
                due: p.at,
                begin,
                end: now_ms(),
                probe: self.probe()?,
            });
            self.fleet.supervise(self.broker_up)?;
        }
        while !self.load.done() {
            self.pass(Duration::from_millis(200))?;
        }
        let mut done = Vec::new();
        for p in pending {
            done.push(Done {
                what: p.what,
                due: p.due,
                begin: p.begin,
                end: p.end,
                caught_up: p
                    .probe
                    .join()
                    .map_err(|_| anyhow::anyhow!("probe panicked"))?,
            });
        }
        Ok(done)
    }

    fn apply(&mut self, fault: &Fault) -> anyhow::Result<()> {
        match fault {
            Fault::Kill { service, pick } => {
                let running = self.fleet.running(*service);
                anyhow::ensure!(!running.is_empty(), "nothing running to kill");
                let slot = running[(*pick % running.len() as u64) as usize];
                self.fleet.kill(*service, slot)?;
                self.fleet.start(*service, slot)
            }
            Fault::ScaleOut { service } => {
                for slot in 0..3 {
                    if !self.fleet.running(*service).contains(&slot) {
                        self.fleet.start(*service, slot)?;
                    }
                }
                Ok(())
            }
            Fault::ScaleIn { service } => {
                let running = self.fleet.running(*service);
                for slot in running.iter().rev().take(running.len().saturating_sub(1)) {
                    self.fleet.terminate(*service, *slot)?;
                }
                Ok(())
            }
            Fault::RollingRestart => {
                for service in 0..3 {
                    for slot in self.fleet.running(service) {
                        self.fleet.terminate(service, slot)?;
                        self.fleet.start(service, slot)?;
                        self.fleet
                            .wait_ready(service, slot, Duration::from_secs(180))?;
                    }
                }
                Ok(())
            }
            Fault::BrokerOutage { length } => {
                self.load.pause()?;
                let ports = [self.broker.port(), self.broker.controller_port()];
                self.broker.stop()?;
                let held = HeldPorts::hold(&ports)?;
                self.broker_up = false;
                self.pass(*length)?;
                drop(held);
                self.broker.start_again()?;
                self.broker_up = true;
                self.load.resume();
                Ok(())
            }
        }
    }

    /// Notes every input's end now, and waits on a thread of its own until
    /// every group has committed that far.
    fn probe(&self) -> anyhow::Result<JoinHandle<Option<f64>>> {
        let ends = self.groups.ends(&self.bootstrap)?;
        let (groups, bootstrap) = (self.groups.clone(), self.bootstrap.clone());
        let started = Instant::now();
        Ok(std::thread::spawn(move || {
            while started.elapsed() < CATCH_UP_LIMIT {
                // A broker away, or a group between generations, is not caught up.
                if groups.reached(&bootstrap, &ends).unwrap_or(false) {
                    return Some(started.elapsed().as_secs_f64());
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            None
        }))
    }
}

/// The broker's ports, bound but not listening while it is away: on a machine
/// shared with other tests, no process asking the kernel for a free port (bind
/// to port 0) is given one of them before the broker is back, and a client's
/// connect is refused as with nothing there.
struct HeldPorts(Vec<libc::c_int>);

impl HeldPorts {
    fn hold(ports: &[u16]) -> anyhow::Result<HeldPorts> {
        let mut held = HeldPorts(Vec::new());
        for &port in ports {
            // SAFETY: socket(2), setsockopt(2) and bind(2) on a descriptor of our
            // own, with pointers to live locals of the sizes passed.
            unsafe {
                let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
                anyhow::ensure!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
                held.0.push(fd);
                // The broker's closed connections may still be in TIME_WAIT.
                let one: libc::c_int = 1;
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_REUSEADDR,
                    (&one as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
                let addr = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: port.to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
                    },
                    sin_zero: [0; 8],
                };
                let bound = libc::bind(
                    fd,
                    (&addr as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                );
                anyhow::ensure!(
                    bound == 0,
                    "holding port {port} while the broker is away: {}",
                    std::io::Error::last_os_error()
                );
            }
        }
        Ok(held)
    }
}

impl Drop for HeldPorts {
    fn drop(&mut self) {
        for fd in &self.0 {
            // SAFETY: closing a descriptor this value owns, once.
            unsafe { libc::close(*fd) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HeldPorts;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn a_held_port_refuses_connections_until_released() {
        let port = wismo_e2e::free_port().expect("a free port");
        let held = HeldPorts::hold(&[port]).expect("held");
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "refused");
        drop(held);
        assert!(TcpListener::bind(("127.0.0.1", port)).is_ok(), "free again");
    }
}

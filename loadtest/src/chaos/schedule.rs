//! The fault schedule: what happens when, in load time (the time the load has
//! been running, which stands still while the broker is away), drawn from the
//! seed. The same seed and profile give the same schedule.
//!
//! The run goes through phases, as fractions of the load time:
//! kills with one instance of each service; the scale-out to three; kills among
//! three; a rolling restart; a broker outage; kills; the scale-in to one; a
//! second outage (full profile); kills. Kills are dealt round-robin over the
//! three services, then shuffled, so each service gets its share.

use super::profile::Profile;
use super::rng::Rng;
use std::time::Duration;

pub const SERVICES: [&str; 3] = ["scan-matcher", "order-tracker", "dispatcher"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL one running instance (`pick` chooses among them), then start it again.
    Kill { service: usize, pick: u64 },
    /// Start instances until the service has three.
    ScaleOut { service: usize },
    /// SIGTERM instances until the service has one.
    ScaleIn { service: usize },
    /// SIGTERM each instance of each service in turn, starting it again and
    /// waiting until it is ready before the next.
    RollingRestart,
    /// Stop the broker (its data kept), wait, start it again on the same port.
    BrokerOutage { length: Duration },
}

impl Fault {
    pub fn describe(&self) -> String {
        match self {
            Fault::Kill { service, .. } => format!("kill -9 {}", SERVICES[*service]),
            Fault::ScaleOut { service } => format!("scale-out {} 1->3", SERVICES[*service]),
            Fault::ScaleIn { service } => format!("scale-in {} 3->1", SERVICES[*service]),
            Fault::RollingRestart => "rolling restart (SIGTERM)".into(),
            Fault::BrokerOutage { length } => format!("broker outage {}s", length.as_secs()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Load time at which it happens (not before the previous fault is done).
    pub at: Duration,
    pub fault: Fault,
}

/// Windows of the load, as fractions, where kills land.
const KILL_WINDOWS: [(f64, f64); 4] = [(0.06, 0.20), (0.32, 0.46), (0.64, 0.76), (0.90, 0.97)];

pub fn schedule(seed: u64, profile: &Profile) -> Vec<Planned> {
    let mut rng = Rng::new(seed, 0x5C4E_D01E);
    let load = profile.load.as_secs_f64();
    let at = |f: f64| Duration::from_secs_f64(load * f);
    let mut plan = Vec::new();

    let mut services: Vec<usize> = (0..profile.kills).map(|k| k % 3).collect();
    rng.shuffle(&mut services);
    let total: f64 = KILL_WINDOWS.iter().map(|(a, b)| b - a).sum();
    let mut times = Vec::new();
    for (i, (a, b)) in KILL_WINDOWS.iter().enumerate() {
        // The last window takes what rounding left over.
        let n = if i + 1 == KILL_WINDOWS.len() {
            profile.kills - times.len()
        } else {
            ((profile.kills as f64 * (b - a) / total).round() as usize)
                .min(profile.kills - times.len())
        };
        let mut window: Vec<f64> = (0..n).map(|_| rng.between(*a, *b)).collect();
        window.sort_by(f64::total_cmp);
        times.extend(window);
    }
    for (t, service) in times.into_iter().zip(services) {
        plan.push(Planned {
            at: at(t),
            fault: Fault::Kill {
                service,
                pick: rng.next(),
            },
        });
    }

    if profile.scale {
        for service in 0..3 {
            let out = 0.24 + 0.02 * service as f64 + rng.between(0.0, 0.01);
            let back = 0.78 + 0.02 * service as f64 + rng.between(0.0, 0.01);
            plan.push(Planned {
                at: at(out),
                fault: Fault::ScaleOut { service },
            });
            plan.push(Planned {
                at: at(back),
                fault: Fault::ScaleIn { service },
            });
        }
    }
    if profile.rolling_restart {
        // Among three instances when the load leaves time for nine restarts.
        let when = if profile.rolling_scaled { 0.50 } else { 0.22 };
        plan.push(Planned {
            at: at(when + rng.between(0.0, 0.01)),
            fault: Fault::RollingRestart,
        });
    }
    let outage_at = [0.56, 0.86];
    for (length, f) in profile.outages.iter().zip(outage_at) {
        plan.push(Planned {
            at: at(f + rng.between(0.0, 0.02)),
            fault: Fault::BrokerOutage { length: *length },
        });
    }
    plan.sort_by_key(|p| p.at);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::profile::ProfileName;

    fn count(plan: &[Planned], f: impl Fn(&Fault) -> bool) -> usize {
        plan.iter().filter(|p| f(&p.fault)).count()
    }

    #[test]
    fn a_seed_gives_one_schedule() {
        let p = Profile::of(ProfileName::Full);
        assert_eq!(schedule(5, &p), schedule(5, &p));
        assert_ne!(schedule(5, &p), schedule(6, &p));
    }

    #[test]
    fn the_full_schedule_has_what_the_issue_asks() {
        for seed in 0..20 {
            let p = Profile::of(ProfileName::Full);
            let plan = schedule(seed, &p);
            assert!(plan.windows(2).all(|w| w[0].at <= w[1].at));
            assert!(plan.iter().all(|f| f.at < p.load), "every fault mid-stream");
            assert!(count(&plan, |f| matches!(f, Fault::Kill { .. })) >= 20);
            for (s, name) in SERVICES.iter().enumerate() {
                let kills = count(
                    &plan,
                    |f| matches!(f, Fault::Kill { service, .. } if *service == s),
                );
                assert!(kills >= p.kills / 3, "{name} gets {kills} kills");
                let out = plan
                    .iter()
                    .position(|f| f.fault == Fault::ScaleOut { service: s });
                let back = plan
                    .iter()
                    .position(|f| f.fault == Fault::ScaleIn { service: s });
                assert!(out.zip(back).is_some_and(|(o, b)| o < b), "1 -> 3 -> 1");
            }
            assert_eq!(count(&plan, |f| *f == Fault::RollingRestart), 1);
            assert!(
                count(
                    &plan,
                    |f| matches!(f, Fault::BrokerOutage { length } if length.as_secs() >= 30)
                ) >= 1
            );
        }
    }

    #[test]
    fn the_short_schedule_bounces_the_broker_once() {
        let plan = schedule(1, &Profile::of(ProfileName::Short));
        assert_eq!(count(&plan, |f| matches!(f, Fault::BrokerOutage { .. })), 1);
        let kills: Vec<_> = plan
            .iter()
            .filter_map(|p| match p.fault {
                Fault::Kill { service, .. } => Some(service),
                _ => None,
            })
            .collect();
        assert!((0..3).all(|s| kills.contains(&s)), "{kills:?}");
    }
}

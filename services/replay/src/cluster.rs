//! wismo in one process: the scan-matcher, the order-tracker and the dispatcher,
//! each an engine on the in-memory log, joined by the same internal topics as on
//! Kafka. `replay`, the scenario tests and the simulation drive it.

use dispatcher::Dispatcher;
use order_tracker::OrderTracker;
use scan_matcher::ScanMatcher;
use std::sync::Arc;
use wismo_config::Topics;
use wismo_core::clock::Clock;
use wismo_core::matcher::MatcherConfig;
use wismo_core::tracker::TrackerConfig;
use wismo_engine::record::Outgoing;
use wismo_engine::transport::memory::{Faults, FetchPolicy, MemoryLog, MemoryTransport};
use wismo_engine::{Engine, EngineConfig, EngineError, Processor};

/// The three services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    ScanMatcher,
    OrderTracker,
    Dispatcher,
}

impl Service {
    pub const ALL: [Service; 3] = [
        Service::ScanMatcher,
        Service::OrderTracker,
        Service::Dispatcher,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::ScanMatcher => scan_matcher::SERVICE,
            Service::OrderTracker => order_tracker::SERVICE,
            Service::Dispatcher => dispatcher::SERVICE,
        }
    }
}

/// What the services are configured with, as a deployment would configure them.
#[derive(Clone)]
pub struct Settings {
    pub matcher: MatcherConfig,
    pub tracker: TrackerConfig,
    pub topics: Topics,
    pub engine: EngineConfig,
    /// Partitions of the topics keyed by order (and customer), and by tracking number.
    pub partitions: i32,
    pub scan_partitions: i32,
}

/// One running instance of a service.
pub trait Instance {
    /// One round of its loop; whether anything happened.
    fn poll(&mut self) -> Result<bool, EngineError>;
    fn commit(&mut self) -> Result<(), EngineError>;
    /// A commit whose offsets follow its changelog's acknowledgement later.
    fn commit_pipelined(&mut self) -> Result<(), EngineError>;
    /// A clean stop: commit and leave the group.
    fn stop(&mut self) -> Result<(), EngineError>;
    fn lookup(&self, key: &str) -> Option<serde_json::Value>;
    fn member(&self) -> &str;
    /// Its tasks and where they stand.
    fn describe(&self) -> String;
    /// Records it has still to fetch.
    fn lag(&self) -> i64;
}

impl<P: Processor> Instance for Engine<P, MemoryTransport> {
    fn poll(&mut self) -> Result<bool, EngineError> {
        self.poll_once(std::time::Duration::ZERO)
    }

    fn commit(&mut self) -> Result<(), EngineError> {
        self.commit_now()
    }

    fn commit_pipelined(&mut self) -> Result<(), EngineError> {
        Engine::commit_pipelined(self)
    }

    fn stop(&mut self) -> Result<(), EngineError> {
        self.shutdown()
    }

    fn lookup(&self, key: &str) -> Option<serde_json::Value> {
        Engine::lookup(self, key)
    }

    fn member(&self) -> &str {
        self.transport().member()
    }

    fn describe(&self) -> String {
        Engine::describe(self)
    }

    fn lag(&self) -> i64 {
        Engine::lag(self)
    }
}

pub struct Member {
    pub service: Service,
    pub instance: Box<dyn Instance>,
}

pub struct Cluster {
    pub log: MemoryLog,
    pub settings: Settings,
    clock: Arc<dyn Clock>,
    pub members: Vec<Member>,
    started: u64,
    /// [`Cluster::run_until_quiet`] commits as the services' loop does, not
    /// waiting for each commit to finish.
    pub pipelined_commits: bool,
}

impl Cluster {
    /// Every topic of `settings`, empty, and no service running yet.
    pub fn new(settings: Settings, clock: Arc<dyn Clock>) -> Self {
        let log = MemoryLog::new();
        let t = &settings.topics;
        let (o, s) = (settings.partitions, settings.scan_partitions);
        for (topic, n) in [
            (&t.orders, o),
            (&t.carrier_scans, s),
            (&t.notifications, o),
            (&t.delay_apologies, o),
            (&t.review_requests, o),
            (&t.outbox, o),
            (&t.dead_letter, o),
            (&t.shipment_registrations, s),
            (&t.routed_scans, o),
            (&t.matcher_changelog, s),
            (&t.tracker_changelog, o),
            (&t.dispatcher_changelog, o),
        ] {
            log.create_topic(topic, n);
        }
        Cluster {
            log,
            settings,
            clock,
            members: Vec::new(),
            started: 0,
            pipelined_commits: false,
        }
    }

    /// Starts one more instance of `service`; its index in `members`.
    pub fn start(
        &mut self,
        service: Service,
        fetch: FetchPolicy,
        faults: Faults,
    ) -> Result<usize, EngineError> {
        let config = self.settings.engine.clone();
        self.start_with(service, fetch, faults, config)
    }

    /// Starts one more instance of `service` with an engine configuration of its
    /// own; its index in `members`.
    pub fn start_with(
        &mut self,
        service: Service,
        fetch: FetchPolicy,
        faults: Faults,
        config: EngineConfig,
    ) -> Result<usize, EngineError> {
        self.started += 1;
        let s = &self.settings;
        let group = format!("wismo-{}", service.name());
        let member = format!("{}-{}", service.name(), self.started);
        let transport = MemoryTransport::new(&self.log, &group, &member)
            .with_fetch(fetch)
            .with_faults(faults);
        let clock = self.clock.clone();
        let instance: Box<dyn Instance> = match service {
            Service::ScanMatcher => Box::new(started(
                ScanMatcher::new(s.matcher.clone(), s.topics.clone()),
                transport,
                config,
                clock,
            )?),
            Service::OrderTracker => Box::new(started(
                OrderTracker::new(s.tracker.clone(), s.topics.clone()),
                transport,
                config,
                clock,
            )?),
            Service::Dispatcher => Box::new(started(
                Dispatcher::unthrottled(&s.tracker.notifications, s.topics.clone()),
                transport,
                config,
                clock,
            )?),
        };
        self.members.push(Member { service, instance });
        Ok(self.members.len() - 1)
    }

    /// One instance of each service, fetching everything there is.
    pub fn start_all(&mut self) -> Result<(), EngineError> {
        for service in Service::ALL {
            self.start(service, FetchPolicy::default(), Faults::default())?;
        }
        Ok(())
    }

    /// Appends a record to an input topic, as a shop or a 3PL publishes it.
    pub fn publish(&self, topic: &str, key: Option<&str>, payload: Vec<u8>, timestamp: i64) {
        let record = Outgoing {
            topic: Arc::from(topic),
            partition: None,
            key: key.map(|k| k.as_bytes().to_vec()),
            value: Some(payload),
            timestamp,
            source: None,
            watermark: None,
        };
        // Input topics exist: the cluster created them.
        let _ = self.log.append(vec![record]);
    }

    /// Removes an instance as a crash would: nothing committed, nothing flushed;
    /// its partitions move to the others.
    pub fn crash(&mut self, index: usize) {
        if index < self.members.len() {
            let m = self.members.remove(index);
            let group = format!("wismo-{}", m.service.name());
            self.log.leave(&group, m.instance.member());
        }
    }

    /// Stops an instance cleanly: it commits and leaves. If its last commit
    /// fails, it is gone all the same (its session ends, as a crashed one's does).
    pub fn stop(&mut self, index: usize) -> Result<(), EngineError> {
        if index >= self.members.len() {
            return Ok(());
        }
        let result = self.members[index].instance.stop();
        if result.is_err() {
            self.crash(index);
        } else {
            self.members.remove(index);
        }
        result
    }

    /// Runs every instance, committing between rounds, until nothing moves.
    pub fn run_until_quiet(&mut self) -> Result<(), EngineError> {
        loop {
            let before = self.total_records();
            let mut progress = false;
            for m in &mut self.members {
                while m.instance.poll()? {
                    progress = true;
                }
            }
            for m in &mut self.members {
                if self.pipelined_commits {
                    m.instance.commit_pipelined()?;
                } else {
                    m.instance.commit()?;
                }
            }
            if !progress && self.total_records() == before && self.lag() == 0 {
                return Ok(());
            }
        }
    }

    /// As [`Cluster::run_until_quiet`], but an instance that fails is gone and a
    /// new one of its service starts in its place (as an orchestrator restarts a
    /// crashed pod), with `faults`. Returns how many restarts it took; more than
    /// `max_restarts` is an error (a crash loop).
    pub fn run_restarting(
        &mut self,
        faults: &Faults,
        max_restarts: usize,
    ) -> anyhow::Result<usize> {
        let mut restarts = 0;
        loop {
            let before = self.total_records();
            let mut progress = false;
            let mut failed = Vec::new();
            for (i, m) in self.members.iter_mut().enumerate() {
                loop {
                    match m.instance.poll() {
                        Ok(true) => progress = true,
                        Ok(false) => break,
                        Err(_) => {
                            failed.push(i);
                            break;
                        }
                    }
                }
                if !failed.contains(&i) && m.instance.commit().is_err() {
                    failed.push(i);
                }
            }
            for i in failed.into_iter().rev() {
                let service = self.members[i].service;
                self.crash(i);
                restarts += 1;
                if restarts > max_restarts {
                    anyhow::bail!("more than {max_restarts} restarts: a crash loop");
                }
                self.start(service, FetchPolicy::default(), faults.clone())?;
                progress = true;
            }
            if !progress && self.total_records() == before && self.lag() == 0 {
                return Ok(restarts);
            }
        }
    }

    fn total_records(&self) -> usize {
        self.log.total_records()
    }

    /// Records the instances have still to fetch.
    pub fn lag(&self) -> i64 {
        self.members.iter().map(|m| m.instance.lag()).sum()
    }

    /// A key's state, from whichever instance of `service` holds it.
    pub fn lookup(&self, service: Service, key: &str) -> Option<serde_json::Value> {
        self.members
            .iter()
            .filter(|m| m.service == service)
            .find_map(|m| m.instance.lookup(key))
    }
}

fn started<P: Processor>(
    processor: P,
    transport: MemoryTransport,
    config: EngineConfig,
    clock: Arc<dyn Clock>,
) -> Result<Engine<P, MemoryTransport>, EngineError> {
    let mut engine = Engine::new(processor, transport, config, clock)?;
    engine.start()?;
    Ok(engine)
}

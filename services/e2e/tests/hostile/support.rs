//! One test's pipeline on the shared broker, and what every hostile-input test
//! checks at its end: dead letters with bounded reasons, every service still up.

use anyhow::Context;
use rdkafka::producer::FutureProducer;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use wismo_core::quote::{MAX_REASON_CHARS, QUOTED_CHARS};
use wismo_e2e::hostile::{bulk_producer, send_all, Rec};
use wismo_e2e::{http_get, metric, values, wait_until, Service, Stage};

pub const SERVICES: [&str; 3] = ["scan-matcher", "order-tracker", "dispatcher"];

/// The three services on a stage of their own.
pub struct Pipeline {
    pub stage: Stage,
    pub services: Vec<(&'static str, Service)>,
    producer: FutureProducer,
}

impl Pipeline {
    /// Every service with `env`, and `extra` for the one it names.
    pub fn start(env: &[(&str, &str)], extra: &[(&str, &[(&str, &str)])]) -> anyhow::Result<Self> {
        let stage = Stage::new(2)?;
        let mut services = Vec::new();
        for name in SERVICES {
            let mut vars = vec![("WISMO_COALESCE_WINDOW", "1s")];
            vars.extend_from_slice(env);
            for (n, more) in extra {
                if *n == name {
                    vars.extend_from_slice(more);
                }
            }
            services.push((name, stage.start(name, &vars)?));
        }
        let producer = bulk_producer(&stage.bootstrap)?;
        Ok(Pipeline {
            stage,
            services,
            producer,
        })
    }

    /// The real name of a topic given by its default name.
    pub fn topic(&self, name: &str) -> String {
        self.stage.topic(name)
    }

    pub fn send(&self, records: &[Rec]) -> anyhow::Result<Vec<(i32, i64)>> {
        send_all(&self.producer, records)
    }

    pub fn service(&self, name: &str) -> &Service {
        &self
            .services
            .iter()
            .find(|(n, _)| *n == name)
            .expect("a service of the pipeline")
            .1
    }

    /// A counter or gauge of one service, 0 when it has no such series yet.
    pub fn metric(&self, service: &str, series: &str) -> f64 {
        metric(&self.service(service).metrics(), series).unwrap_or(0.0)
    }

    /// The order-tracker's state of an order, once it has one.
    pub fn order(&self, id: &str) -> Option<Value> {
        let (status, body) =
            http_get(self.service("order-tracker").http, &format!("/orders/{id}"))?;
        (status == 200).then(|| serde_json::from_str(&body).ok())?
    }

    /// Waits until the tracker has every order in `ids`.
    pub fn wait_orders(&self, ids: &[&str]) -> anyhow::Result<()> {
        wait_until("the orders' state", Duration::from_secs(90), || {
            Ok(ids.iter().all(|id| self.order(id).is_some()).then_some(()))
        })
        .with_context(|| self.logs())
    }

    /// Waits until the matcher knows which order `tracking` belongs to.
    pub fn wait_registered(&self, tracking: &str) -> anyhow::Result<()> {
        let port = self.service("scan-matcher").http;
        wait_until("the registration", Duration::from_secs(90), || {
            Ok(http_get(port, &format!("/tracking/{tracking}"))
                .filter(|(s, body)| *s == 200 && body.contains("order_id\":\""))
                .map(|_| ()))
        })
        .with_context(|| self.logs())
    }

    /// Waits until a command of `milestone` for each order in `ids` is out, and
    /// returns every notification command.
    pub fn wait_notified(&self, milestone: &str, ids: &[&str]) -> anyhow::Result<Vec<Value>> {
        let mut all = Vec::new();
        wait_until("the notifications", Duration::from_secs(120), || {
            all = self.stage.read("notification-commands", 0)?;
            let told: BTreeSet<&str> = all
                .iter()
                .filter(|c| c["milestone"] == milestone)
                .filter_map(|c| c["order_id"].as_str())
                .collect();
            Ok(ids.iter().all(|id| told.contains(id)).then_some(()))
        })
        .with_context(|| self.logs())?;
        Ok(all)
    }

    /// The dead letters, once there are at least `n`, read to the end.
    pub fn dead_letters(&self, n: usize) -> anyhow::Result<Vec<Value>> {
        let dead =
            values(
                &self
                    .stage
                    .wismoctl(&["read", "dead-letter", "--expect", &n.to_string()])?,
            );
        anyhow::ensure!(
            dead.len() >= n,
            "{} dead letters:\n{}",
            dead.len(),
            summary(&dead)
        );
        Ok(dead)
    }

    /// No service exited.
    pub fn assert_all_running(&mut self) {
        for (name, s) in &mut self.services {
            assert!(
                s.process.is_running(),
                "{name} exited: {}",
                s.process.log_tail(30)
            );
        }
    }

    fn logs(&self) -> String {
        self.services
            .iter()
            .map(|(n, s)| format!("--- {n}\n{}", s.process.log_tail(15)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Every reason is short and one line, and quotes none of `untrusted` beyond a
/// short prefix.
pub fn assert_bounded(dead: &[Value], untrusted: &[&str]) {
    for d in dead {
        let reason = d["reason"].as_str().unwrap_or_default();
        assert!(!reason.is_empty(), "{}", d["reason"]);
        assert!(
            reason.chars().count() <= MAX_REASON_CHARS + 1,
            "{} chars: {reason}",
            reason.chars().count()
        );
        assert!(!reason.contains('\n'), "{reason}");
        for value in untrusted {
            let prefix: String = value.chars().take(QUOTED_CHARS + 1).collect();
            assert!(!reason.contains(&prefix), "quotes {prefix}…: {reason}");
        }
    }
}

/// One line per dead letter: its key, kind and reason.
pub fn summary(dead: &[Value]) -> String {
    dead.iter()
        .map(|d| format!("{} {} {}", d["original_key"], d["error_kind"], d["reason"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The dead letter whose original key is `key`.
pub fn letter<'a>(dead: &'a [Value], key: &str) -> &'a Value {
    dead.iter()
        .find(|d| d["original_key"] == key)
        .unwrap_or_else(|| panic!("no dead letter for {key}:\n{}", summary(dead)))
}

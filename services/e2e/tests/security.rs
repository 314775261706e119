//! Security end to end. All three services and `wismoctl` reach a broker that
//! wants SCRAM-SHA-512 over TLS (CA and certificate made at test time) with
//! credentials and trust from `WISMO_KAFKA_*`, and decide exactly what `replay`
//! decides. With a wrong password each service exits within seconds, says why,
//! and prints no secret; so does one that does not trust the broker's certificate. The state lookup can be turned off or put behind a
//! bearer token, and the probes and metrics stay open either way.

mod common;

use common::{assert_same_commands, live_commands, now_ms, policy_file, replay_commands};
use std::time::{Duration, Instant};
use wismo_e2e::events::{order, publish, scan, shipment};
use wismo_e2e::{
    free_port, http_get, http_get_with, random_secret, service_binary, wait_until, SecureBroker,
    ServiceProcess, Stage,
};

/// Never quiet, reviews due in seconds, so the test runs at any hour.
const POLICY: &str = r#"
[notifications]
quiet_hours = { start = "00:00", end = "00:00" }

[reviews]
default_delay = "3s"
late_extra = "2s"
fallback_after_fulfilled = "1h"
"#;

/// A wrong login must end a service within this (it used to retry for good).
const FAIL_FAST: Duration = Duration::from_secs(15);

const SERVICES: [&str; 3] = ["scan-matcher", "order-tracker", "dispatcher"];

fn secure_stage() -> anyhow::Result<(SecureBroker, Stage)> {
    let secure = SecureBroker::shared()?;
    let stage = Stage::with_kafka_env(&secure.bootstrap, secure.client_env(), 2, 2)?;
    Ok((secure, stage))
}

#[test]
fn every_service_over_sasl_ssl_decides_as_replay() -> anyhow::Result<()> {
    // Topics, publishing and reading go through wismoctl over SASL_SSL too.
    let (secure, stage) = secure_stage()?;
    let policy = policy_file(POLICY)?;
    let env = [
        ("WISMO_POLICY_FILE", policy.as_str()),
        ("WISMO_COALESCE_WINDOW", "1s"),
        ("RUST_LOG", "debug"),
    ];
    let services: Vec<_> = SERVICES
        .iter()
        .map(|name| stage.start(name, &env))
        .collect::<Result<_, _>>()?;

    let t0 = now_ms();
    let mut lines = Vec::new();
    for i in 1..=4 {
        let id = format!("sec-{i}");
        lines.push(order(&id, &format!("c-{id}"), "UTC", Some(3), t0));
        lines.push(shipment(&id, t0));
        lines.push(scan(&id, 1, "picked_up", t0 + 100));
        if i <= 2 {
            lines.push(scan(&id, 2, "delivered", t0 + 1_500));
        }
    }
    publish(&stage, &lines)?;

    // Everything replay decides within 20 s of the input: confirmations,
    // shipped, delivered, and the review requests 3 s after delivery.
    let replayed = replay_commands(&stage, &env, t0 + 20_000)?;
    assert!(replayed.len() >= 8, "replay decided {replayed:#?}");
    let want: Vec<_> = replayed.distinct().into_keys().collect();
    let live = wait_until(
        "every command replay decides",
        Duration::from_secs(90),
        || {
            let live = live_commands(&stage, false)?;
            let have = live.distinct();
            Ok(want.iter().all(|k| have.contains_key(k)).then_some(live))
        },
    )?;
    assert_same_commands(&live, &replayed);

    for svc in &services {
        let logs = svc.process.logs();
        assert!(
            !logs.contains(&secure.password),
            "{} printed the Kafka password",
            svc.process.name()
        );
    }
    Ok(())
}

#[test]
fn a_wrong_password_stops_every_service_fast_without_printing_a_secret() -> anyhow::Result<()> {
    let (secure, stage) = secure_stage()?;
    let wrong = random_secret().map_err(anyhow::Error::msg)?;
    let kafka = secure.client_env_with_password(&wrong);
    let mut took = Vec::new();
    for name in SERVICES {
        let addr = format!("127.0.0.1:{}", free_port()?);
        let mut env: Vec<(&str, &str)> = vec![
            ("WISMO_BOOTSTRAP_SERVERS", &secure.bootstrap),
            ("WISMO_TOPIC_PREFIX", &stage.prefix),
            ("WISMO_HTTP_ADDR", &addr),
            ("RUST_LOG", "debug"),
        ];
        env.extend(kafka.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let started = Instant::now();
        let mut process = ServiceProcess::spawn(service_binary(name)?, &env)?;
        let status = process.wait_timeout(FAIL_FAST)?;
        let elapsed = started.elapsed();
        let logs = process.logs();
        let status = status.unwrap_or_else(|| {
            panic!("{name} still running {FAIL_FAST:?} after a refused login:\n{logs}")
        });
        assert!(!status.success(), "{name} exited 0 on a refused login");
        assert!(
            logs.contains("Error: Kafka authentication failed")
                && logs.contains("WISMO_KAFKA_SASL_PASSWORD"),
            "{name} did not say why it stopped:\n{logs}"
        );
        for secret in [&wrong, &secure.password] {
            assert!(
                !logs.contains(secret.as_str()),
                "{name} printed a password:\n{logs}"
            );
        }
        took.push(format!("{name} {:.1}s", elapsed.as_secs_f64()));
    }
    eprintln!("refused login, time to exit: {}", took.join(", "));
    Ok(())
}

#[test]
fn a_broker_certificate_from_another_ca_stops_a_service_fast() -> anyhow::Result<()> {
    let (secure, stage) = secure_stage()?;
    let other = tempfile::tempdir()?;
    let tls = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/kafka/tls.sh");
    let made = std::process::Command::new(tls).arg(other.path()).output()?;
    anyhow::ensure!(made.status.success(), "tls.sh: {made:?}");
    let ca = other.path().join("ca.crt");
    let addr = format!("127.0.0.1:{}", free_port()?);
    let mut env: Vec<(&str, &str)> = vec![
        ("WISMO_BOOTSTRAP_SERVERS", &secure.bootstrap),
        ("WISMO_TOPIC_PREFIX", &stage.prefix),
        ("WISMO_HTTP_ADDR", &addr),
    ];
    let kafka = secure.client_env();
    env.extend(
        (kafka.iter())
            .filter(|(k, _)| k != "WISMO_KAFKA_SSL_CA_LOCATION")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    env.push((
        "WISMO_KAFKA_SSL_CA_LOCATION",
        ca.to_str().unwrap_or_default(),
    ));
    let mut p = ServiceProcess::spawn(service_binary("order-tracker")?, &env)?;
    let status = p.wait_timeout(FAIL_FAST)?;
    let logs = p.logs();
    assert!(status.is_some_and(|s| !s.success()), "{logs}");
    assert!(
        logs.contains("Error: Kafka TLS failed") && logs.contains("WISMO_KAFKA_SSL_CA_LOCATION"),
        "{logs}"
    );
    assert!(!logs.contains(&secure.password), "{logs}");
    Ok(())
}

fn get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    http_get_with(port, path, &headers).unwrap_or((0, String::new()))
}

fn probes_open(port: u16) {
    for path in ["/metrics", "/healthz", "/readyz"] {
        assert_eq!(get(port, path, None).0, 200, "{path} needs no token");
    }
}

#[test]
fn the_lookup_is_off_or_behind_a_bearer_token() -> anyhow::Result<()> {
    let stage = Stage::new(1)?;
    let token = random_secret().map_err(anyhow::Error::msg)?;
    let tracker = stage.start(
        "order-tracker",
        &[("WISMO_LOOKUP", "token"), ("WISMO_LOOKUP_TOKEN", &token)],
    )?;
    // A mounted Secret may hold the old token and the new one during a rotation.
    let old = random_secret().map_err(anyhow::Error::msg)?;
    let file = std::env::temp_dir().join(wismo_e2e::unique_name("wismo-lookup-token"));
    std::fs::write(&file, format!("{old}\n{token}\n"))?;
    let file = file.to_string_lossy().into_owned();
    let mut matcher = stage.start(
        "scan-matcher",
        &[
            ("WISMO_LOOKUP", "token"),
            ("WISMO_LOOKUP_TOKEN_FILE", &file),
        ],
    )?;
    let t = now_ms();
    publish(
        &stage,
        &[order("lk-1", "c-lk-1", "UTC", None, t), shipment("lk-1", t)],
    )?;

    let found = wait_until("the order in the lookup", Duration::from_secs(30), || {
        let (status, body) = get(tracker.http, "/orders/lk-1", Some(&token));
        Ok((status == 200).then_some(body))
    })?;
    assert!(found.contains("\"order_id\":\"lk-1\""), "{found}");
    for wrong in [None, Some(old.as_str()), Some("0123456789abcdef0123")] {
        let (status, body) = get(tracker.http, "/orders/lk-1", wrong);
        assert_eq!(status, 401, "{wrong:?}: {body}");
        assert!(!body.contains("lk-1"), "{body}");
    }
    probes_open(tracker.http);

    let matched = wait_until("the parcel in the lookup", Duration::from_secs(30), || {
        let (status, body) = get(matcher.http, "/tracking/TRK-lk-1", Some(&old));
        Ok((status == 200).then_some(body))
    })?;
    assert!(matched.contains("lk-1"), "{matched}");
    assert_eq!(get(matcher.http, "/tracking/TRK-lk-1", Some(&token)).0, 200);
    assert_eq!(get(matcher.http, "/tracking/TRK-lk-1", None).0, 401);
    probes_open(matcher.http);

    // Turned off, the route is gone whatever the caller sends.
    assert!(matcher.process.terminate()?.success());
    let matcher = stage.start("scan-matcher", &[("WISMO_LOOKUP", "off")])?;
    assert_eq!(get(matcher.http, "/tracking/TRK-lk-1", Some(&token)).0, 404);
    assert_eq!(
        http_get(matcher.http, "/tracking/TRK-lk-1").map(|r| r.0),
        Some(404)
    );
    probes_open(matcher.http);
    Ok(())
}

#[test]
fn a_bad_lookup_setting_stops_the_service_naming_the_key() -> anyhow::Result<()> {
    // Settings are checked before Kafka is asked anything: no broker needed.
    let leaked = "short-secret";
    for (env, key) in [
        (vec![("WISMO_LOOKUP", "token")], "WISMO_LOOKUP"),
        (
            vec![("WISMO_LOOKUP", "token"), ("WISMO_LOOKUP_TOKEN", leaked)],
            "WISMO_LOOKUP_TOKEN",
        ),
        (vec![("WISMO_LOOKUP", "sometimes")], "WISMO_LOOKUP"),
    ] {
        let mut vars = vec![("WISMO_BOOTSTRAP_SERVERS", "127.0.0.1:9")];
        vars.extend(env);
        let mut p = ServiceProcess::spawn(service_binary("order-tracker")?, &vars)?;
        let status = p.wait_timeout(Duration::from_secs(10))?;
        let logs = p.logs();
        assert!(status.is_some_and(|s| !s.success()), "{vars:?}: {logs}");
        assert!(
            logs.contains(&format!("Error: configuration key {key}:")),
            "{vars:?}: {logs}"
        );
        assert!(!logs.contains(leaked), "{logs}");
    }
    Ok(())
}

//! A broker that wants credentials: SCRAM-SHA-512 over TLS, with a CA and a
//! certificate made when it starts, and the client settings that reach it.

use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::broker::{Broker, BrokerOptions};

/// The SCRAM user the services log in as.
pub const KAFKA_USER: &str = "wismo";

/// This test binary's broker with a SASL_SSL listener, started on first use.
#[derive(Debug, Clone)]
pub struct SecureBroker {
    /// `bootstrap.servers` of the SASL_SSL listener (the only one clients use).
    pub bootstrap: String,
    /// The CA that signed the broker's certificate.
    pub ca: PathBuf,
    /// [`KAFKA_USER`]'s password, random per run.
    pub password: String,
}

impl SecureBroker {
    pub fn shared() -> anyhow::Result<SecureBroker> {
        static SHARED: OnceLock<Result<SecureBroker, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let password = random_secret()?;
                let options = BrokerOptions {
                    scram_users: vec![(KAFKA_USER.into(), password.clone())],
                    ..BrokerOptions::default()
                };
                Broker::kept(options, move |b| SecureBroker {
                    bootstrap: b.sasl_ssl_bootstrap().unwrap_or_default(),
                    ca: b.ca_location(),
                    password,
                })
            })
            .clone()
            .map_err(anyhow::Error::msg)
    }

    /// The `WISMO_KAFKA_*` settings of a client logging in as [`KAFKA_USER`].
    pub fn client_env(&self) -> Vec<(String, String)> {
        self.client_env_with_password(&self.password)
    }

    /// [`SecureBroker::client_env`] with another password (a wrong one, say).
    pub fn client_env_with_password(&self, password: &str) -> Vec<(String, String)> {
        [
            ("WISMO_KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
            ("WISMO_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            ("WISMO_KAFKA_SASL_USERNAME", KAFKA_USER),
            ("WISMO_KAFKA_SASL_PASSWORD", password),
            ("WISMO_KAFKA_SSL_CA_LOCATION", &self.ca.to_string_lossy()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

/// 32 hex digits from the OS, for passwords and tokens made per run.
pub fn random_secret() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

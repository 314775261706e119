//! Who may use the state lookup (`GET /orders/{id}`, `GET /tracking/{n}`): no one,
//! anyone who reaches the port, or a caller with a bearer token from a Secret.
//! `/metrics` and the probes are never behind it.

use sha2::{Digest, Sha256};
use std::fmt;
use wismo_config::{ConfigError, Env};

const MODE: &str = "WISMO_LOOKUP";
const TOKEN: &str = "WISMO_LOOKUP_TOKEN";
const TOKEN_FILE: &str = "WISMO_LOOKUP_TOKEN_FILE";
/// Short tokens can be guessed; a generated one (`openssl rand -hex 32`) is longer.
const MIN_TOKEN_LEN: usize = 16;

#[derive(Clone, PartialEq, Eq)]
pub enum LookupAccess {
    /// No lookup route at all.
    Off,
    /// Anyone who reaches the HTTP port (a NetworkPolicy should limit who does).
    Open,
    /// `Authorization: Bearer <token>` with one of these tokens (several while a
    /// rotation is under way). Kept as digests, compared in constant time.
    Token(Vec<[u8; 32]>),
}

impl fmt::Debug for LookupAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mode())
    }
}

impl LookupAccess {
    pub fn mode(&self) -> &'static str {
        match self {
            LookupAccess::Off => "off",
            LookupAccess::Open => "open",
            LookupAccess::Token(_) => "token",
        }
    }

    /// `WISMO_LOOKUP=off|open|token`; a token comes from `WISMO_LOOKUP_TOKEN` or
    /// the file `WISMO_LOOKUP_TOKEN_FILE` (one token per line). Errors name the
    /// key and never echo a token.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let mode = env.string(MODE, "open");
        let token = env.optional(TOKEN);
        let file = env.optional(TOKEN_FILE);
        if mode != "token" {
            if let Some(key) = [(TOKEN, &token), (TOKEN_FILE, &file)]
                .into_iter()
                .find_map(|(k, v)| v.is_some().then_some(k))
            {
                return Err(ConfigError::invalid(
                    key,
                    format!(
                        "is set but {MODE} is `{mode}`, so no token is asked for; set {MODE}=token"
                    ),
                ));
            }
        }
        match mode.as_str() {
            "off" => Ok(LookupAccess::Off),
            "open" => Ok(LookupAccess::Open),
            "token" => {
                let (key, text) = match (token, file) {
                    (Some(t), None) => (TOKEN, t),
                    (None, Some(path)) => {
                        let text = std::fs::read_to_string(&path).map_err(|e| {
                            ConfigError::invalid(TOKEN_FILE, format!("cannot read {path}: {e}"))
                        })?;
                        (TOKEN_FILE, text)
                    }
                    (Some(_), Some(_)) => {
                        return Err(ConfigError::invalid(
                            TOKEN,
                            format!("set {TOKEN} or {TOKEN_FILE}, not both"),
                        ))
                    }
                    (None, None) => {
                        return Err(ConfigError::invalid(
                            MODE,
                            format!("`token` needs {TOKEN} or {TOKEN_FILE}"),
                        ))
                    }
                };
                let tokens: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect();
                if tokens.is_empty() {
                    return Err(ConfigError::invalid(key, "holds no token"));
                }
                if let Some(n) = tokens.iter().position(|t| !well_formed(t)) {
                    return Err(ConfigError::invalid(
                        key,
                        format!(
                            "token {} is not at least {MIN_TOKEN_LEN} characters of A-Z a-z 0-9 - . _ ~ + / =",
                            n + 1
                        ),
                    ));
                }
                Ok(LookupAccess::Token(
                    tokens.iter().map(|t| digest(t)).collect(),
                ))
            }
            other => Err(ConfigError::invalid(
                MODE,
                format!("`{other}` is not one of off, open, token"),
            )),
        }
    }

    /// Whether a request with this `Authorization` header may look up state.
    pub fn allows(&self, authorization: Option<&[u8]>) -> bool {
        match self {
            LookupAccess::Off => false,
            LookupAccess::Open => true,
            LookupAccess::Token(digests) => {
                let Some(presented) = authorization.and_then(bearer) else {
                    return false;
                };
                let presented = digest(presented);
                // Every configured token is compared, each in constant time.
                digests
                    .iter()
                    .fold(false, |ok, d| ok | constant_time_eq(d, &presented))
            }
        }
    }
}

/// RFC 6750 token characters (b64token).
fn well_formed(token: &str) -> bool {
    token.len() >= MIN_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

fn bearer(header: &[u8]) -> Option<&str> {
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Digests have one length, so comparing them leaks nothing about the token's.
fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "0123456789abcdef-token";

    fn access(pairs: &[(&str, &str)]) -> Result<LookupAccess, String> {
        LookupAccess::from_env(&Env::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn modes_and_the_bearer_check() {
        assert_eq!(access(&[]).unwrap(), LookupAccess::Open);
        assert!(access(&[]).unwrap().allows(None));
        assert!(!access(&[(MODE, "off")]).unwrap().allows(None));
        let a = access(&[(MODE, "token"), (TOKEN, T)]).unwrap();
        assert!(a.allows(Some(format!("Bearer {T}").as_bytes())));
        assert!(a.allows(Some(format!("bearer  {T} ").as_bytes())));
        for wrong in [
            "".to_string(),
            T.to_string(),
            format!("Basic {T}"),
            format!("Bearer {T}x"),
            "Bearer 0123456789abcdef-toke".into(),
        ] {
            assert!(!a.allows(Some(wrong.as_bytes())), "{wrong}");
        }
        assert!(!a.allows(None));
        assert_eq!(format!("{a:?}"), "token");
    }

    #[test]
    fn a_token_file_may_hold_the_old_and_the_new_token() {
        let dir = std::env::temp_dir().join(format!("wismo-access-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, format!("{T}\n\nanother-token-0123456789\n")).unwrap();
        let a = access(&[(MODE, "token"), (TOKEN_FILE, path.to_str().unwrap())]).unwrap();
        assert!(a.allows(Some(format!("Bearer {T}").as_bytes())));
        assert!(a.allows(Some(b"Bearer another-token-0123456789")));
        std::fs::write(&path, "\n").unwrap();
        let e = access(&[(MODE, "token"), (TOKEN_FILE, path.to_str().unwrap())]).unwrap_err();
        assert!(e.contains(TOKEN_FILE) && e.contains("no token"), "{e}");
        let e = access(&[(MODE, "token"), (TOKEN_FILE, "/nonexistent/token")]).unwrap_err();
        assert!(
            e.contains(TOKEN_FILE) && e.contains("/nonexistent/token"),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_settings_name_their_key_and_never_the_token() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[(MODE, "closed")], MODE),
            (&[(MODE, "token")], MODE),
            (&[(MODE, "token"), (TOKEN, "short-secret")], TOKEN),
            (&[(MODE, "token"), (TOKEN, "has a space in it!!")], TOKEN),
            (&[(MODE, "token"), (TOKEN, T), (TOKEN_FILE, "/f")], TOKEN),
            (&[(TOKEN, T)], TOKEN),
            (&[(MODE, "off"), (TOKEN_FILE, "/f")], TOKEN_FILE),
        ];
        for (pairs, key) in cases {
            let e = access(pairs).unwrap_err();
            assert!(e.starts_with(&format!("configuration key {key}:")), "{e}");
            for (_, v) in pairs.iter().filter(|(k, _)| *k == TOKEN) {
                assert!(!e.contains(v), "{e}");
            }
        }
    }
}

//! Small helpers shared by the harness: free ports, binary lookup, log tails.

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{bail, Context as _};

/// Returns a loopback TCP port that was free a moment ago.
///
/// The port is found by binding `127.0.0.1:0` and releasing the socket, so
/// another process may grab it before the caller does; callers that start a
/// listener on it should retry with a new port if binding fails.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A name that is unique within this machine for practical purposes:
/// `<prefix>-<pid>-<nanos>-<counter>`. Used for consumer groups and topics.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

/// Whether something accepts TCP connections on `127.0.0.1:port`.
pub fn port_accepts(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Polls `check` every 100 ms until it returns `Ok(Some(_))`, an error, or
/// `timeout` elapses (then an error mentioning `what`).
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check()? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last `lines` lines of the file at `path` (empty if unreadable).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Path of a workspace binary target, e.g. `service_binary("scan-matcher")`.
///
/// Computed from the running test executable: integration tests live in
/// `target/<profile>/deps/`, binaries in `target/<profile>/`. Cargo does not
/// build other packages' binaries for a test, so the e2e tests require
/// `cargo build --workspace --bins` (same profile) first; `scripts/test.sh`
/// and `.ci/run` do that. Env `WISMO_BIN_DIR` overrides the directory.
pub fn service_binary(name: &str) -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("WISMO_BIN_DIR").filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let exe = std::env::current_exe().context("locating the test executable")?;
            let mut dir = exe
                .parent()
                .context("test executable has no parent directory")?
                .to_path_buf();
            // target/<profile>/deps/<test> -> target/<profile>
            if dir.file_name().is_some_and(|n| n == "deps") {
                dir.pop();
            }
            dir
        }
    };
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!(
            "service binary {} not found; build it first with `cargo build --workspace --bins`",
            path.display()
        );
    }
    Ok(path)
}

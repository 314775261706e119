//! Child processes (service binaries, the broker) with captured output.

use std::{
    ffi::OsStr,
    fs::File,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context as _};
use tempfile::TempDir;

use crate::util::log_tail;

/// How long [`ServiceProcess::terminate`] waits after SIGTERM before SIGKILL.
pub const TERMINATE_GRACE: Duration = Duration::from_secs(10);

/// A service binary running as a child process.
///
/// stdout and stderr both go to `<tempdir>/output.log` (see
/// [`log_path`](Self::log_path) / [`logs`](Self::logs)). The process is
/// SIGKILLed on drop; if the current thread is panicking (a failing test) the
/// tail of its log is printed to stderr first. Set `WISMO_E2E_KEEP_LOGS=1` to
/// keep the temp dir after drop.
#[derive(Debug)]
pub struct ServiceProcess {
    name: String,
    child: Child,
    log_path: PathBuf,
    dir: Option<TempDir>,
    exit: Option<ExitStatus>,
}

impl ServiceProcess {
    /// Starts `binary` with the current environment plus `envs`.
    pub fn spawn(binary: impl AsRef<Path>, envs: &[(&str, &str)]) -> anyhow::Result<Self> {
        Self::spawn_with_args(binary, &[] as &[&str], envs)
    }

    /// Starts `binary` with `args`, the current environment plus `envs`.
    pub fn spawn_with_args<A: AsRef<OsStr>>(
        binary: impl AsRef<Path>,
        args: &[A],
        envs: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let binary = binary.as_ref();
        let name = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "service".into());
        let dir = tempfile::Builder::new()
            .prefix(&format!("wismo-e2e-{name}-"))
            .tempdir()
            .context("creating temp dir for service output")?;
        let mut command = Command::new(binary);
        command.args(args);
        for (key, value) in envs {
            command.env(key, value);
        }
        Self::spawn_command(name, command, dir)
    }

    /// Starts `command` with stdin closed and stdout/stderr appended to
    /// `dir/output.log`; the process owns `dir` from now on.
    pub(crate) fn spawn_command(
        name: String,
        mut command: Command,
        dir: TempDir,
    ) -> anyhow::Result<Self> {
        let log_path = dir.path().join("output.log");
        let out =
            File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
        let err = out.try_clone()?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        // The child dies with the thread that started it, so that a test binary
        // killed half-way leaves no broker or service behind.
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .with_context(|| format!("spawning {name} ({:?})", command.get_program()))?;
        Ok(Self {
            name,
            child,
            log_path,
            dir: Some(dir),
            exit: None,
        })
    }

    /// Name used in messages (the binary's file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// OS process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temp dir owned by this process (holds `output.log`).
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .map(TempDir::path)
            .unwrap_or_else(|| self.log_path.parent().unwrap_or(Path::new(".")))
    }

    /// File receiving the process' stdout and stderr.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Everything the process printed so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The last `lines` lines of output.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log_path, lines)
    }

    /// Exit status if the process has exited, without blocking.
    pub fn try_wait(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait()?;
        }
        Ok(self.exit)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.try_wait(), Ok(None))
    }

    /// Waits for the process to exit on its own, up to `timeout`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> anyhow::Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the output contains `needle`; fails on timeout or if the
    /// process exits first (error includes the log tail).
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.logs().contains(needle) {
                return Ok(());
            }
            if let Some(status) = self.try_wait()? {
                bail!(
                    "{} exited ({status}) before logging {needle:?}; last output:\n{}",
                    self.name,
                    self.log_tail(40)
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not log {needle:?} within {timeout:?}; last output:\n{}",
                    self.name,
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Hard crash: SIGKILL and reap. Returns the exit status.
    pub fn kill(&mut self) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        // ESRCH/ECHILD races are fine: the process is gone either way.
        let _ = self.child.kill();
        let status = self.child.wait().context("reaping killed process")?;
        self.exit = Some(status);
        Ok(status)
    }

    /// Graceful stop: SIGTERM, wait up to [`TERMINATE_GRACE`], then SIGKILL.
    /// Returns the exit status; check `status.code() == Some(0)` for a clean
    /// shutdown (a process killed by a signal has no code).
    pub fn terminate(&mut self) -> anyhow::Result<ExitStatus> {
        self.terminate_within(TERMINATE_GRACE)
    }

    /// Like [`terminate`](Self::terminate) with a custom grace period.
    pub fn terminate_within(&mut self, grace: Duration) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        self.signal(libc::SIGTERM)?;
        if let Some(status) = self.wait_timeout(grace)? {
            return Ok(status);
        }
        eprintln!(
            "[wismo-e2e] {} (pid {}) ignored SIGTERM for {grace:?}; sending SIGKILL",
            self.name,
            self.pid()
        );
        self.kill()
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) to the process.
    pub fn signal(&mut self, signal: libc::c_int) -> anyhow::Result<()> {
        if self.try_wait()?.is_some() {
            return Ok(());
        }
        let pid = libc::pid_t::try_from(self.pid()).context("pid out of range")?;
        // SAFETY: kill(2) has no memory-safety preconditions; the pid belongs
        // to our own child, which has not been reaped (try_wait returned None).
        let rc = unsafe { libc::kill(pid, signal) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ESRCH) {
                return Err(err).with_context(|| format!("kill({pid}, {signal})"));
            }
        }
        Ok(())
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.kill();
        if std::thread::panicking() {
            eprintln!(
                "[wismo-e2e] ---- last output of {} ({}) ----\n{}\n[wismo-e2e] ---- end of {} ----",
                self.name,
                self.log_path.display(),
                self.log_tail(60),
                self.name
            );
        }
        if std::env::var_os("WISMO_E2E_KEEP_LOGS").is_some_and(|v| !v.is_empty() && v != "0") {
            if let Some(dir) = self.dir.take() {
                let kept = dir.keep();
                eprintln!(
                    "[wismo-e2e] kept {} output in {}",
                    self.name,
                    kept.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH: &str = "/bin/sh";

    #[test]
    fn captures_output_and_env() -> anyhow::Result<()> {
        let mut p = ServiceProcess::spawn_with_args(
            SH,
            &["-c", "echo out=$WISMO_X; echo err >&2"],
            &[("WISMO_X", "42")],
        )?;
        let status = p.wait_timeout(Duration::from_secs(10))?.expect("exits");
        assert!(status.success());
        let logs = p.logs();
        assert!(logs.contains("out=42"), "{logs}");
        assert!(logs.contains("err"), "{logs}");
        Ok(())
    }

    #[test]
    fn terminate_is_graceful_when_sigterm_is_handled() -> anyhow::Result<()> {
        let mut p = ServiceProcess::spawn_with_args(
            SH,
            &[
                "-c",
                "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05; done",
            ],
            &[],
        )?;
        p.wait_for_log("ready", Duration::from_secs(10))?;
        let status = p.terminate()?;
        assert_eq!(status.code(), Some(0));
        assert!(p.logs().contains("bye"));
        Ok(())
    }

    #[test]
    fn terminate_escalates_to_sigkill() -> anyhow::Result<()> {
        let mut p = ServiceProcess::spawn_with_args(
            SH,
            &[
                "-c",
                "trap '' TERM; echo ready; while :; do sleep 0.05; done",
            ],
            &[],
        )?;
        p.wait_for_log("ready", Duration::from_secs(10))?;
        let started = Instant::now();
        let status = p.terminate_within(Duration::from_millis(500))?;
        assert_eq!(status.code(), None, "killed by signal");
        assert!(started.elapsed() < Duration::from_secs(5));
        Ok(())
    }

    #[test]
    fn kill_and_drop() -> anyhow::Result<()> {
        let mut p = ServiceProcess::spawn_with_args(SH, &["-c", "sleep 30"], &[])?;
        assert!(p.is_running());
        let status = p.kill()?;
        assert!(!status.success());
        assert!(!p.is_running());
        let q = ServiceProcess::spawn_with_args(SH, &["-c", "sleep 30"], &[])?;
        let pid = q.pid();
        drop(q);
        // SAFETY: signal 0 only checks for existence.
        let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
        assert!(!alive, "dropped process still alive");
        Ok(())
    }
}

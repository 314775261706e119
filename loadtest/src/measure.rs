//! Timing helpers shared by the measurements: wall and CPU seconds, medians.

use std::time::Instant;

/// Wall and CPU (user + system, all threads) seconds of each timed run.
#[derive(Default)]
pub struct Samples {
    pub walls: Vec<f64>,
    pub cpus: Vec<f64>,
}

impl Samples {
    pub fn push(&mut self, (wall, cpu): (f64, f64)) {
        self.walls.push(wall);
        self.cpus.push(cpu);
    }

    pub fn last(&self) -> String {
        match (self.walls.last(), self.cpus.last()) {
            (Some(w), Some(c)) => format!("{w:.3}s (cpu {c:.3}s)"),
            _ => "-".into(),
        }
    }

    pub fn wall(&self) -> f64 {
        median(&self.walls)
    }

    pub fn cpu(&self) -> f64 {
        median(&self.cpus)
    }
}

/// Runs `f`, returning its result with its wall and process CPU seconds.
/// The broker to measure against: the one `bootstrap` names, else a throwaway
/// Apache Kafka broker (kept alive by the returned handle).
pub fn broker(bootstrap: &Option<String>) -> anyhow::Result<(Option<wismo_e2e::Broker>, String)> {
    if let Some(b) = bootstrap {
        return Ok((None, b.clone()));
    }
    eprintln!("starting a throwaway Apache Kafka broker");
    let broker = wismo_e2e::Broker::start()?;
    let bootstrap = broker.bootstrap();
    Ok((Some(broker), bootstrap))
}

pub fn timed<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, (f64, f64))> {
    let (cpu0, t) = (cpu_seconds(), Instant::now());
    let out = f()?;
    let wall = t.elapsed().as_secs_f64();
    Ok((out, (wall, cpu_seconds() - cpu0)))
}

/// User + system CPU time of this process so far (every thread, librdkafka's too).
pub fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage; getrusage fills it.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

pub fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// User + system CPU seconds another process has used so far, from
/// `/proc/<pid>/stat` (every thread).
pub fn process_cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let (utime, stime) = stat_times(&stat)
        .ok_or_else(|| anyhow::anyhow!("unexpected /proc/{pid}/stat: {stat:?}"))?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    anyhow::ensure!(ticks > 0, "sysconf(_SC_CLK_TCK) failed");
    Ok((utime + stime) as f64 / ticks as f64)
}

/// `(utime, stime)` in clock ticks. The command name may hold spaces and
/// parentheses, so fields are counted from the last `)`: state is field 3,
/// utime 14, stime 15.
fn stat_times(stat: &str) -> Option<(u64, u64)> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?))
}

/// The pid of this process's child named `name` (by `/proc/<pid>/stat`), if any.
pub fn child_pid(name: &str) -> Option<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let (head, rest) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1;
            let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (comm == name && ppid == me).then_some(pid)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_times_skip_odd_command_names() {
        let stat = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 1 2 3";
        assert_eq!(stat_times(stat), Some((250, 75)));
        assert_eq!(stat_times("42 (x) S 1"), None);
    }

    #[test]
    fn own_cpu_is_readable() {
        assert!(process_cpu_seconds(std::process::id()).is_ok_and(|s| s >= 0.0));
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}

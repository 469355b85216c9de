//! Timing, memory and machine information.

use anyhow::Result;
use std::fs;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many samples to take of one measurement.
#[derive(Copy, Clone, Debug)]
pub struct Sampling {
    /// Always take at least this many.
    pub min: usize,
    /// Never take more than this many.
    pub max: usize,
    /// Past `min`, keep sampling until this much time has been spent.
    pub budget: Duration,
}

/// The summary of a set of samples.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Stats {
    /// The median sample.
    pub median: Duration,
    /// The fastest sample.
    pub min: Duration,
    /// How many samples were taken.
    pub count: usize,
}

impl Stats {
    /// Summarises `samples` (which must not be empty).
    pub fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        let count = samples.len();
        let median = if count == 0 {
            Duration::ZERO
        } else if count % 2 == 1 {
            samples[count / 2]
        } else {
            (samples[count / 2 - 1] + samples[count / 2]) / 2
        };
        Stats {
            median,
            min: samples.first().copied().unwrap_or_default(),
            count,
        }
    }
}

/// Takes samples of `f`, which times one run itself (so it can leave set-up
/// and tear-down out of the measurement), following `policy`.
pub fn sample(policy: Sampling, mut f: impl FnMut() -> Result<Duration>) -> Result<Stats> {
    let start = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < policy.min.max(1)
        || (samples.len() < policy.max && start.elapsed() < policy.budget)
    {
        samples.push(f()?);
    }
    Ok(Stats::of(samples))
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`, ...), if the
/// platform has it.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// The 1-minute load average from `/proc/loadavg`, or "unknown".
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Facts about the machine and toolchain for the report header.
pub struct MachineInfo {
    /// UTC date and time of the run.
    pub date: String,
    /// CPU model name from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical CPUs the process may use.
    pub cores: usize,
    /// `rustc --version` of the compiler that built the harness.
    pub rustc: &'static str,
    /// `clang --version` (first line) that built the kernels.
    pub clang: &'static str,
    /// Kernel release from `/proc/sys/kernel/osrelease`.
    pub os: String,
    /// The Kiln commit measured, and any uncommitted changes to the crates
    /// the harness builds (see [`kiln_revision`]).
    pub kiln: String,
}

impl MachineInfo {
    /// Gathers the facts; anything unavailable reads "unknown".
    pub fn gather() -> MachineInfo {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                let (key, value) = l.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        let listed = cpuinfo
            .lines()
            .filter(|l| l.split(':').next().is_some_and(|k| k.trim() == "processor"))
            .count();
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(listed.max(1));
        let os = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| format!("Linux {}", s.trim()))
            .unwrap_or_else(|_| std::env::consts::OS.to_string());
        MachineInfo {
            date: utc_now(),
            cpu,
            cores,
            rustc: env!("KILN_BENCH_RUSTC_VERSION"),
            clang: env!("KILN_BENCH_CLANG_VERSION"),
            os,
            kiln: kiln_revision(),
        }
    }
}

/// The Kiln crates the harness links, as paths in the repository.
const KILN_SOURCES: [&str; 6] = ["Cargo.toml", "src", "vm", "interp", "jit", "wasi"];

/// The checked-out commit of the repository around `bench/`, plus the
/// files of [`KILN_SOURCES`] that differ from it (uncommitted work is
/// measured too), or "unknown" without git.
pub fn kiln_revision() -> String {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".to_string();
    };
    let mut args = vec!["status", "--porcelain", "--"];
    args.extend(KILN_SOURCES);
    let changed: Vec<String> = git(&args)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.get(3..).map(str::to_string))
        .collect();
    if changed.is_empty() {
        commit.trim().to_string()
    } else {
        format!(
            "{} plus uncommitted changes to {}",
            commit.trim(),
            changed.join(", ")
        )
    }
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Converts days since 1970-01-01 to a Gregorian (year, month, day) by
/// counting off whole years, then whole months.
fn civil_from_days(mut days: i64) -> (i64, u32, u32) {
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut year = 1970;
    loop {
        let len = if leap(year) { 366 } else { 365 };
        if days < len {
            break;
        }
        days -= len;
        year += 1;
    }
    let months = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut month = 1;
    for len in months {
        if days < len {
            break;
        }
        days -= len;
        month += 1;
    }
    (year, month, days as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn medians() {
        let ms = Duration::from_millis;
        assert_eq!(Stats::of(vec![ms(3), ms(1), ms(2)]).median, ms(2));
        assert_eq!(
            Stats::of(vec![ms(4), ms(1), ms(2), ms(3)]).median,
            Duration::from_micros(2500)
        );
        assert_eq!(Stats::of(vec![ms(4), ms(1)]).min, ms(1));
    }
}

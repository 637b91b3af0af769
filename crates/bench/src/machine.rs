//! Where and when the figures were taken: CPU, cores, load, toolchain, commit.

use std::process::Command;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Machine {
    pub date_utc: String,
    pub nproc: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub rustc: String,
    pub git_commit: String,
    /// 1, 5 and 15 minute load averages when the run started and ended.
    pub load_start: [f64; 3],
    pub load_end: [f64; 3],
}

pub fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut it = text
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(f64::NAN));
    [
        it.next().unwrap_or(f64::NAN),
        it.next().unwrap_or(f64::NAN),
        it.next().unwrap_or(f64::NAN),
    ]
}

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "model name").then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn command(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

impl Machine {
    pub fn probe() -> Machine {
        let dirty = !command("git", &["status", "--porcelain", "--untracked-files=no"])
            .trim()
            .is_empty();
        let commit = command("git", &["rev-parse", "--short=12", "HEAD"]);
        Machine {
            date_utc: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            nproc: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpu_model: cpu_model(),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
            rustc: command("rustc", &["--version"]),
            git_commit: if dirty {
                format!("{commit} (working tree modified)")
            } else {
                commit
            },
            load_start: load_average(),
            load_end: [f64::NAN; 3],
        }
    }

    pub fn finish(&mut self) {
        self.load_end = load_average();
    }
}

//! Wall and thread-CPU stopwatches, and the median of repeated runs.

use std::time::Instant;

use serde::Serialize;

/// CPU time consumed by the calling thread, in nanoseconds.
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// One timed run: wall and thread-CPU nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall_ns: u64,
    pub cpu_ns: u64,
}

/// Times `f` once.
pub fn time<T>(f: impl FnOnce() -> T) -> (T, Sample) {
    let c0 = thread_cpu_ns();
    let t0 = Instant::now();
    let out = f();
    let wall_ns = t0.elapsed().as_nanos() as u64;
    let cpu_ns = thread_cpu_ns().saturating_sub(c0);
    (out, Sample { wall_ns, cpu_ns })
}

/// Median, min and max of repeated runs of the same work (`units` items each).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Stats {
    pub runs: usize,
    pub units: u64,
    pub median_wall_ns: u64,
    pub min_wall_ns: u64,
    pub max_wall_ns: u64,
    pub median_cpu_ns: u64,
}

impl Stats {
    pub fn of(samples: &[Sample], units: u64) -> Stats {
        let mut wall: Vec<u64> = samples.iter().map(|s| s.wall_ns).collect();
        let mut cpu: Vec<u64> = samples.iter().map(|s| s.cpu_ns).collect();
        wall.sort_unstable();
        cpu.sort_unstable();
        Stats {
            runs: samples.len(),
            units,
            median_wall_ns: median(&wall),
            min_wall_ns: wall.first().copied().unwrap_or(0),
            max_wall_ns: wall.last().copied().unwrap_or(0),
            median_cpu_ns: median(&cpu),
        }
    }

    /// Units per second of wall time (median run).
    pub fn per_s(&self) -> f64 {
        rate(self.units, self.median_wall_ns)
    }

    /// Units per second of the best run (least disturbed by other processes).
    pub fn best_per_s(&self) -> f64 {
        rate(self.units, self.min_wall_ns)
    }

    /// Units per second of thread CPU time (median run).
    pub fn per_cpu_s(&self) -> f64 {
        rate(self.units, self.median_cpu_ns)
    }

    /// Nanoseconds of wall time per unit (median run).
    pub fn ns_per_unit(&self) -> f64 {
        self.median_wall_ns as f64 / self.units.max(1) as f64
    }

    /// Nanoseconds of thread CPU per unit (median run).
    pub fn cpu_ns_per_unit(&self) -> f64 {
        self.median_cpu_ns as f64 / self.units.max(1) as f64
    }
}

fn rate(units: u64, ns: u64) -> f64 {
    if ns == 0 {
        return 0.0;
    }
    units as f64 * 1e9 / ns as f64
}

/// Median of a sorted slice (mean of the middle two for an even length).
pub fn median(sorted: &[u64]) -> u64 {
    match sorted.len() {
        0 => 0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// Runs `setup` (untimed) then `work` (timed) `warmup + runs` times; keeps the last `runs`.
pub fn repeat<S, T>(
    warmup: usize,
    runs: usize,
    units: u64,
    mut setup: impl FnMut() -> S,
    mut work: impl FnMut(S) -> T,
) -> Stats {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..warmup + runs {
        let input = setup();
        let (out, s) = time(|| work(input));
        drop(out);
        if i >= warmup {
            samples.push(s);
        }
    }
    Stats::of(&samples, units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[1, 2, 9]), 2);
        assert_eq!(median(&[1, 2, 4, 9]), 3);
        assert_eq!(median(&[]), 0);
    }

    #[test]
    fn stats_rates() {
        let s = Stats::of(
            &[
                Sample {
                    wall_ns: 2_000_000_000,
                    cpu_ns: 1_000_000_000,
                },
                Sample {
                    wall_ns: 1_000_000_000,
                    cpu_ns: 1_000_000_000,
                },
                Sample {
                    wall_ns: 4_000_000_000,
                    cpu_ns: 1_000_000_000,
                },
            ],
            1000,
        );
        assert_eq!(s.per_s(), 500.0);
        assert_eq!(s.best_per_s(), 1000.0);
        assert_eq!(s.per_cpu_s(), 1000.0);
        assert_eq!(s.ns_per_unit(), 2_000_000.0);
    }

    #[test]
    fn thread_cpu_advances() {
        let a = thread_cpu_ns();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_ns() > a);
    }
}

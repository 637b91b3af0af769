//! qoe-alerts' window store: how many title x region partials a shard flushes
//! per tumbling window, what they cost in DynamoDB units, and the flush time
//! they add to the function.

use crate::billing::{units, KB};
use crate::lambda::{LambdaUse, EMF_LINE_BYTES};
use crate::measured::Measured;
use crate::params::{Params, WindowDesign};
use crate::sizing::Stream;

/// Partition keys a window's items are spread over (playback-aws `windows_store::BUCKETS`).
const WINDOW_BUCKETS: f64 = 32.0;

/// Expected distinct groups among `n` events spread evenly over `g` groups
/// (an upper bound for a skewed catalogue, where popular titles repeat more).
pub fn expected_distinct(n: f64, g: f64) -> f64 {
    if g <= 0.0 || n <= 0.0 {
        return 0.0;
    }
    g * (1.0 - (-n / g).exp())
}

/// Mean WRU of the window item's updates while its shard set grows from 1 to `shards` ids.
pub fn window_item_wru(base_bytes: f64, shard_id_bytes: f64, shards: f64) -> f64 {
    let s = shards.max(1.0).round() as u64;
    let total: f64 = (1..=s)
        .map(|j| units(base_bytes + shard_id_bytes * j as f64, KB))
        .sum();
    total / s as f64
}

/// DynamoDB traffic of the window flushes, per day.
#[derive(Debug, Clone, Default)]
pub(crate) struct WindowFlushes {
    pub writes: f64,
    pub wru: f64,
    /// Reads of the window's items back (per-shard-item design only).
    pub rru: f64,
}

/// Window flushes on the final invocation: as built ([`WindowDesign::PerShardItem`])
/// one item per shard per window, then a read of every shard's item; the
/// first design wrote one UpdateItem per title x region seen by the shard
/// (`flush_concurrency` in flight). Adds the flushes' time and EMF logs to `qoe`.
pub(crate) fn flush(pm: &Params, m: &Measured, s: &Stream, qoe: &mut LambdaUse) -> WindowFlushes {
    let (e_day, shards) = (s.events_per_day, s.shards);
    let lat = pm.ddb_latency_ms;
    let groups = pm.titles * pm.regions;
    let windows_per_day = 86_400.0 / pm.qoe.tumbling_s;
    let mut window_writes = 0.0;
    let mut window_wru = 0.0;
    let mut window_rru = 0.0;
    for (i, r) in pm.regimes().into_iter().enumerate() {
        let events_per_shard_window = e_day / 86_400.0 * r.factor / shards * pm.qoe.tumbling_s;
        let g = expected_distinct(events_per_shard_window, groups) * m.window_group_skew.min(1.0);
        let share = r.hours / 24.0;
        let shard_windows = shards * windows_per_day * share;
        let flush_ms = match pm.window_design {
            WindowDesign::PerGroup => {
                let writes = shard_windows * g;
                window_writes += writes;
                // The group's item lists the shards that flushed into it, so
                // its size (and WRU) grows with each one.
                let shards_in_group = shards * (1.0 - (-events_per_shard_window / groups).exp());
                window_wru += writes
                    * window_item_wru(
                        pm.window_item_base_bytes,
                        pm.shard_id_bytes,
                        shards_in_group,
                    );
                (g / pm.flush_concurrency).ceil() * lat
            }
            WindowDesign::PerShardItem => {
                let item = pm.window_item_base_bytes + g * pm.window_group_bytes;
                let writes = shard_windows * m.window_writes_per_shard_window.max(1.0);
                window_writes += writes;
                window_wru += writes * units(item / m.window_writes_per_shard_window.max(1.0), KB);
                // Every flush reads the window's items of all shards back:
                // one strongly consistent Query per bucket, RRU per 4 KB of
                // items read, each query rounded up (half a unit on average).
                let read_bytes = shards * item;
                let rru_per_flush = units(read_bytes, 4.0 * KB) + WINDOW_BUCKETS / 2.0;
                window_rru += shard_windows * rru_per_flush;
                // A put, then the bucket queries in parallel, plus moving the
                // bytes (assumed 100 MB/s into the function).
                2.0 * lat + read_bytes / 100e6 * 1000.0
            }
        };
        qoe.gb_s_per_day += shard_windows * flush_ms / 1000.0 * pm.qoe.memory_mb / 1024.0;
        qoe.log_bytes_per_day += shard_windows * pm.regions * EMF_LINE_BYTES;
        if i == 0 {
            qoe.busy_concurrency_peak += shards / pm.qoe.tumbling_s * flush_ms / 1000.0;
        }
    }
    WindowFlushes {
        writes: window_writes,
        wru: window_wru,
        rru: window_rru,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_groups_and_window_item_growth() {
        assert!((expected_distinct(1e9, 100.0) - 100.0).abs() < 1e-6);
        assert!((expected_distinct(1.0, 1e9) - 1.0).abs() < 1e-6);
        assert_eq!(expected_distinct(0.0, 10.0), 0.0);
        // 250 B + 21 B per shard id: one WRU up to 36 shards, two from 37.
        assert_eq!(window_item_wru(250.0, 21.0, 1.0), 1.0);
        assert_eq!(window_item_wru(250.0, 21.0, 36.0), 1.0);
        assert!((window_item_wru(250.0, 21.0, 40.0) - (36.0 + 2.0 * 4.0) / 40.0).abs() < 1e-12);
    }
}

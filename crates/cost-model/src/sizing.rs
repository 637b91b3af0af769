//! Service limits, and the stream one packing gives: record size, peak rate,
//! shards. Every service's lines start from [`Stream`].

use crate::billing::MIB;
use crate::params::Params;

/// Lambda gives one full vCPU at 1 769 MB; below that CPU scales with memory.
pub const FULL_VCPU_MB: f64 = 1769.0;
/// Lambda's invocation payload limit (synchronous, event source mappings).
pub const LAMBDA_PAYLOAD_BYTES: f64 = 6.0 * 1000.0 * 1000.0;
/// Per-shard write limits of Kinesis (provisioned, and on-demand per shard).
pub const SHARD_BYTES_PER_S: f64 = MIB;
pub const SHARD_RECORDS_PER_S: f64 = 1000.0;
/// Default write limits of one on-demand stream (raisable on request).
pub const ON_DEMAND_DEFAULT_BYTES_PER_S: f64 = 200.0 * MIB;
pub const ON_DEMAND_DEFAULT_RECORDS_PER_S: f64 = 200_000.0;
/// Default account concurrency of Lambda (raisable).
pub const ACCOUNT_CONCURRENCY: f64 = 1000.0;

/// Shards a provisioned stream needs for a write rate (bytes/s and records/s).
pub fn shards_for(bytes_per_s: f64, records_per_s: f64) -> f64 {
    (bytes_per_s / SHARD_BYTES_PER_S)
        .ceil()
        .max((records_per_s / SHARD_RECORDS_PER_S).ceil())
        .max(1.0)
}

/// The Kinesis stream at one packing (one event per record, or packed).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stream {
    pub packed: bool,
    /// Events per record.
    pub k: f64,
    pub events_per_day: f64,
    pub record_bytes: f64,
    pub records_per_day: f64,
    pub peak_records_per_s: f64,
    pub peak_bytes_per_s: f64,
    /// Provisioned shards, sized for the peak.
    pub shards: f64,
    /// One record as a Lambda receives it: base64 data plus the JSON around it.
    pub record_json_bytes: f64,
}

impl Stream {
    pub fn new(pm: &Params, packed: bool) -> Self {
        let k = if packed {
            pm.packed_events_per_record()
        } else {
            1.0
        };
        let e_day = pm.events_per_day;
        // Packed events are newline-separated: k - 1 separators.
        let rec_bytes = k * pm.event_bytes + (k - 1.0) + pm.partition_key_bytes;
        let r_day = e_day / k;
        let peak_rps = r_day / 86_400.0 * pm.peak_factor;
        let peak_bps = peak_rps * rec_bytes;
        let shards = (shards_for(peak_bps, peak_rps) * pm.shard_headroom).ceil();
        Stream {
            packed,
            k,
            events_per_day: e_day,
            record_bytes: rec_bytes,
            records_per_day: r_day,
            peak_records_per_s: peak_rps,
            peak_bytes_per_s: peak_bps,
            shards,
            record_json_bytes: rec_bytes * 4.0 / 3.0 + pm.lambda_record_overhead_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{estimate, Measured};

    #[test]
    fn shard_count_at_peak() {
        // 2 B/day of 400 B events, one per record: 115 741 records/s at 5x peak.
        let pm = Params::default();
        let e = estimate(&pm, &Measured::default(), false);
        assert!((e.peak_records_per_s - 115_740.74).abs() < 0.1);
        assert_eq!(e.shards, 116.0, "the 1 000 records/s limit binds");
        // Packed 12 per record: 9 645 records/s of ~4.8 KB = 44.4 MiB/s -> bytes bind.
        let p = estimate(&pm, &Measured::default(), true);
        assert_eq!(p.events_per_record, 12.0);
        assert_eq!(p.shards, 45.0);
        assert_eq!(shards_for(0.0, 0.0), 1.0);
        assert_eq!(shards_for(MIB, 1000.0), 1.0);
        assert_eq!(shards_for(MIB + 1.0, 10.0), 2.0);
    }
}

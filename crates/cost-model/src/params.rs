//! The workload, the deployed topology, and the assumptions no benchmark can
//! give: everything `make cost` takes from its flags.

use crate::billing::DAYS_PER_MONTH;

/// Where qoe-alerts puts a shard's partial windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowDesign {
    /// The first design: one UpdateItem per title x region per shard per window.
    PerGroup,
    /// As built: one item per shard per window holding all its partials (WRU
    /// by size); every flush reads the window's items back (RRU by size).
    PerShardItem,
}

/// One stream consumer as deployed (infra/pipeline.json `consumers`).
#[derive(Debug, Clone, Copy)]
pub struct Consumer {
    pub batch_size: f64,
    pub batching_window_s: f64,
    pub parallelization: f64,
    pub memory_mb: f64,
    /// Tumbling window (qoe-alerts), seconds; 0 = none.
    pub tumbling_s: f64,
}

/// Workload, topology and the assumptions that no benchmark can give.
#[derive(Debug, Clone)]
pub struct Params {
    pub events_per_day: f64,
    pub event_bytes: f64,
    pub peak_factor: f64,
    pub peak_hours: f64,
    pub viewers: f64,
    /// Producer packing: records up to this many bytes, one viewer each.
    pub pack_bytes: f64,
    /// Events per packed record; `None` = as many as fit in `pack_bytes`.
    pub events_per_record: Option<f64>,
    pub partition_key_bytes: f64,
    /// Events a watching viewer sends per minute (heartbeat every 10 s = 6).
    pub events_per_viewer_minute: f64,
    pub malformed_share: f64,
    /// Share of events sent to the SRE queue (quality events and their
    /// denominators, `playback_domain::sre::feeds_sre`); `None` = measured.
    pub sre_share: Option<f64>,
    pub titles: f64,
    pub regions: f64,
    pub shard_headroom: f64,
    pub retention_hours: f64,
    pub efo_consumers: f64,
    pub qoe: Consumer,
    pub features: Consumer,
    pub transform_memory_mb: f64,
    pub transform_buffer_mb: f64,
    pub sre_memory_mb: f64,
    /// Messages per sre-buffer invocation (pipeline.json sre_buffer.batch_size).
    pub sre_batch: f64,
    /// Bytes of a packed SRE-queue body (producers fill 64 KiB, one SQS billing chunk).
    pub sre_body_bytes: f64,
    pub sre_cpu_ns_per_event: f64,
    /// Slice-minutes (region x platform x version) one batch touches: one
    /// UpdateItem and two Queries each.
    pub sre_slices_per_batch: f64,
    pub firehose_buffer_mb: f64,
    pub firehose_buffer_s: f64,
    pub ddb_latency_ms: f64,
    pub sqs_latency_ms: f64,
    pub invoke_overhead_ms: f64,
    /// Lambda arm64 (Graviton) CPU time relative to the x86 machine the bench ran on.
    pub arm64_cpu_factor: f64,
    pub write_concurrency: f64,
    /// qoe-alerts window flushes in flight (FLUSH_CONCURRENCY).
    pub flush_concurrency: f64,
    /// How qoe-alerts stores a shard's window partials (see [`WindowDesign`]).
    pub window_design: WindowDesign,
    /// Bytes per title x region partial inside a per-shard item.
    pub window_group_bytes: f64,
    pub window_item_base_bytes: f64,
    pub shard_id_bytes: f64,
    pub alerts_per_day: f64,
    pub lookback_days: f64,
    pub grace_hours: f64,
    pub ledger_days: f64,
    pub lake_age_days: f64,
    pub adhoc_queries_per_day: f64,
    pub adhoc_days_per_query: f64,
    pub adhoc_row_fraction: f64,
    /// Event days one canonical MERGE's target scan covers (today, yesterday,
    /// and the days of late events in the window).
    pub canonical_days_touched: f64,
    /// Compressed bytes per row of a timestamp column (the watermark scan).
    pub timestamp_bytes_per_row: f64,
    /// The hot tier's questions asked a day (dashboards, ad hoc).
    pub hot_queries_per_day: f64,
    /// Bytes per event row the same question reads on the canonical table
    /// (~3 columns).
    pub hot_question_bytes_per_row: f64,
    pub lambda_record_overhead_bytes: f64,
    pub alarms: f64,
    pub dashboards: f64,
    pub custom_metrics: f64,
    pub log_retention_days: f64,
    pub kms_keys: f64,
    /// The ingest edge: host and assumptions (crate::edge).
    pub edge: crate::edge::Edge,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            events_per_day: 2e9,
            event_bytes: 400.0,
            peak_factor: 5.0,
            peak_hours: 2.0,
            viewers: 150e6,
            pack_bytes: 5000.0,
            events_per_record: None,
            partition_key_bytes: 7.0,
            events_per_viewer_minute: 6.0,
            malformed_share: 0.01,
            sre_share: None,
            titles: 10_000.0,
            regions: 5.0,
            shard_headroom: 1.0,
            retention_hours: 168.0,
            efo_consumers: 2.0,
            qoe: Consumer {
                batch_size: 1000.0,
                batching_window_s: 1.0,
                parallelization: 1.0,
                memory_mb: 512.0,
                tumbling_s: 10.0,
            },
            features: Consumer {
                batch_size: 500.0,
                batching_window_s: 5.0,
                parallelization: 2.0,
                memory_mb: 512.0,
                tumbling_s: 0.0,
            },
            transform_memory_mb: 256.0,
            transform_buffer_mb: 1.0,
            sre_memory_mb: 256.0,
            sre_batch: playback_topology::Topology::deployed()
                .sre_buffer
                .batch_size as f64,
            sre_body_bytes: 65_536.0,
            sre_cpu_ns_per_event: 1500.0,
            sre_slices_per_batch: 300.0,
            firehose_buffer_mb: 64.0,
            firehose_buffer_s: 300.0,
            ddb_latency_ms: 6.0,
            sqs_latency_ms: 10.0,
            invoke_overhead_ms: 1.0,
            arm64_cpu_factor: 1.2,
            write_concurrency: 16.0,
            flush_concurrency: 32.0,
            window_design: WindowDesign::PerShardItem,
            window_group_bytes: 36.0,
            window_item_base_bytes: 250.0,
            shard_id_bytes: 21.0,
            alerts_per_day: 100.0,
            lookback_days: 1.0,
            grace_hours: 1.0,
            ledger_days: 35.0,
            lake_age_days: 365.0,
            adhoc_queries_per_day: 6.0,
            adhoc_days_per_query: 1.0,
            adhoc_row_fraction: 0.5,
            canonical_days_touched: 3.0,
            timestamp_bytes_per_row: 4.0,
            hot_queries_per_day: 200.0,
            hot_question_bytes_per_row: 12.0,
            lambda_record_overhead_bytes: 450.0,
            alarms: 19.0,
            dashboards: 1.0,
            custom_metrics: 30.0,
            log_retention_days: 30.0,
            kms_keys: 1.0,
            edge: crate::edge::Edge::default(),
        }
    }
}

/// A time-of-day regime: `hours` per day at `factor` x the mean rate.
#[derive(Debug, Clone, Copy)]
pub struct Regime {
    pub hours: f64,
    pub factor: f64,
}

impl Params {
    /// The peak first (callers read index 0 as the peak), then the rest of the
    /// day at whatever rate keeps the daily total at `events_per_day`.
    pub fn regimes(&self) -> Vec<Regime> {
        let off_hours = 24.0 - self.peak_hours;
        let off = if off_hours > 0.0 {
            ((24.0 - self.peak_factor * self.peak_hours) / off_hours).max(0.0)
        } else {
            0.0
        };
        vec![
            Regime {
                hours: self.peak_hours,
                factor: self.peak_factor,
            },
            Regime {
                hours: off_hours,
                factor: off,
            },
        ]
    }

    pub fn packed_events_per_record(&self) -> f64 {
        self.events_per_record
            .unwrap_or_else(|| ((self.pack_bytes + 1.0) / (self.event_bytes + 1.0)).floor())
            .max(1.0)
    }

    pub fn events_per_month(&self) -> f64 {
        self.events_per_day * DAYS_PER_MONTH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regimes_keep_the_daily_total() {
        let pm = Params::default();
        let total: f64 = pm.regimes().iter().map(|r| r.hours * r.factor).sum();
        assert!((total - 24.0).abs() < 1e-9);
    }
}

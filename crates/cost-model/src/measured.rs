//! The figures `make bench` measured (bench/measured.json, `cost_inputs`), with
//! defaults for anything it could not measure.

use serde::{Deserialize, Serialize};

/// Figures measured by `make bench` (bench/measured.json, `cost_inputs`):
/// the bench writes this type and the cost model reads it. A missing field
/// keeps its default, and is reported as not measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Measured {
    pub measured_on: String,
    /// CPU nanoseconds per event, end to end (what a warm Lambda pays), one event per record.
    pub qoe_cpu_ns_per_event: f64,
    pub features_cpu_ns_per_event: f64,
    /// The same with producer-packed records (~5 KB, one viewer each).
    pub qoe_cpu_ns_per_event_packed: f64,
    pub features_cpu_ns_per_event_packed: f64,
    /// firehose-transform, end to end (one event per Firehose record).
    pub transform_cpu_ns_per_event: f64,
    /// Share of events sent to the SRE queue.
    pub sre_share: f64,
    /// Feature saves per distinct viewer per batch (<= 1 is the design).
    pub feature_writes_per_viewer_batch: f64,
    /// Window-store writes per shard per window (1, or more if a shard's
    /// groups outgrow one item).
    #[serde(default = "one")]
    pub window_writes_per_shard_window: f64,
    /// Distinct title x region groups per shard-window measured on the load
    /// generator's Zipf-like catalogue, over the even-spread bound
    /// [`crate::expected_distinct`] (1.0 = no skew).
    pub window_group_skew: f64,
    /// DynamoDB item size of a stored features item, bytes.
    pub feature_item_bytes: f64,
    /// Events per record the load generator's per-viewer packing reached in the demo hour.
    pub demo_events_per_record: f64,
    /// Parquet (snappy) bytes per lake row: all columns / the royalty close's / event_id.
    pub parquet_bytes_per_row: f64,
    pub royalty_bytes_per_row: f64,
    pub event_id_bytes_per_row: f64,
    /// Reported, not priced: the benchmark batch's mean event (JSON line) bytes
    /// (the workload's `--event-bytes` is a flag) and the Parquet encoder's rows/s.
    pub event_bytes: f64,
    pub parquet_rows_per_s: f64,
    /// The collector's CPU per request, fitted as a fixed part plus a part
    /// per event (crates/bench/src/edge.rs).
    pub collector_cpu_ns_per_request: f64,
    pub collector_cpu_ns_per_event: f64,
}

impl Default for Measured {
    /// Placeholders used only without bench/measured.json (printed as such).
    fn default() -> Self {
        Measured {
            measured_on: "not measured (defaults)".into(),
            qoe_cpu_ns_per_event: 1500.0,
            features_cpu_ns_per_event: 3000.0,
            qoe_cpu_ns_per_event_packed: 1000.0,
            features_cpu_ns_per_event_packed: 2000.0,
            transform_cpu_ns_per_event: 2000.0,
            sre_share: 0.95,
            feature_writes_per_viewer_batch: 1.0,
            window_writes_per_shard_window: 1.0,
            window_group_skew: 1.0,
            feature_item_bytes: 1500.0,
            demo_events_per_record: 0.0,
            parquet_bytes_per_row: 60.0,
            royalty_bytes_per_row: 40.0,
            event_id_bytes_per_row: 15.0,
            event_bytes: 0.0,
            parquet_rows_per_s: 0.0,
            collector_cpu_ns_per_request: 40_000.0,
            collector_cpu_ns_per_event: 10_000.0,
        }
    }
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
struct MeasuredFile {
    cost_inputs: Measured,
}

/// Reads `cost_inputs` of bench/measured.json.
pub fn read_measured(text: &str) -> Result<Measured, serde_json::Error> {
    let m: MeasuredFile = serde_json::from_str(text)?;
    Ok(m.cost_inputs.with_defaults())
}

impl Measured {
    /// A zero means the bench could not measure it: the default instead.
    pub fn with_defaults(mut self) -> Self {
        let m = &mut self;
        let d = Measured::default();
        let fix = |v: &mut f64, dv: f64| {
            if !(v.is_finite() && *v > 0.0) {
                *v = dv;
            }
        };
        fix(&mut m.qoe_cpu_ns_per_event, d.qoe_cpu_ns_per_event);
        fix(
            &mut m.features_cpu_ns_per_event,
            d.features_cpu_ns_per_event,
        );
        fix(
            &mut m.qoe_cpu_ns_per_event_packed,
            d.qoe_cpu_ns_per_event_packed,
        );
        fix(
            &mut m.features_cpu_ns_per_event_packed,
            d.features_cpu_ns_per_event_packed,
        );
        fix(
            &mut m.transform_cpu_ns_per_event,
            d.transform_cpu_ns_per_event,
        );
        fix(&mut m.sre_share, d.sre_share);
        fix(
            &mut m.feature_writes_per_viewer_batch,
            d.feature_writes_per_viewer_batch,
        );
        fix(
            &mut m.window_writes_per_shard_window,
            d.window_writes_per_shard_window,
        );
        fix(&mut m.window_group_skew, d.window_group_skew);
        fix(&mut m.feature_item_bytes, d.feature_item_bytes);
        fix(&mut m.parquet_bytes_per_row, d.parquet_bytes_per_row);
        fix(&mut m.royalty_bytes_per_row, d.royalty_bytes_per_row);
        fix(&mut m.event_id_bytes_per_row, d.event_id_bytes_per_row);
        fix(
            &mut m.collector_cpu_ns_per_request,
            d.collector_cpu_ns_per_request,
        );
        fix(
            &mut m.collector_cpu_ns_per_event,
            d.collector_cpu_ns_per_event,
        );
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_measured_json_and_falls_back_on_zeros() {
        let m = read_measured(r#"{"cost_inputs": {"qoe_cpu_ns_per_event": 700.0, "parquet_bytes_per_row": 0.0}, "other": 1}"#).unwrap();
        assert_eq!(m.qoe_cpu_ns_per_event, 700.0);
        assert_eq!(
            m.parquet_bytes_per_row,
            Measured::default().parquet_bytes_per_row
        );
    }
}

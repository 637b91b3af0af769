//! What one run measured: the schema of bench/measured.json, which the cost
//! model reads and `bench --render-only` renders again.

use serde::Serialize;

use crate::artifacts::{InitInfo, ZipInfo};
use crate::handlers::{Measurement, Writes};
use crate::lake_landing::LakeResult;
use crate::machine::Machine;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct InputInfo {
    pub name: String,
    pub scenario: String,
    pub file: String,
    pub file_bytes: usize,
    pub records: usize,
    pub events: usize,
    pub malformed: usize,
    pub payload_bytes: usize,
    pub cli: String,
}

/// The figures the cost model reads (crates/cost-model, `--measured`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, Default)]
pub struct CostInputs {
    pub measured_on: String,
    /// CPU nanoseconds per event, end to end (what a warm Lambda pays), one event per record.
    pub qoe_cpu_ns_per_event: f64,
    pub features_cpu_ns_per_event: f64,
    /// The same with producer-packed records (~5 KB, one viewer each).
    pub qoe_cpu_ns_per_event_packed: f64,
    pub features_cpu_ns_per_event_packed: f64,
    /// firehose-transform, CPU ns per event end to end (one event per Firehose record).
    pub transform_cpu_ns_per_event: f64,
    /// Share of events sent to the SRE queue (quality events and their denominators), demo hour.
    pub sre_share: f64,
    /// Feature saves per distinct viewer per batch (<= 1 is the design).
    pub feature_writes_per_viewer_batch: f64,
    /// Window-store writes per shard per window (one item holds all groups).
    #[serde(default)]
    pub window_writes_per_shard_window: f64,
    /// Distinct title x region groups per window over the even-spread bound.
    pub window_group_skew: f64,
    /// DynamoDB item size of a stored features item, bytes.
    pub feature_item_bytes: f64,
    /// Average event (JSON line) size of the benchmark batch, bytes.
    pub event_bytes: f64,
    /// Events per record the load generator's per-viewer packing reached in the demo hour.
    pub demo_events_per_record: f64,
    /// Parquet (snappy) bytes per lake row, all columns / the royalty close's 8 columns / event_id.
    pub parquet_bytes_per_row: f64,
    pub royalty_bytes_per_row: f64,
    pub event_id_bytes_per_row: f64,
    pub parquet_rows_per_s: f64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Results {
    pub machine: Machine,
    pub command: String,
    pub runs: usize,
    pub warmup: usize,
    pub inputs: Vec<InputInfo>,
    pub handlers: Vec<Measurement>,
    pub writes: Vec<(String, Writes)>,
    /// bench/python_floor.py on the same batch (median events/s), if python3 ran.
    pub python_floor_events_per_s: Option<f64>,
    pub lake: Option<LakeResult>,
    pub lake_error: Option<String>,
    pub zips: Vec<ZipInfo>,
    pub init: Vec<InitInfo>,
    pub init_errors: Vec<String>,
    pub cost_inputs: CostInputs,
}

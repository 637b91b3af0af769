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

/// The figures the cost model reads (`cost_inputs`): its own type, so the
/// bench and `make cost` cannot drift apart.
pub type CostInputs = cost_model::Measured;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Results {
    pub machine: Machine,
    pub command: String,
    pub runs: usize,
    pub warmup: usize,
    pub inputs: Vec<InputInfo>,
    pub handlers: Vec<Measurement>,
    /// The collector per request (`crate::edge`); units are requests.
    #[serde(default)]
    pub edge: Vec<Measurement>,
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

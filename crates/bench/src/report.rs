//! Everything one `bench` run measured, as bench/measured.json (read by the
//! cost model) and as bench/RESULTS.md.
//!
//! - `results`: the measured.json schema ([`Results`], [`CostInputs`]);
//! - `markdown`: RESULTS.md ([`render`]) with its header; the other sections
//!   in `throughput` (handlers, writes per batch), `landing` (Parquet),
//!   `release` (zips, init time), `cost` and `latency` (the hand-kept one);
//!   `numbers` formats their figures;
//! - `console`: the short summary on stdout ([`print_summary`]).

mod console;
mod cost;
mod landing;
mod latency;
mod markdown;
mod numbers;
mod release;
mod results;
mod throughput;

pub use console::print_summary;
pub use cost::{cost_measured, cost_section};
pub use latency::{preserved_latency, DEFAULT_LATENCY, LATENCY_BEGIN, LATENCY_END};
pub use markdown::render;
pub use results::{CostInputs, InputInfo, Results};

use crate::handlers::Measurement;

/// Target of the issue: decode + validate + aggregate, per core.
pub const TARGET_EVENTS_PER_S: f64 = 2_000_000.0;
/// The Python (Powertools BatchProcessor + pydantic) handler, as reported in the issue.
pub const PYTHON_EVENTS_PER_S: f64 = 200_000.0;
/// Zip size target per function.
pub const ZIP_TARGET_BYTES: u64 = 5 * 1000 * 1000;

pub fn find<'a>(r: &'a Results, name: &str) -> Option<&'a Measurement> {
    find_in(&r.handlers, name)
}

pub fn find_in<'a>(ms: &'a [Measurement], name: &str) -> Option<&'a Measurement> {
    ms.iter().find(|m| m.name == name)
}

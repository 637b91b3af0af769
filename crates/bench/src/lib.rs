//! Benchmarks of the playback pipeline (`make bench`):
//!
//! - [`handlers`]: qoe-alerts and session-features throughput on a 10 000-record
//!   Kinesis batch made by the load generator (end to end and core), and write
//!   calls per batch counted by the in-memory twins ([`writes`]);
//! - [`lake_landing`]: Parquet landing of one simulated hour (rows/s, bytes/row);
//! - [`artifacts`]: Lambda zip sizes and binary init time;
//! - [`report`]: bench/RESULTS.md and bench/measured.json (the cost model's input).
//!
//! Criterion benches of the same hot loops: `cargo bench -p bench`.

pub mod artifacts;
pub mod edge;
pub mod handlers;
pub mod inputs;
pub mod lake_landing;
pub mod machine;
pub mod report;
pub mod timing;
pub mod writes;

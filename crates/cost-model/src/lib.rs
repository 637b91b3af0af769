//! The playback pipeline's monthly AWS bill at list price (us-east-1), line by
//! line, for one event per Kinesis record and for producer-packed records.
//!
//! Workload parameters come from the command line (defaults: 2 billion
//! events/day of 400 bytes, 5x peak for 2 hours, 150 M viewers); the per-event
//! CPU cost, write amplification and Parquet bytes per row come from
//! bench/measured.json (`make bench`). Topology (batch sizes, windows, memory)
//! mirrors infra/pipeline.json. Prices: [`prices`]. Every formula is in plain
//! arithmetic, so a reviewer can check a line by hand:
//!
//! - inputs: `params` (workload, topology, assumptions), `measured` (bench
//!   figures), `billing` (units and rounding);
//! - `sizing`: service limits, and the stream at peak (records, shards);
//! - one module per service: `kinesis`, `lambda` (with `windows`, the
//!   qoe-alerts window store), `dynamodb`, `firehose`, `s3_athena`, `canonical`
//!   (the canonical Iceberg table's job and the hot tier),
//!   `sqs_cloudwatch`;
//! - `estimate`: the lines in the printed order, and their totals.
//!
//! Everything public is re-exported here, so callers use `cost_model::*`.

pub mod prices;

mod billing;
mod canonical;
mod dynamodb;
pub mod edge;
mod estimate;
mod firehose;
mod kinesis;
mod lambda;
mod long_horizon;
mod measured;
mod params;
mod s3_athena;
mod sizing;
mod sqs_cloudwatch;
mod training;
mod windows;

pub use billing::{round_up, units, DAYS_PER_MONTH, GB, HOURS_PER_MONTH, KB, MIB, TB};
pub use estimate::{estimate, per_billion, Estimate, Line, Mode};
pub use firehose::firehose_ingest_usd;
pub use lambda::{LambdaUse, EMF_LINE_BYTES, PLATFORM_LOG_BYTES};
pub use measured::{read_measured, Measured};
pub use params::{Consumer, Params, Regime, WindowDesign};
pub use sizing::{
    shards_for, ACCOUNT_CONCURRENCY, FULL_VCPU_MB, LAMBDA_PAYLOAD_BYTES,
    ON_DEMAND_DEFAULT_BYTES_PER_S, ON_DEMAND_DEFAULT_RECORDS_PER_S, SHARD_BYTES_PER_S,
    SHARD_RECORDS_PER_S,
};
pub use windows::{expected_distinct, window_item_wru};

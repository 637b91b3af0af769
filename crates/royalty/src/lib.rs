//! royalty: the exactly-once daily royalty close over the raw lake.
//!
//! - [`params`]: a close's fixed scope (cutoff, partition range, ledger range).
//! - [`sql`]: the SQL of infra/athena/royalty_*.sql (embedded) and its parameters.
//! - [`order`]: which copy of a duplicated event wins (the SQL's ORDER BY, in Rust).
//! - [`report`]: report rows, minutes, CSV and Parquet encodings.
//! - [`engine`]: the [`QueryEngine`] seam; [`athena`] and [`local`] implement it.
//! - [`store`]: the S3 objects of a close (ledger partitions, reports).
//! - [`close`]: the close itself and the catch-up of missed days.
//!
//! crates/royalty/README.md describes the design.

pub mod athena;
pub mod close;
pub mod engine;
pub mod local;
pub mod order;
pub mod params;
pub mod report;
pub mod sql;
pub mod store;

pub use athena::AthenaEngine;
pub use close::{catch_up, close_day, CloseConfig, CloseOutcome};
pub use engine::{QueryEngine, Rows};
pub use local::DuckDbEngine;
pub use params::CloseParams;
pub use report::{Report, ReportRow};
pub use store::Store;

/// Everything that can go wrong closing a royalty day.
#[derive(Debug, thiserror::Error)]
pub enum RoyaltyError {
    /// A close parameter (date, grace, lookback) is malformed or out of range.
    #[error("bad parameter: {0}")]
    Param(String),
    /// A SQL template placeholder is missing, unknown or given an unsafe value.
    #[error("SQL template: {0}")]
    Template(String),
    /// The engine could not run (no python, no Athena client, bad answer).
    #[error("query engine: {0}")]
    Engine(String),
    /// The engine ran the query and it failed.
    #[error("query failed: {0}")]
    Query(String),
    /// An S3 call of the close's store (the lake's S3 store; names the key).
    #[error("s3: {0}")]
    S3(#[from] lake::LakeError),
    /// Closes must run in day order (see README: ledger and re-runs).
    #[error("close order: {0}")]
    Order(String),
    /// A query result does not have the report's shape.
    #[error("report: {0}")]
    Report(String),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

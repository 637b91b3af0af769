//! backfill: replays the raw lake (Parquet `LakeRow`s) through the same domain
//! code the stream consumers run, so training features equal serving features.
//!
//! - [`replay`]: lake rows back into validated events at their stream
//!   positions, in the order the stream delivered them.
//! - [`features`]: per-viewer features folded with
//!   `playback_domain::features::fold_features`, in memory or into any
//!   `FeatureStore` (the DynamoDB adapter for a real backfill).
//! - [`windows`]: per title x region QoE windows by arrival time with
//!   `ShardWindow`, combined across shards and judged by the `AlertRule`.
//! - [`source`]: reading lake Parquet from a local directory or S3.

pub mod features;
pub mod replay;
pub mod source;
pub mod windows;

pub use features::{fold_viewers, write_features, StoreReport};
pub use replay::{rows_to_events, ReplayEvent};
pub use windows::{recompute_windows, WindowRow};

/// Everything the backfill library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// A lake row does not parse back into a valid event (corrupt lake data).
    #[error("lake row {shard}/{seq}/{sub} is not a valid event: {reason}")]
    InvalidRow {
        shard: String,
        seq: String,
        sub: u32,
        reason: String,
    },
    /// A lake row's ingest columns are unusable (no shard, non-decimal sequence, bad time).
    #[error("lake row {shard}/{seq}/{sub}: {what}")]
    BadIngest {
        shard: String,
        seq: String,
        sub: u32,
        what: String,
    },
    #[error("lake: {0}")]
    Lake(#[from] lake::LakeError),
    #[error("feature store")]
    Store(#[from] playback_domain::ports::PortError),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Usage(String),
}

impl BackfillError {
    pub(crate) fn io(path: impl std::fmt::Display, e: impl std::fmt::Display) -> Self {
        BackfillError::Io {
            path: path.to_string(),
            message: e.to_string(),
        }
    }
}

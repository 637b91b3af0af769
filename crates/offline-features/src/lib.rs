//! offline-features: the batch half of the recommender's features.
//!
//! - [`runs`]: a long-horizon run's rows (the output of
//!   infra/athena/features/long_horizon.sql as Parquet) and its manifest
//!   (when it was published); the run history a training join reads.
//! - [`publish`]: a run into the online store at a write budget.
//! - [`training`]: point-in-time training rows as day partitions of Parquet,
//!   overwritten whole and byte for byte on a re-run.
//! - [`slices`]: the same rows built in slices (a day of arrivals x a bucket
//!   of viewers) carrying their state, as the AWS build runs them.

pub mod publish;
pub mod runs;
pub mod slices;
pub mod training;

#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("parquet")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("run file: column {column}: {what}")]
    Column { column: String, what: String },
    #[error("online store")]
    Store(#[from] playback_domain::ports::PortError),
    #[error("lake")]
    Lake(#[from] lake::LakeError),
    #[error("backfill")]
    Backfill(#[from] backfill::BackfillError),
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: manifest")]
    Manifest {
        path: String,
        #[source]
        source: serde_json::Error,
    },
}

impl OfflineError {
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        OfflineError::Io {
            path: path.to_string(),
            source,
        }
    }
}

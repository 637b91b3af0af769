//! lake: landing playback events in the raw lake (Parquet on S3).
//!
//! - [`schema`]: the Arrow schema from events/lake-columns.json (the Glue table's source).
//! - [`parquet_io`]: `LakeRow`s to Parquet bytes and back.
//! - [`titles`]: the title catalogue (`playback.titles`) to Parquet and back.
//! - [`store`]: the small object-store seam (in-memory for tests, S3 for real).
//!
//! The local stand-in for the Firehose delivery stream that writes the lake
//! lives with the other emulated AWS behaviour, in local-pipeline
//! (`local_pipeline::firehose`): this crate depends on no function crate.

pub mod parquet_io;
pub mod schema;
pub mod store;
pub mod titles;

pub use parquet_io::{read_rows, write_rows, write_rows_with};
pub use playback_domain::lake::LakeRow;
pub use store::{MemoryStore, ObjectStore, S3Store};
pub use titles::{read_titles, titles_schema, write_titles};

/// Everything that can go wrong landing or reading lake data.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// lake-columns.json (or a file's schema) does not fit `LakeRow`.
    #[error("lake schema: {0}")]
    Schema(String),
    /// A row's value does not fit its column (bad timestamp, out of range).
    #[error("row does not fit the lake schema: {0}")]
    Conversion(String),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// The object store refused a write; the data is still buffered.
    #[error("object store put {key}: {message}")]
    Store { key: String, message: String },
}

//! Load generator for the playback-telemetry pipeline.
//!
//! * [`scenario`]: a seeded, deterministic population of viewers and sessions
//!   emitting contract events ([`scenario::Generator`]), with optional faults
//!   (rebuffering incident, bad firmware, producer retries, late events, spike).
//! * [`records`]: events to stream records (optionally packed per viewer),
//!   [`records::generate`] for a whole run in memory, [`records::RecordStream`]
//!   for a lazy one.
//! * [`manifest`]: the ground truth of every emitted line and the expected
//!   results derived from it.
//! * [`sinks`]: Kinesis (PutRecords with partial-failure retries), files
//!   (replayable JSON lines, Lambda `KinesisEvent`), SQS quality queue.
//! * [`catalogue`]: the titles (genre, kind, duration, release day) as the
//!   lake's `playback.titles` Parquet file.
//! * [`runner`] and [`cli`]: the paced `playback-loadgen` binary.

pub mod catalogue;
pub mod cli;
pub mod config;
pub mod error;
pub mod faults;
pub mod malformed;
pub mod manifest;
pub mod population;
pub mod records;
mod release;
pub mod runner;
pub mod scenario;
mod session;
pub mod sinks;
pub mod startup;

pub use config::ScenarioConfig;
pub use error::LoadgenError;
pub use faults::{BadFirmware, BadRelease, Incident, KinesisOutage, Spike};
pub use malformed::MalformedKind;
pub use manifest::{LineEntry, Manifest, Summary, TimeBasis};
pub use records::{generate, Emitted, Generated, Record, RecordStream};

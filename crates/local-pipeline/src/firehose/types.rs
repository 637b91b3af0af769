//! What goes into and comes out of the emulator.

use aws_lambda_events::event::firehose::KinesisFirehoseResponse;
use firehose_transform::FirehoseEvent;
use playback_domain::Clock;

/// The transform Lambda's handler logic (pluggable so tests can break the contract).
pub type TransformFn = fn(&FirehoseEvent, Clock) -> KinesisFirehoseResponse;

/// Which output an object belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutputKind {
    Lake,
    ProcessingFailed,
    FormatConversionFailed,
}

impl OutputKind {
    /// The `!{firehose:error-output-type}` of an error output.
    pub fn error_output_type(self) -> Option<&'static str> {
        match self {
            OutputKind::Lake => None,
            OutputKind::ProcessingFailed => Some("processing-failed"),
            OutputKind::FormatConversionFailed => Some("format-conversion-failed"),
        }
    }
}

/// An object written by a flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedFile {
    pub key: String,
    pub kind: OutputKind,
    /// Lake rows, or error documents.
    pub rows: usize,
    pub bytes: usize,
}

/// What one `put` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutReport {
    pub records: usize,
    pub firehose_records: usize,
    pub invocations: usize,
    pub rows_buffered: usize,
    pub dropped: usize,
    pub processing_failed: usize,
    pub conversion_failed: usize,
    /// A partition reached the buffer size: call `flush_due` now.
    pub flush_needed: bool,
}

/// Counters since creation (for the demo and benchmarks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirehoseStats {
    pub records_in: u64,
    pub firehose_records: u64,
    pub invocations: u64,
    pub json_bytes_in: u64,
    pub rows_landed: u64,
    pub dropped: u64,
    pub processing_failed: u64,
    pub conversion_failed: u64,
    pub files: u64,
    pub bytes_landed: u64,
    pub error_files: u64,
    pub error_bytes: u64,
    pub put_failures: u64,
}

impl FirehoseStats {
    /// Records that went to the error output.
    pub fn failed(&self) -> u64 {
        self.processing_failed + self.conversion_failed
    }
}

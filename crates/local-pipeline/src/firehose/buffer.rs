//! The emulator's buffers: one per output partition (a lake dt/hour or an
//! error output's day), flushed by size or age into one object each.

use playback_domain::lake::LakeRow;

use super::{io, FirehoseConfig, OutputKind, STREAM_VERSION};
use lake::{write_rows, LakeError};

/// One output partition: a lake (dt, hour) or an error output's (kind, day).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Target {
    pub(super) kind: OutputKind,
    pub(super) dt: String,
    /// Empty for error outputs (their prefix has the day only).
    pub(super) hour: String,
}

impl Target {
    /// The object key, as the prefixes of infra/lib/delivery.ts (lakePrefixes)
    /// expand: `<prefix>dt=!{partitionKeyFromLambda:dt}/hour=!{…:hour}/` and
    /// `<error_prefix>!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`.
    pub(super) fn key(&self, cfg: &FirehoseConfig, oldest_arrival_ms: i64) -> String {
        let name = io::object_name(&cfg.delivery_stream_name, STREAM_VERSION, oldest_arrival_ms);
        match self.kind.error_output_type() {
            None => format!(
                "{}dt={}/hour={}/{name}.parquet",
                cfg.prefix, self.dt, self.hour
            ),
            Some(kind) => format!("{}{kind}/dt={}/{name}", cfg.error_prefix, self.dt),
        }
    }
}

#[derive(Debug)]
pub(super) struct Buffer {
    pub(super) rows: Vec<LakeRow>,
    /// Error documents (JSON lines) of an error output.
    pub(super) lines: Vec<String>,
    pub(super) bytes: usize,
    pub(super) oldest_arrival_ms: i64,
    pub(super) opened_ms: i64,
    /// Kept after a failed PUT so the retry overwrites the same object: an
    /// ambiguous failure (written, unacknowledged) cannot duplicate rows.
    pub(super) key: Option<String>,
    /// The Kinesis records (shard, sequence number) with lines in this buffer.
    pub(super) sources: Vec<Source>,
}

pub(super) type Source = (String, String);

impl Buffer {
    pub(super) fn len(&self) -> usize {
        self.rows.len() + self.lines.len()
    }

    /// Due at `now_ms` by size or age; everything is due without a time (flush_all).
    pub(super) fn due(&self, now_ms: Option<i64>, cfg: &FirehoseConfig) -> bool {
        now_ms.is_none_or(|now| {
            self.bytes >= cfg.buffer_bytes || now - self.opened_ms >= cfg.buffer_interval_ms
        })
    }

    /// The object: Parquet for the lake, JSON lines for an error output.
    pub(super) fn body(&self, kind: OutputKind) -> Result<Vec<u8>, LakeError> {
        if kind == OutputKind::Lake {
            return write_rows(&self.rows);
        }
        let mut text = self.lines.join("\n");
        text.push('\n');
        Ok(text.into_bytes())
    }
}

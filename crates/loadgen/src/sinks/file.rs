//! Records to files: replayable JSON lines, and a Lambda `KinesisEvent`
//! (`cargo lambda invoke --data-file`, benchmarks).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use playback_domain::event::format_rfc3339_ms;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::LoadgenError;
use crate::records::Record;

/// One line of a records file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub partition_key: String,
    pub data_base64: String,
}

impl FileRecord {
    pub fn data(&self) -> Result<Vec<u8>, LoadgenError> {
        STANDARD
            .decode(&self.data_base64)
            .map_err(|e| LoadgenError::Config(format!("bad data_base64: {e}")))
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, LoadgenError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| LoadgenError::io(dir, e))?;
    }
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|e| LoadgenError::io(path, e))
}

/// Writes records as JSON lines `{"partition_key": ..., "data_base64": ...}`.
pub struct FileSink {
    path: PathBuf,
    w: BufWriter<File>,
}

impl FileSink {
    pub fn create(path: impl AsRef<Path>) -> Result<Self, LoadgenError> {
        let path = path.as_ref().to_path_buf();
        Ok(FileSink {
            w: create(&path)?,
            path,
        })
    }

    pub fn write(&mut self, r: &Record) -> Result<(), LoadgenError> {
        let line = FileRecord {
            partition_key: r.partition_key.clone(),
            data_base64: STANDARD.encode(&r.data),
        };
        serde_json::to_writer(&mut self.w, &line)?;
        self.w
            .write_all(b"\n")
            .map_err(|e| LoadgenError::io(&self.path, e))
    }

    pub fn finish(mut self) -> Result<(), LoadgenError> {
        self.w.flush().map_err(|e| LoadgenError::io(&self.path, e))
    }
}

/// Reads a records file back (partition key, payload), in order.
pub fn read_records_file(path: impl AsRef<Path>) -> Result<Vec<(String, Vec<u8>)>, LoadgenError> {
    let path = path.as_ref();
    let f = File::open(path).map_err(|e| LoadgenError::io(path, e))?;
    let mut out = Vec::new();
    for line in BufReader::new(f).lines() {
        let line = line.map_err(|e| LoadgenError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: FileRecord = serde_json::from_str(&line)?;
        out.push((r.partition_key.clone(), r.data()?));
    }
    Ok(out)
}

/// Adds Lambda's tumbling-window fields, for a handler that takes a
/// `KinesisTimeWindowEvent` (qoe-alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WindowMode {
    /// `isFinalInvokeForWindow: false` (state is carried, nothing flushed).
    Open,
    /// `isFinalInvokeForWindow: true` (the window flushes).
    Final,
}

/// The tumbling window the event file claims by default (pipeline.json's
/// `tumbling_window_s` of qoe-alerts: 10 s).
pub const DEFAULT_EVENT_FILE_WINDOW_MS: i64 = 10_000;
const SEQ_PREFIX: &str = "49590338271490256608559692538361571095921575989";
const ACCOUNT: &str = "123456789012";

/// The sequence number of the `i`-th record of an event file: 56 digits like
/// real ones, increasing numerically (and as strings: fixed width).
pub fn sequence_number(i: u64) -> String {
    format!("{SEQ_PREFIX}{:09}", 100_000_000 + i)
}

/// Streams a Lambda `KinesisEvent` (`{"Records": [...]}`) of every record
/// written, all from `shardId-000000000000`.
pub struct KinesisEventFile {
    path: PathBuf,
    w: BufWriter<File>,
    count: u64,
    first_ms: Option<i64>,
    stream_arn: String,
    region: String,
    window: Option<WindowMode>,
    window_ms: i64,
}

impl KinesisEventFile {
    pub fn create(
        path: impl AsRef<Path>,
        stream: &str,
        region: &str,
        window: Option<WindowMode>,
    ) -> Result<Self, LoadgenError> {
        let path = path.as_ref().to_path_buf();
        let mut w = create(&path)?;
        w.write_all(b"{\"Records\":[")
            .map_err(|e| LoadgenError::io(&path, e))?;
        Ok(KinesisEventFile {
            w,
            path,
            count: 0,
            first_ms: None,
            stream_arn: format!("arn:aws:kinesis:{region}:{ACCOUNT}:stream/{stream}"),
            region: region.to_string(),
            window,
            window_ms: DEFAULT_EVENT_FILE_WINDOW_MS,
        })
    }

    /// Length of the claimed tumbling window (with a [`WindowMode`]).
    pub fn with_window_ms(mut self, window_ms: i64) -> Self {
        self.window_ms = window_ms.max(1);
        self
    }

    pub fn write(&mut self, r: &Record) -> Result<(), LoadgenError> {
        let seq = sequence_number(self.count);
        self.first_ms.get_or_insert(r.emit_ms);
        let entry = json!({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": r.partition_key,
                "sequenceNumber": seq,
                "data": STANDARD.encode(&r.data),
                // Whole seconds: aws_lambda_events (1.2) misreads fractions
                // (".01" becomes 1 ms, ".5" 5 ms).
                "approximateArrivalTimestamp": r.emit_ms.div_euclid(1_000),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": format!("shardId-000000000000:{seq}"),
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": format!("arn:aws:iam::{ACCOUNT}:role/playback-loadgen"),
            "awsRegion": self.region,
            "eventSourceARN": self.stream_arn,
        });
        let io = |e| LoadgenError::io(&self.path, e);
        if self.count > 0 {
            self.w.write_all(b",").map_err(io)?;
        }
        self.w.write_all(b"\n").map_err(io)?;
        serde_json::to_writer(&mut self.w, &entry)?;
        self.count += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<u64, LoadgenError> {
        let mut tail = String::from("\n]");
        if let Some(mode) = self.window {
            let first = self.first_ms.unwrap_or(0);
            let start = first - first.rem_euclid(self.window_ms);
            let props = json!({
                "window": {
                    "start": format_rfc3339_ms(start),
                    "end": format_rfc3339_ms(start + self.window_ms),
                },
                "state": {},
                "shardId": "shardId-000000000000",
                "eventSourceARN": self.stream_arn,
                "isFinalInvokeForWindow": mode == WindowMode::Final,
                "isWindowTerminatedEarly": false,
            });
            for (k, v) in props.as_object().expect("object literal") {
                tail.push_str(&format!(",{}:{v}", serde_json::to_string(k)?));
            }
        }
        tail.push_str("}\n");
        self.w
            .write_all(tail.as_bytes())
            .and_then(|_| self.w.flush())
            .map_err(|e| LoadgenError::io(&self.path, e))?;
        Ok(self.count)
    }
}

//! Parquet landing: one simulated hour of the demo scenario through the local
//! Firehose (`local_pipeline::FirehoseEmulator`: de-aggregation, the firehose-transform
//! logic, format conversion, dynamic partitioning, buffering as deployed:
//! 64 MiB / 300 s) into a `MemoryStore`, then the Parquet encoder alone.

use std::collections::BTreeMap;

use lake::{LakeRow, MemoryStore};
use loadgen::Generated;
use local_pipeline::{FirehoseConfig, FirehoseEmulator, StreamRecord};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde::Serialize;
use tokio::runtime::Runtime;

use crate::timing::{time, Sample, Stats};

/// The columns `infra/athena/royalty_close.sql` reads (crates/royalty/README.md).
pub const ROYALTY_COLUMNS: [&str; 8] = [
    "event_id",
    "title_id",
    "watched_ms",
    "event_time",
    "ingest_time",
    "ingest_shard",
    "ingest_seq",
    "ingest_sub",
];

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct LandedObject {
    pub key: String,
    pub rows: usize,
    pub bytes: usize,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct LakeResult {
    pub events: usize,
    pub records: usize,
    pub events_per_record: f64,
    /// Share of (non-duplicate) lines sent to the SRE queue (`playback_domain::sre::feeds_sre`).
    pub sre_share: f64,
    /// Bytes of the record payloads (newline-delimited JSON, as sent to Kinesis).
    pub payload_bytes: usize,
    pub rows_landed: u64,
    pub lake_files: Vec<LandedObject>,
    pub error_files: u64,
    pub error_bytes: u64,
    pub failed_records: u64,
    pub parquet_bytes: u64,
    pub parquet_bytes_per_row: f64,
    /// Compressed bytes per row of each column (all landed files).
    pub column_bytes_per_row: BTreeMap<String, f64>,
    /// Sum over [`ROYALTY_COLUMNS`].
    pub royalty_bytes_per_row: f64,
    /// The emulator end to end (put + flush), rows landed per second.
    pub landing: Stats,
    /// `lake::write_rows` alone on all rows of the hour, rows per second.
    pub parquet_write: Stats,
}

/// Kinesis records as the shard poller would hand them over (one shard).
pub fn stream_records(run: &Generated) -> Vec<StreamRecord> {
    run.records
        .iter()
        .enumerate()
        .map(|(i, r)| StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: loadgen::sinks::file::sequence_number(i as u64),
            partition_key: r.partition_key.clone(),
            arrival_ms: r.emit_ms,
            data: r.data.clone(),
        })
        .collect()
}

/// Feeds the records second by second of simulated time, flushing what is due.
fn land(rt: &Runtime, records: &[StreamRecord]) -> anyhow::Result<FirehoseEmulator<MemoryStore>> {
    let mut fh = FirehoseEmulator::new(FirehoseConfig::from_topology(), MemoryStore::new());
    let mut i = 0;
    while i < records.len() {
        let second = records[i].arrival_ms.div_euclid(1000);
        let mut j = i;
        while j < records.len() && records[j].arrival_ms.div_euclid(1000) == second {
            j += 1;
        }
        let now = (second + 1) * 1000;
        let report = fh.put_at(&records[i..j], now)?;
        if report.flush_needed || fh.next_due_ms().is_some_and(|due| due <= now) {
            rt.block_on(fh.flush_due(now))?;
        }
        i = j;
    }
    rt.block_on(fh.flush_all())?;
    Ok(fh)
}

pub fn measure(rt: &Runtime, run: &Generated, runs: usize) -> anyhow::Result<LakeResult> {
    let records = stream_records(run);
    let mut samples: Vec<Sample> = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let (fh, s) = time(|| land(rt, &records));
        samples.push(s);
        last = Some(fh?);
    }
    let fh = last.expect("at least one run");
    let stats = fh.stats();
    let landing = Stats::of(&samples, stats.rows_landed);

    let objects = fh.store().objects();
    let mut lake_files = Vec::new();
    let mut rows: Vec<LakeRow> = Vec::new();
    let mut column_bytes: BTreeMap<String, u64> = BTreeMap::new();
    for (key, bytes) in &objects {
        if !key.ends_with(".parquet") {
            continue;
        }
        let file_rows = lake::read_rows(bytes)?;
        lake_files.push(LandedObject {
            key: key.clone(),
            rows: file_rows.len(),
            bytes: bytes.len(),
        });
        rows.extend(file_rows);
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes.clone()))?;
        for rg in reader.metadata().row_groups() {
            for c in rg.columns() {
                *column_bytes.entry(c.column_path().string()).or_default() +=
                    c.compressed_size() as u64;
            }
        }
    }
    let n = rows.len().max(1) as f64;
    let column_bytes_per_row: BTreeMap<String, f64> = column_bytes
        .into_iter()
        .map(|(k, v)| (k, v as f64 / n))
        .collect();
    let royalty_bytes_per_row = ROYALTY_COLUMNS
        .iter()
        .filter_map(|c| column_bytes_per_row.get(*c))
        .sum();
    let parquet_bytes: u64 = lake_files.iter().map(|f| f.bytes as u64).sum();

    let mut write_samples = Vec::new();
    for _ in 0..runs.max(1) {
        let (out, s) = time(|| lake::write_rows(&rows));
        out?;
        write_samples.push(s);
    }
    let events = run.manifest.lines.len();
    Ok(LakeResult {
        events,
        records: run.records.len(),
        events_per_record: events as f64 / run.records.len().max(1) as f64,
        sre_share: {
            let originals = run.manifest.lines.iter().filter(|l| !l.duplicate);
            let (q, all) = originals.fold((0u64, 0u64), |(q, a), l| (q + l.sre as u64, a + 1));
            q as f64 / all.max(1) as f64
        },
        payload_bytes: run.records.iter().map(|r| r.data.len()).sum(),
        rows_landed: stats.rows_landed,
        lake_files,
        error_files: stats.error_files,
        error_bytes: stats.error_bytes,
        failed_records: stats.failed(),
        parquet_bytes,
        parquet_bytes_per_row: parquet_bytes as f64 / n,
        column_bytes_per_row,
        royalty_bytes_per_row,
        landing,
        parquet_write: Stats::of(&write_samples, rows.len() as u64),
    })
}

//! `FirehoseEmulator`: the lake's Firehose delivery stream, run locally.
//!
//! The same steps as the AWS stream (infra/lib/delivery.ts), in its order:
//! JSON de-aggregation of each Kinesis record -> the firehose-transform Lambda
//! (in-process, invoked per ~1 MB chunk as the processor's BufferSizeInMBs) ->
//! the Lambda contract check -> format conversion against the lake schema ->
//! dynamic partitioning by the Lambda's dt/hour keys -> per-partition buffers
//! flushed by size or age -> one Parquet object per partition per flush.
//! Failed records go to the error output as Firehose's JSON documents.

mod buffer;
mod config;
pub(crate) mod io;
mod types;

use std::collections::{BTreeMap, HashMap, VecDeque};

use firehose_transform::{FirehoseEvent, FirehoseRecord};
use playback_domain::Clock;

use buffer::{Buffer, Source, Target};
pub use config::{FirehoseConfig, DYNAMIC_PARTITIONING_MIN_BUFFER_MB};
pub use types::{FirehoseStats, LandedFile, OutputKind, PutReport, TransformFn};

// The records the shard reader hands over (one type for every stream reader).
pub use crate::esm::StreamRecord;

use lake::{LakeError, ObjectStore};

/// Version of the delivery stream in object names (a fresh stream is 1).
const STREAM_VERSION: u32 = 1;

pub struct FirehoseEmulator<S: ObjectStore> {
    cfg: FirehoseConfig,
    store: S,
    transform: TransformFn,
    buffers: BTreeMap<Target, Buffer>,
    next_record_id: u64,
    stats: FirehoseStats,
    /// Records taken in, per shard in order, and how many buffers still hold
    /// lines of each: the source may checkpoint a record only once every
    /// earlier one is delivered (Firehose's own durability: nothing taken in
    /// is lost by a crash, it is read again).
    taken: BTreeMap<String, VecDeque<String>>,
    undelivered: HashMap<Source, u32>,
}

impl<S: ObjectStore> FirehoseEmulator<S> {
    pub fn new(cfg: FirehoseConfig, store: S) -> Self {
        Self::with_transform(cfg, store, firehose_transform::transform)
    }

    pub fn with_transform(cfg: FirehoseConfig, store: S, transform: TransformFn) -> Self {
        FirehoseEmulator {
            cfg,
            store,
            transform,
            buffers: BTreeMap::new(),
            next_record_id: 0,
            stats: FirehoseStats::default(),
            taken: BTreeMap::new(),
            undelivered: HashMap::new(),
        }
    }

    pub fn config(&self) -> &FirehoseConfig {
        &self.cfg
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn stats(&self) -> FirehoseStats {
        self.stats.clone()
    }

    /// Rows and error documents waiting for a flush.
    pub fn buffered(&self) -> usize {
        self.buffers.values().map(Buffer::len).sum()
    }

    /// When the oldest buffer reaches the buffer interval (None when empty).
    pub fn next_due_ms(&self) -> Option<i64> {
        let oldest = self.buffers.values().map(|b| b.opened_ms).min();
        oldest.map(|t| t + self.cfg.buffer_interval_ms)
    }

    /// Ingests records at the wall clock's now.
    pub fn put(&mut self, records: &[StreamRecord]) -> Result<PutReport, LakeError> {
        self.put_at(records, Clock::now().now_ms)
    }

    /// Ingests records at `now_ms` (the transform's clock and buffer ages).
    /// Only buffers (nothing is written): call `flush_due` after it, at once
    /// when `flush_needed`.
    pub fn put_at(
        &mut self,
        records: &[StreamRecord],
        now_ms: i64,
    ) -> Result<PutReport, LakeError> {
        let mut report = PutReport {
            records: records.len(),
            ..Default::default()
        };
        let mut fh = Vec::with_capacity(records.len());
        for rec in records {
            let src = (rec.shard_id.clone(), rec.sequence_number.clone());
            self.undelivered.entry(src).or_insert(0);
            (self.taken.entry(rec.shard_id.clone()).or_default())
                .push_back(rec.sequence_number.clone());
            for line in io::deaggregate(&rec.data) {
                self.next_record_id += 1;
                let id = format!("{:020}{:012}", now_ms.max(0), self.next_record_id);
                fh.push(io::firehose_record(id, line, rec));
            }
        }
        report.firehose_records = fh.len();
        for chunk in io::invocation_chunks(&fh, self.cfg.lambda_buffer_bytes) {
            self.invoke(chunk, now_ms, &mut report);
        }
        report.flush_needed = (self.buffers.values()).any(|b| b.bytes >= self.cfg.buffer_bytes);
        let s = &mut self.stats;
        s.records_in += report.records as u64;
        s.firehose_records += report.firehose_records as u64;
        s.invocations += report.invocations as u64;
        s.dropped += report.dropped as u64;
        s.processing_failed += report.processing_failed as u64;
        s.conversion_failed += report.conversion_failed as u64;
        Ok(report)
    }

    fn invoke(&mut self, chunk: &[FirehoseRecord], now_ms: i64, report: &mut PutReport) {
        let c = &self.cfg;
        let event = FirehoseEvent {
            invocation_id: Some(format!("local-{}", self.next_record_id)),
            delivery_stream_arn: Some(format!(
                "arn:aws:firehose:{}:{}:deliverystream/{}",
                c.region, c.account_id, c.delivery_stream_name
            )),
            records: chunk.to_vec(),
        };
        // A response that breaks the contract is retried like a failed
        // invocation, then the whole chunk goes to processing-failed.
        let mut attempts = 0;
        let (resp, order) = loop {
            attempts += 1;
            report.invocations += 1;
            let resp = (self.transform)(&event, Clock::at(now_ms));
            match io::check_response(chunk, &resp) {
                Ok(order) => break (resp, order),
                Err(_) if attempts <= self.cfg.lambda_retries => continue,
                Err((code, msg)) => {
                    for r in chunk {
                        self.processing_failed(r, attempts, &code, &msg, now_ms);
                    }
                    report.processing_failed += chunk.len();
                    return;
                }
            }
        };
        for (sent, &i) in chunk.iter().zip(&order) {
            let out = &resp.records[i];
            match out.result.as_deref() {
                Some("Dropped") => report.dropped += 1,
                Some("Ok") => {
                    let keys = &out.metadata.partition_keys;
                    let (Some(dt), Some(hour)) = (keys.get("dt"), keys.get("hour")) else {
                        let msg = "The record has no dt/hour partition keys in its metadata.";
                        let code = "DynamicPartitioning.MissingPartitionKeys";
                        self.processing_failed(sent, attempts, code, msg, now_ms);
                        report.processing_failed += 1;
                        continue;
                    };
                    match io::convert(&out.data) {
                        Ok(rows) => {
                            report.rows_buffered += rows.len();
                            self.stats.json_bytes_in += out.data.len() as u64;
                            let target = Target {
                                kind: OutputKind::Lake,
                                dt: dt.clone(),
                                hour: hour.clone(),
                            };
                            let b = self.buffer(target, sent, now_ms);
                            b.bytes += out.data.len();
                            b.rows.extend(rows);
                        }
                        Err((code, msg)) => {
                            let line = io::conversion_failed_line(
                                &self.cfg, sent, &out.data, &code, &msg, now_ms,
                            );
                            self.buffer_error(
                                OutputKind::FormatConversionFailed,
                                sent,
                                line,
                                now_ms,
                            );
                            report.conversion_failed += 1;
                        }
                    }
                }
                _ => {
                    let msg = "ProcessingFailed status set for record";
                    self.processing_failed(sent, 1, "Lambda.ProcessingFailedStatus", msg, now_ms);
                    report.processing_failed += 1;
                }
            }
        }
    }

    fn buffer(&mut self, target: Target, src: &FirehoseRecord, now_ms: i64) -> &mut Buffer {
        let arrival_ms = src.approximate_arrival_timestamp;
        let b = self.buffers.entry(target).or_insert_with(|| Buffer {
            rows: Vec::new(),
            lines: Vec::new(),
            bytes: 0,
            oldest_arrival_ms: arrival_ms,
            opened_ms: now_ms,
            key: None,
            sources: Vec::new(),
        });
        b.oldest_arrival_ms = b.oldest_arrival_ms.min(arrival_ms);
        if let Some(m) = &src.kinesis_record_metadata {
            let source = (
                m.shard_id.clone().unwrap_or_default(),
                m.sequence_number.clone().unwrap_or_default(),
            );
            if b.sources.last() != Some(&source) {
                if let Some(n) = self.undelivered.get_mut(&source) {
                    *n += 1;
                }
                b.sources.push(source);
            }
        }
        b
    }

    /// Per shard, the newest record taken in whose lines, and every earlier
    /// record's, are all delivered: where the source may checkpoint. Only
    /// shards that moved since the last call.
    pub fn delivered(&mut self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (shard, order) in &mut self.taken {
            let mut last = None;
            while let Some(seq) = order.front() {
                let src = (shard.clone(), seq.clone());
                if self.undelivered.get(&src).is_some_and(|&n| n > 0) {
                    break;
                }
                self.undelivered.remove(&src);
                last = order.pop_front();
            }
            if let Some(seq) = last {
                out.push((shard.clone(), seq));
            }
        }
        out
    }

    fn processing_failed(
        &mut self,
        r: &FirehoseRecord,
        attempts: u32,
        code: &str,
        msg: &str,
        now_ms: i64,
    ) {
        let line = io::processing_failed_line(&self.cfg, r, attempts, code, msg, now_ms);
        self.buffer_error(OutputKind::ProcessingFailed, r, line, now_ms);
    }

    fn buffer_error(&mut self, kind: OutputKind, src: &FirehoseRecord, line: String, now_ms: i64) {
        let target = Target {
            kind,
            dt: io::utc_day(src.approximate_arrival_timestamp),
            hour: String::new(),
        };
        let b = self.buffer(target, src, now_ms);
        b.bytes += line.len() + 1;
        b.lines.push(line);
    }

    /// Flushes every buffer that reached the buffer size or interval.
    pub async fn flush_due(&mut self, now_ms: i64) -> Result<Vec<LandedFile>, LakeError> {
        self.flush(Some(now_ms)).await
    }

    /// Flushes every buffer (shutdown, end of a test or a backfill).
    pub async fn flush_all(&mut self) -> Result<Vec<LandedFile>, LakeError> {
        self.flush(None).await
    }

    /// Writes due buffers, one object each. A buffer whose PUT fails stays
    /// buffered (retried by the next flush) and the first such error is
    /// returned once the others were tried; objects landed meanwhile are
    /// counted in `stats`.
    async fn flush(&mut self, now_ms: Option<i64>) -> Result<Vec<LandedFile>, LakeError> {
        let mut landed = Vec::new();
        let mut first_err = None;
        let due: Vec<Target> = (self.buffers.iter())
            .filter(|(_, b)| b.due(now_ms, &self.cfg))
            .map(|(t, _)| t.clone())
            .collect();
        for target in due {
            let mut buf = self.buffers.remove(&target).expect("listed above");
            let key =
                (buf.key.take()).unwrap_or_else(|| target.key(&self.cfg, buf.oldest_arrival_ms));
            let put = match buf.body(target.kind) {
                Ok(body) => {
                    let n = body.len();
                    self.store.put(&key, body).await.map(|_| n)
                }
                Err(e) => Err(e),
            };
            match put {
                Ok(bytes) => {
                    for src in &buf.sources {
                        if let Some(n) = self.undelivered.get_mut(src) {
                            *n = n.saturating_sub(1);
                        }
                    }
                    let s = &mut self.stats;
                    if target.kind == OutputKind::Lake {
                        s.rows_landed += buf.len() as u64;
                        s.files += 1;
                        s.bytes_landed += bytes as u64;
                    } else {
                        s.error_files += 1;
                        s.error_bytes += bytes as u64;
                    }
                    landed.push(LandedFile {
                        key,
                        kind: target.kind,
                        rows: buf.len(),
                        bytes,
                    });
                }
                Err(e) => {
                    self.stats.put_failures += 1;
                    buf.key = Some(key);
                    self.buffers.insert(target, buf);
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(landed), Err)
    }
}

#[cfg(test)]
mod tests;

//! PutRecords to a Kinesis data stream: batches of at most 500 records and
//! 5 MiB, partial failures retried entry by entry.

use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use aws_sdk_kinesis::Client;

use super::RetryPolicy;
use super::{classify, is_throttle_code, BatchApi, CallError, Deliverer, DeliveryStats, Outcome};
use crate::error::LoadgenError;
use crate::records::Record;

/// PutRecords limits.
pub const MAX_RECORDS_PER_CALL: usize = 500;
pub const MAX_BYTES_PER_CALL: usize = 5 * 1024 * 1024;

/// One PutRecords entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KinesisEntry {
    pub partition_key: String,
    pub data: Vec<u8>,
}

impl KinesisEntry {
    /// Bytes the entry counts for against the per-call limit.
    pub fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
}

impl From<&Record> for KinesisEntry {
    fn from(r: &Record) -> Self {
        KinesisEntry {
            partition_key: r.partition_key.clone(),
            data: r.data.clone(),
        }
    }
}

/// The real PutRecords call.
#[derive(Debug, Clone)]
pub struct KinesisApi {
    pub client: Client,
    pub stream: String,
}

impl KinesisApi {
    /// Endpoint (`AWS_ENDPOINT_URL`), region and credentials from the environment.
    pub async fn from_env(stream: impl Into<String>) -> Self {
        let conf = aws_config::load_defaults(BehaviorVersion::latest()).await;
        KinesisApi {
            client: Client::new(&conf),
            stream: stream.into(),
        }
    }
}

impl BatchApi for KinesisApi {
    type Entry = KinesisEntry;

    async fn send(&self, entries: &[KinesisEntry]) -> Result<Vec<Outcome>, CallError> {
        let records = entries
            .iter()
            .map(|e| {
                PutRecordsRequestEntry::builder()
                    .partition_key(e.partition_key.clone())
                    .data(Blob::new(e.data.clone()))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CallError {
                message: e.to_string(),
                retryable: false,
                throttled: false,
            })?;
        let out = self
            .client
            .put_records()
            .stream_name(&self.stream)
            .set_records(Some(records))
            .send()
            .await
            .map_err(|e| classify(&e))?;
        if out.failed_record_count().unwrap_or(0) == 0 && out.records().len() == entries.len() {
            return Ok(vec![Outcome::Ok; entries.len()]);
        }
        Ok(out
            .records()
            .iter()
            .map(|r| match r.error_code() {
                None => Outcome::Ok,
                Some(code) if is_throttle_code(code) => Outcome::Throttled,
                Some(code) => {
                    Outcome::Failed(format!("{code}: {}", r.error_message().unwrap_or_default()))
                }
            })
            .collect())
    }

    fn error(&self, message: String) -> LoadgenError {
        LoadgenError::Kinesis(format!("stream {}: {message}", self.stream))
    }
}

/// Buffers records into PutRecords-sized batches and delivers them.
pub struct KinesisSink<A: BatchApi<Entry = KinesisEntry> = KinesisApi> {
    deliverer: Deliverer<A>,
    batch: Vec<KinesisEntry>,
    batch_bytes: usize,
    oldest: Option<Instant>,
}

impl KinesisSink<KinesisApi> {
    pub async fn from_env(stream: &str, policy: RetryPolicy) -> Self {
        KinesisSink::new(KinesisApi::from_env(stream).await, policy)
    }
}

impl<A: BatchApi<Entry = KinesisEntry>> KinesisSink<A> {
    pub fn new(api: A, policy: RetryPolicy) -> Self {
        KinesisSink {
            deliverer: Deliverer::new(api, policy),
            batch: Vec::with_capacity(MAX_RECORDS_PER_CALL),
            batch_bytes: 0,
            oldest: None,
        }
    }

    /// Adds a record; sends the batch when it is full.
    pub async fn push(&mut self, record: &Record) -> Result<(), LoadgenError> {
        let entry = KinesisEntry::from(record);
        if self.batch_bytes + entry.size() > MAX_BYTES_PER_CALL {
            self.flush().await?;
        }
        self.batch_bytes += entry.size();
        self.batch.push(entry);
        self.oldest.get_or_insert_with(Instant::now);
        if self.batch.len() >= MAX_RECORDS_PER_CALL {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends what is buffered (retrying failed entries as the policy allows).
    pub async fn flush(&mut self) -> Result<(), LoadgenError> {
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        self.oldest = None;
        self.deliverer.deliver(batch).await.map(drop)
    }

    /// How long the oldest buffered record has waited.
    pub fn pending_age(&self) -> Option<Duration> {
        self.oldest.map(|t| t.elapsed())
    }

    pub fn pending(&self) -> usize {
        self.batch.len()
    }

    pub fn stats(&self) -> &DeliveryStats {
        &self.deliverer.stats
    }
}

//! PutRecords to a Kinesis data stream: batches of at most 500 records and
//! 5 MiB, partial failures retried entry by entry; and the stream outage a
//! run can inject ([`Outage`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aws_config::BehaviorVersion;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use aws_sdk_kinesis::Client;

use super::{classify, invalid_request, is_throttle_code, BatchApi, CallError, Outcome};
use crate::error::LoadgenError;
use crate::faults::KinesisOutage;
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
    pub fn new(aws: &aws_config::SdkConfig, stream: impl Into<String>) -> Self {
        let (client, stream) = (Client::new(aws), stream.into());
        KinesisApi { client, stream }
    }
}

impl BatchApi for KinesisApi {
    type Entry = KinesisEntry;
    const MAX_ENTRIES: usize = MAX_RECORDS_PER_CALL;
    const MAX_BYTES: usize = MAX_BYTES_PER_CALL;

    fn size(entry: &KinesisEntry) -> usize {
        entry.size()
    }

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
            .map_err(invalid_request)?;
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

/// A stream that is down for a span of the run: during it every call goes to
/// `down`, a client of an endpoint that refuses connections, so the producer
/// sees what an outage looks like through the real SDK (dispatch failures,
/// the SDK's own retries, then ours), not a made-up error.
pub struct Outage<A> {
    pub up: A,
    pub down: A,
    pub window: KinesisOutage,
    pub started: Instant,
    /// Calls sent to `down` (shared, so a run can report it).
    pub refused_calls: Arc<AtomicU64>,
}

impl Outage<KinesisApi> {
    /// `up` as given; `down` the same stream behind a port nothing listens on;
    /// each refused call counted in `refused_calls`.
    pub async fn kinesis(
        up: KinesisApi,
        window: KinesisOutage,
        started: Instant,
        refused_calls: Arc<AtomicU64>,
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_or(9, |a| a.port());
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .load()
            .await;
        let down = KinesisApi {
            client: Client::new(&conf),
            stream: up.stream.clone(),
        };
        Outage {
            up,
            down,
            window,
            started,
            refused_calls,
        }
    }
}

impl<A: BatchApi> BatchApi for Outage<A> {
    type Entry = A::Entry;
    const MAX_ENTRIES: usize = A::MAX_ENTRIES;
    const MAX_BYTES: usize = A::MAX_BYTES;

    fn size(entry: &A::Entry) -> usize {
        A::size(entry)
    }

    async fn send(&self, entries: &[A::Entry]) -> Result<Vec<Outcome>, CallError> {
        if self.window.covers(self.started.elapsed()) {
            self.refused_calls.fetch_add(1, Ordering::Relaxed);
            self.down.send(entries).await
        } else {
            self.up.send(entries).await
        }
    }

    fn error(&self, message: String) -> LoadgenError {
        self.up.error(message)
    }
}

//! A plain stream reader feeding raw records to a sink: how Firehose (with the
//! stream as its source) lands the lake. One task per shard puts records; a
//! supervisor asks the sink to flush buffers that are due, and flushes
//! everything at shutdown. A shard is checkpointed only up to what the sink
//! has delivered, so a crash loses nothing buffered: it is read again.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::Client;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::kinesis::ReadOptions;
use super::reader::{list_shards, ShardReader};
use super::{Checkpoints, ConsumerMetrics, EsmTasks, StreamRecord};
use crate::function::BoxFuture;
use crate::Result;

/// Receives raw stream records (the Firehose emulator, or a test double).
pub trait RecordSink: Send {
    /// Takes records in; an error means "not accepted, offer them again".
    fn put<'a>(&'a mut self, records: &'a [StreamRecord]) -> BoxFuture<'a, Result<(), String>>;
    /// Delivers the buffers whose interval has elapsed.
    fn flush_due(&mut self, now_ms: i64) -> BoxFuture<'_, Result<(), String>>;
    /// Delivers everything buffered.
    fn flush_all(&mut self) -> BoxFuture<'_, Result<(), String>>;
    /// Per shard, the newest sequence number delivered with all before it.
    fn delivered(&mut self) -> Vec<(String, String)>;
}

pub type SharedSink = Arc<Mutex<Box<dyn RecordSink>>>;

pub fn shared(sink: impl RecordSink + 'static) -> SharedSink {
    Arc::new(Mutex::new(Box::new(sink)))
}

/// A sink reader: the consumer name keys its checkpoints and metrics.
pub struct SinkReader {
    pub consumer: String,
    pub sink: SharedSink,
    pub checkpoints: Checkpoints,
    pub metrics: Arc<ConsumerMetrics>,
    pub flush_every: Duration,
}

impl SinkReader {
    fn checkpoint(&self, delivered: Vec<(String, String)>) {
        for (shard, seq) in delivered {
            self.checkpoints.advance(&self.consumer, &shard, &seq);
        }
    }
}

pub async fn start(
    kinesis: Client,
    reader: SinkReader,
    read: ReadOptions,
    cancel: CancellationToken,
) -> Result<EsmTasks> {
    let shards = list_shards(&kinesis, &read.stream_name).await?;
    let reader = Arc::new(reader);
    let read = Arc::new(read);
    let shard_tasks: Vec<_> = shards
        .into_iter()
        .map(|shard| {
            let (k, s, r, c) = (
                kinesis.clone(),
                reader.clone(),
                read.clone(),
                cancel.clone(),
            );
            tokio::spawn(async move { run_shard(k, s, r, shard, c).await })
        })
        .collect();
    let supervisor = tokio::spawn(async move {
        let mut tick = tokio::time::interval(reader.flush_every);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {
                    let mut sink = reader.sink.lock().await;
                    if let Err(e) = sink.flush_due(crate::now_ms()).await {
                        tracing::warn!(consumer = %reader.consumer, error = %e, "flush failed; retried on the next tick");
                    }
                    reader.checkpoint(sink.delivered());
                }
            }
        }
        EsmTasks(shard_tasks).join().await;
        let mut sink = reader.sink.lock().await;
        if let Err(e) = sink.flush_all().await {
            tracing::error!(consumer = %reader.consumer, error = %e, "final flush failed");
        }
        reader.checkpoint(sink.delivered());
    });
    Ok(EsmTasks(vec![supervisor]))
}

async fn run_shard(
    kinesis: Client,
    s: Arc<SinkReader>,
    read: Arc<ReadOptions>,
    shard_id: String,
    cancel: CancellationToken,
) {
    let after = s.checkpoints.get(&s.consumer, &shard_id);
    let mut reader = ShardReader::new(
        kinesis,
        &read.stream_name,
        &shard_id,
        after,
        read.starting_position,
    );
    let mut pending: Vec<StreamRecord> = Vec::new();
    loop {
        if cancel.is_cancelled() || (reader.is_closed() && pending.is_empty()) {
            break;
        }
        if pending.is_empty() {
            match reader.read(10_000).await {
                Ok(r) => pending = r.records,
                Err(e) => {
                    tracing::warn!(consumer = %s.consumer, shard = %shard_id, error = %e, "read failed")
                }
            }
        }
        let age = pending
            .first()
            .map(|r| (crate::now_ms() - r.arrival_ms).max(0) as u64)
            .unwrap_or(0);
        s.metrics.set_iterator_age(&shard_id, age);
        if pending.is_empty() {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = tokio::time::sleep(read.poll_interval) => {}
            }
            continue;
        }
        let put = {
            let mut sink = s.sink.lock().await;
            let put = sink.put(&pending).await;
            s.checkpoint(sink.delivered());
            put
        };
        match put {
            Ok(()) => {
                ConsumerMetrics::add(&s.metrics.batches, 1);
                ConsumerMetrics::add(&s.metrics.records, pending.len() as u64);
                pending.clear();
            }
            Err(e) => {
                ConsumerMetrics::add(&s.metrics.retries, 1);
                tracing::warn!(consumer = %s.consumer, shard = %shard_id, error = %e, "sink refused records; retrying");
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}

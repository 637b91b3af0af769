//! Kinesis event-source mapping: one task per shard reads with GetRecords and
//! drives a [`ShardState`] (batching, windows, retries, on-failure).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_kinesis::Client;
use tokio_util::sync::CancellationToken;

use super::reader::{list_shards, ShardReader};
pub use super::shard::{ShardState, StreamMapping, Tick};
use super::{EsmTasks, StartingPosition};
use crate::Result;

/// How the mapping reads: which stream, from where, how often.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub stream_name: String,
    pub starting_position: StartingPosition,
    /// Pause between reads of a shard that has nothing new.
    pub poll_interval: Duration,
    /// Longest wait for final window invocations at shutdown.
    pub drain_timeout: Duration,
}

impl ReadOptions {
    pub fn new(stream_name: &str) -> Self {
        ReadOptions {
            stream_name: stream_name.to_string(),
            starting_position: StartingPosition::TrimHorizon,
            poll_interval: Duration::from_millis(250),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Starts one task per shard. Cancel the token to stop: reading stops, an
/// invocation under way completes, open windows get their final invocation.
pub async fn start(
    kinesis: Client,
    mapping: Arc<StreamMapping>,
    read: ReadOptions,
    cancel: CancellationToken,
) -> Result<EsmTasks> {
    let shards = list_shards(&kinesis, &read.stream_name).await?;
    let read = Arc::new(read);
    let tasks = shards
        .into_iter()
        .map(|shard| {
            let (k, m, r, c) = (
                kinesis.clone(),
                mapping.clone(),
                read.clone(),
                cancel.clone(),
            );
            tokio::spawn(async move { run_shard(k, m, r, shard, c).await })
        })
        .collect();
    Ok(EsmTasks(tasks))
}

async fn run_shard(
    kinesis: Client,
    m: Arc<StreamMapping>,
    read: Arc<ReadOptions>,
    shard_id: String,
    cancel: CancellationToken,
) {
    let after = m.checkpoints.get(&m.consumer, &shard_id);
    let mut reader = ShardReader::new(
        kinesis,
        &read.stream_name,
        &shard_id,
        after,
        read.starting_position,
    );
    let mut shard = ShardState::resume(&shard_id, m.checkpoints.window(&m.consumer, &shard_id));
    // Records held in memory at most; reading pauses above it.
    let cap = (m.batch_size * 4).max(1_000);
    let mut behind = 0u64;
    tracing::debug!(consumer = %m.consumer, shard = %shard_id, "shard poller started");
    while !cancel.is_cancelled() {
        let mut caught_up = false;
        let mut got = false;
        if shard.buffered() < cap && !reader.is_closed() {
            match reader.read((cap - shard.buffered()).min(10_000)).await {
                Ok(r) => {
                    caught_up = r.records.is_empty();
                    got = !caught_up;
                    behind = r.millis_behind_latest.unwrap_or(0).max(0) as u64;
                    shard.push(r.records);
                }
                Err(e) => {
                    tracing::warn!(consumer = %m.consumer, shard = %shard_id, error = %e, "read failed")
                }
            }
        }
        let finished = reader.is_closed();
        let tick = Tick {
            caught_up: caught_up || finished,
            closing: finished,
            may_open: true,
        };
        let invoked = shard.step(&m, tick).await;
        m.metrics
            .set_iterator_age(&shard_id, shard.iterator_age_ms(crate::now_ms(), behind));
        if finished && shard.buffered() == 0 && !shard.has_open_window() {
            tracing::info!(consumer = %m.consumer, shard = %shard_id, "shard finished");
            return;
        }
        if !invoked && !got {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = tokio::time::sleep(read.poll_interval) => {}
            }
        }
    }
    // Shutdown: the open window gets its final invocation (with its buffered records).
    let deadline = Instant::now() + read.drain_timeout;
    while shard.has_open_window() && Instant::now() < deadline {
        let tick = Tick {
            caught_up: true,
            closing: true,
            may_open: false,
        };
        if !shard.step(&m, tick).await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    if shard.has_open_window() {
        tracing::warn!(consumer = %m.consumer, shard = %shard_id, "window still open at shutdown deadline");
    }
}

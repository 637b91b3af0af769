//! Reads one shard with GetShardIterator/GetRecords (moto cannot push with
//! SubscribeToShard, so enhanced fan-out consumers are read this way too).

use std::time::Duration;

use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;
use aws_sdk_kinesis::Client;

use super::{StartingPosition, StreamRecord};
use crate::{aws_err, error_code, Error, Result};

/// GetRecords' own maximum.
const MAX_LIMIT: i32 = 10_000;

pub struct ShardReader {
    client: Client,
    stream: String,
    shard_id: String,
    iterator: Option<String>,
    /// Last sequence number read, to re-open an expired iterator after it.
    last_read: Option<String>,
    start: StartingPosition,
    closed: bool,
}

/// One GetRecords answer.
#[derive(Debug, Default)]
pub struct Read {
    pub records: Vec<StreamRecord>,
    pub millis_behind_latest: Option<i64>,
}

impl ShardReader {
    /// `after`: a checkpoint to resume after; else `start` applies.
    pub fn new(
        client: Client,
        stream: &str,
        shard_id: &str,
        after: Option<String>,
        start: StartingPosition,
    ) -> Self {
        ShardReader {
            client,
            stream: stream.to_string(),
            shard_id: shard_id.to_string(),
            iterator: None,
            last_read: after,
            start,
            closed: false,
        }
    }

    pub fn shard_id(&self) -> &str {
        &self.shard_id
    }

    /// True once the shard is closed (resharded) and fully read.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    async fn open(&mut self) -> Result<String> {
        let mut req = self
            .client
            .get_shard_iterator()
            .stream_name(&self.stream)
            .shard_id(&self.shard_id);
        req = match (&self.last_read, self.start) {
            (Some(seq), _) => req
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(seq),
            (None, StartingPosition::TrimHorizon) => {
                req.shard_iterator_type(ShardIteratorType::TrimHorizon)
            }
            (None, StartingPosition::Latest) => req.shard_iterator_type(ShardIteratorType::Latest),
            (None, StartingPosition::AtTimestamp(ms)) => req
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(DateTime::from_millis(ms)),
        };
        let out = req
            .send()
            .await
            .map_err(aws_err("kinesis.GetShardIterator"))?;
        out.shard_iterator
            .ok_or_else(|| Error::Payload("GetShardIterator returned no iterator".into()))
    }

    /// One GetRecords call (at most `limit` records). Throttling and expired
    /// iterators are handled here; other errors are returned for the caller to retry.
    pub async fn read(&mut self, limit: usize) -> Result<Read> {
        if self.closed {
            return Ok(Read::default());
        }
        if self.iterator.is_none() {
            self.iterator = Some(self.open().await?);
        }
        self.read_with(limit).await
    }

    async fn read_with(&mut self, limit: usize) -> Result<Read> {
        let iterator = self.iterator.take().unwrap_or_default();
        let resp = self
            .client
            .get_records()
            .shard_iterator(&iterator)
            .limit((limit as i32).clamp(1, MAX_LIMIT))
            .send()
            .await;
        let out = match resp {
            Ok(out) => out,
            Err(e) => {
                match error_code(&e) {
                    // Re-opened after the last record read on the next call.
                    Some("ExpiredIteratorException") => {}
                    Some("ProvisionedThroughputExceededException") => {
                        self.iterator = Some(iterator);
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    _ => {
                        self.iterator = Some(iterator);
                        return Err(aws_err("kinesis.GetRecords")(e));
                    }
                }
                return Ok(Read::default());
            }
        };
        let records: Vec<StreamRecord> = out
            .records
            .into_iter()
            .map(|r| StreamRecord {
                shard_id: self.shard_id.clone(),
                sequence_number: r.sequence_number,
                partition_key: r.partition_key.unwrap_or_default(),
                arrival_ms: r
                    .approximate_arrival_timestamp
                    .and_then(|t| t.to_millis().ok())
                    .unwrap_or_else(crate::now_ms),
                data: r.data.into_inner(),
            })
            .collect();
        if let Some(last) = records.last() {
            self.last_read = Some(last.sequence_number.clone());
        }
        match out.next_shard_iterator {
            Some(next) => self.iterator = Some(next),
            None => self.closed = true,
        }
        Ok(Read {
            records,
            millis_behind_latest: out.millis_behind_latest,
        })
    }
}

/// The shard ids of a stream (ListShards: DescribeStream fails against moto).
pub async fn list_shards(client: &Client, stream: &str) -> Result<Vec<String>> {
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = match &token {
            Some(t) => client.list_shards().next_token(t),
            None => client.list_shards().stream_name(stream),
        };
        let out = req.send().await.map_err(aws_err("kinesis.ListShards"))?;
        shards.extend(
            out.shards
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.shard_id),
        );
        token = out.next_token;
        if token.is_none() {
            return Ok(shards);
        }
    }
}

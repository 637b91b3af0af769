//! `WindowStore` on DynamoDB: one item per shard per window holding all of the
//! shard's title x region partials as a compact blob. A write is billed by
//! size (~35 bytes a group), where an item per group cost a write unit per
//! group: at a 10 000-title catalogue that was the largest line of the bill.
//!
//! Keys: `window` = "<start ms>#<bucket>" and `part` = "<shard id>#<chunk>".
//! Every shard flushes a window within the same second or two, so a shard's
//! hash spreads the window over [`BUCKETS`] partition keys; a shard's blob is
//! split at [`CHUNK_BYTES`], well below the 400 KB item limit. A retried flush
//! puts the same items again: it replaces, so nothing counts twice.
//!
//! Every flush reads the window's items back and judges its own groups on the
//! totals over the shards flushed so far; the last shard to flush sees them all.

mod codec;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use futures::future::try_join_all;
use playback_domain::metrics::stable_hash;
use playback_domain::ports::{PortError, PortResult, WindowStore};
use playback_domain::qoe::{combined_totals, PartialWindow, Window, WindowTotals};

pub use playback_domain::qoe::{combine, Group};

use crate::dynamo::*;

/// Partition keys a window's items are spread over: at 5x peak a shard's
/// item reaches ~350 KB, and a partition takes 1 000 WCU/s, so about one
/// shard per key at the ~45 shards of the cost model's peak.
pub const BUCKETS: u64 = 32;
/// A shard's blob is split into items of at most this many bytes.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// Window items are kept for a week (ops history), then expire.
const KEEP_SECS: i64 = 7 * 24 * 3600;

pub struct DynamoWindowStore {
    client: Client,
    table: String,
}

impl DynamoWindowStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoWindowStore {
            client,
            table: table.into(),
        }
    }

    async fn put(
        &self,
        window: Window,
        shard: &str,
        chunk: usize,
        blob: Vec<u8>,
    ) -> PortResult<()> {
        let bucket = stable_hash(&[shard]) % BUCKETS;
        self.client
            .put_item()
            .table_name(&self.table)
            .item("window", s(format!("{}#{bucket}", window.start_ms)))
            .item("part", s(format!("{shard}#{chunk:04}")))
            .item("groups", AttributeValue::B(Blob::new(blob)))
            .item("window_start", n(window.start_ms))
            .item("window_end", n(window.end_ms))
            .item("shard", s(shard))
            .item("expires_at", n(window.end_ms / 1000 + KEEP_SECS))
            .send()
            .await
            .map_err(|e| port_error("windows.flush", e))?;
        Ok(())
    }

    /// Every group of every shard flushed for the window starting at `start_ms`.
    pub async fn read_window(&self, start_ms: i64) -> PortResult<Vec<Group>> {
        let buckets = (0..BUCKETS).map(|b| self.read_bucket(format!("{start_ms}#{b}")));
        Ok(try_join_all(buckets).await?.into_iter().flatten().collect())
    }

    async fn read_bucket(&self, key: String) -> PortResult<Vec<Group>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#w = :w")
                .expression_attribute_names("#w", "window")
                .expression_attribute_values(":w", s(&key))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| port_error("windows.read", e))?;
            for item in page.items() {
                out.extend(groups_of(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}

/// The groups of one stored item.
pub fn groups_of(item: &Item) -> PortResult<Vec<Group>> {
    let blob = item.get("groups").and_then(|v| v.as_b().ok());
    blob.and_then(|b| codec::decode(b.as_ref())).ok_or_else(|| {
        PortError::Corrupt(format!("unreadable window item {:?}", get_s(item, "part")))
    })
}

pub fn title_region_key(title_id: &str, region: &str) -> String {
    format!("{title_id}#{region}")
}

impl WindowStore for DynamoWindowStore {
    async fn flush_shard(
        &self,
        window: Window,
        shard_id: &str,
        groups: &[(&str, &str, &PartialWindow)],
    ) -> PortResult<Vec<WindowTotals>> {
        let blobs = codec::encode(groups, CHUNK_BYTES);
        let puts = blobs
            .into_iter()
            .enumerate()
            .map(|(i, blob)| self.put(window, shard_id, i, blob));
        try_join_all(puts).await?;
        let stored = self.read_window(window.start_ms).await?;
        Ok(combined_totals(stored, groups))
    }
}

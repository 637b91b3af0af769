//! `WindowStore` on DynamoDB: one item per title x region x window; each shard
//! adds its partial once (the condition on the `shards` set makes a retried
//! flush a no-op), then the combined totals come back in the same call.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use playback_domain::ports::{PortResult, WindowStore};
use playback_domain::qoe::{PartialWindow, Window, WindowTotals};

use crate::dynamo::*;

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

    async fn read(&self, key: &str, start_ms: i64) -> PortResult<WindowTotals> {
        let resp = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("title_region", s(key))
            .key("window_start", n(start_ms))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("windows.read", e))?;
        Ok(resp.item.as_ref().map(totals_of).unwrap_or_default())
    }
}

pub fn title_region_key(title_id: &str, region: &str) -> String {
    format!("{title_id}#{region}")
}

pub fn totals_of(item: &Item) -> WindowTotals {
    WindowTotals {
        watched_ms: get_u64(item, "watched_ms"),
        stalled_ms: get_u64(item, "stalled_ms"),
        events: get_u64(item, "events"),
        sessions: get_u64(item, "sessions"),
        viewers: get_u64(item, "viewers"),
        shards_flushed: item
            .get("shards")
            .and_then(|v| v.as_ss().ok())
            .map_or(0, |ss| ss.len() as u64),
    }
}

impl WindowStore for DynamoWindowStore {
    async fn flush_partial(
        &self,
        title_id: &str,
        region: &str,
        window: Window,
        shard_id: &str,
        p: &PartialWindow,
    ) -> PortResult<WindowTotals> {
        let key = title_region_key(title_id, region);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("title_region", s(&key))
            .key("window_start", n(window.start_ms))
            .update_expression(
                "ADD watched_ms :w, stalled_ms :s, events :e, sessions :ss, viewers :vs, shards :shard \
                 SET window_end = :end, title_id = :t, #region = :r, expires_at = :exp",
            )
            .condition_expression("attribute_not_exists(shards) OR NOT contains(shards, :shard_id)")
            .expression_attribute_names("#region", "region")
            .expression_attribute_values(":w", n(p.watched_ms))
            .expression_attribute_values(":s", n(p.stalled_ms))
            .expression_attribute_values(":e", n(p.events))
            .expression_attribute_values(":ss", n(p.sessions.len()))
            .expression_attribute_values(":vs", n(p.viewers.len()))
            .expression_attribute_values(":shard", AttributeValue::Ss(vec![shard_id.to_string()]))
            .expression_attribute_values(":shard_id", s(shard_id))
            .expression_attribute_values(":end", n(window.end_ms))
            .expression_attribute_values(":t", s(title_id))
            .expression_attribute_values(":r", s(region))
            .expression_attribute_values(":exp", n(window.end_ms / 1000 + KEEP_SECS))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.attributes.as_ref().map(totals_of).unwrap_or_default()),
            // Already flushed by an earlier attempt of this shard: just read.
            Err(e) if is_conditional_failure(&e) => self.read(&key, window.start_ms).await,
            Err(e) => Err(unavailable("windows.flush", e)),
        }
    }
}

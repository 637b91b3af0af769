//! `FeatureStore` on DynamoDB: one item per viewer, written with an
//! optimistic-concurrency condition on the stored stream position.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use playback_domain::features::ViewerFeatures;
use playback_domain::ports::{FeatureStore, PortError, PortResult, SaveOutcome};

use crate::dynamo::*;

pub struct DynamoFeatureStore {
    client: Client,
    table: String,
    ttl_secs: i64,
}

impl DynamoFeatureStore {
    pub fn new(client: Client, table: impl Into<String>, ttl_secs: i64) -> Self {
        DynamoFeatureStore {
            client,
            table: table.into(),
            ttl_secs,
        }
    }
}

pub fn to_item(f: &ViewerFeatures, ttl_secs: i64) -> Item {
    let mut item = Item::new();
    item.insert("viewer_id".into(), s(&f.viewer_id));
    let titles = f.recent_titles.iter().map(s).collect();
    item.insert("recent_titles".into(), AttributeValue::L(titles));
    let ids = f.recent_event_ids.iter().map(s).collect();
    item.insert("recent_event_ids".into(), AttributeValue::L(ids));
    let opt = [
        ("current_title", &f.current_title),
        ("current_session", &f.current_session),
        ("device_platform", &f.device_platform),
        ("last_position", &f.last_position),
    ];
    for (k, v) in opt {
        if let Some(v) = v {
            item.insert(k.into(), s(v));
        }
    }
    let nums = [
        ("session_skips", f.session_skips as i64),
        ("session_saves", f.session_saves as i64),
        ("session_watched_ms", f.session_watched_ms as i64),
        ("session_stalled_ms", f.session_stalled_ms as i64),
        ("lifetime_watched_ms", f.lifetime_watched_ms as i64),
        ("lifetime_stalled_ms", f.lifetime_stalled_ms as i64),
        ("last_event_time_ms", f.last_event_time_ms),
        ("events_applied", f.events_applied as i64),
        ("expires_at", f.expires_at(ttl_secs)),
    ];
    for (k, v) in nums {
        item.insert(k.into(), n(v));
    }
    item
}

pub fn from_item(item: &Item) -> Result<ViewerFeatures, PortError> {
    let viewer_id = get_s(item, "viewer_id")
        .ok_or_else(|| PortError::Corrupt("features item without viewer_id".into()))?;
    let strings = |k: &str| -> Vec<String> {
        item.get(k)
            .and_then(|v| v.as_l().ok())
            .map(|l| l.iter().filter_map(|t| t.as_s().ok().cloned()).collect())
            .unwrap_or_default()
    };
    Ok(ViewerFeatures {
        viewer_id,
        recent_titles: strings("recent_titles"),
        recent_event_ids: strings("recent_event_ids"),
        current_title: get_s(item, "current_title"),
        current_session: get_s(item, "current_session"),
        session_skips: get_u64(item, "session_skips"),
        session_saves: get_u64(item, "session_saves"),
        session_watched_ms: get_u64(item, "session_watched_ms"),
        session_stalled_ms: get_u64(item, "session_stalled_ms"),
        lifetime_watched_ms: get_u64(item, "lifetime_watched_ms"),
        lifetime_stalled_ms: get_u64(item, "lifetime_stalled_ms"),
        last_event_time_ms: get_i64(item, "last_event_time_ms"),
        device_platform: get_s(item, "device_platform"),
        events_applied: get_u64(item, "events_applied"),
        last_position: get_s(item, "last_position"),
    })
}

impl FeatureStore for DynamoFeatureStore {
    async fn load(&self, ids: &[String]) -> PortResult<BTreeMap<String, ViewerFeatures>> {
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(100) {
            let mut keys: Vec<Item> = chunk
                .iter()
                .map(|id| Item::from([("viewer_id".to_string(), s(id))]))
                .collect();
            // BatchGetItem may return part of the keys as unprocessed: ask again.
            for _attempt in 0..8 {
                if keys.is_empty() {
                    break;
                }
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| PortError::Corrupt(e.to_string()))?;
                let resp = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, ka)
                    .send()
                    .await
                    .map_err(|e| unavailable("features.load", e))?;
                for item in resp
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    let f = from_item(&item)?;
                    out.insert(f.viewer_id.clone(), f);
                }
                keys = resp
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|ka| ka.keys)
                    .unwrap_or_default();
            }
            if !keys.is_empty() {
                return Err(PortError::Unavailable {
                    operation: "features.load",
                    message: format!("{} keys still unprocessed", keys.len()),
                });
            }
        }
        Ok(out)
    }

    async fn save(&self, f: &ViewerFeatures, expected: Option<&str>) -> PortResult<SaveOutcome> {
        let req = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(f, self.ttl_secs)));
        let req = match expected {
            None => req.condition_expression("attribute_not_exists(viewer_id)"),
            Some(p) => req
                .condition_expression("last_position = :p")
                .expression_attribute_values(":p", s(p)),
        };
        match req.send().await {
            Ok(_) => Ok(SaveOutcome::Saved),
            Err(e) if is_conditional_failure(&e) => Ok(SaveOutcome::Conflict),
            Err(e) => Err(unavailable("features.save", e)),
        }
    }
}

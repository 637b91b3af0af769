//! `FeatureStore` on DynamoDB: one item per viewer, written with an
//! optimistic-concurrency condition on the stored stream position.
//!
//! The recent event ids (retry suppression) are stored as one Binary attribute
//! [`ID_HASHES`]: the 64-bit [`event_id_hash`]es, 8 bytes little-endian each,
//! newest last (256 bytes for 32 ids, against ~1.2 KB as a list of strings),
//! so a full item stays under 1 KB: one write unit per save. Items written
//! before that hold a `recent_event_ids` list of strings ([`LEGACY_EVENT_IDS`]),
//! hashed on load; the next save replaces the item and drops it.

use std::collections::BTreeMap;
use std::sync::PoisonError;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use playback_domain::features::{event_id_hash, ViewerFeatures, RECENT_EVENT_IDS};
use playback_domain::ports::{FeatureStore, PortError, PortResult, SaveOutcome};

use crate::dynamo::*;
use crate::retry;
use crate::update::Update;

/// Binary attribute: the recent event id hashes, u64 little-endian, newest last.
pub const ID_HASHES: &str = "id_hashes";
/// The list of event id strings that items written by earlier releases hold.
pub const LEGACY_EVENT_IDS: &str = "recent_event_ids";
/// The session attributes [`to_item`] writes only when set: a save REMOVEs
/// those absent, so the item holds exactly the folded state.
const SESSION_OPTIONAL: [&str; 5] = [
    ID_HASHES,
    "current_title",
    "current_session",
    "device_platform",
    "last_position",
];

pub struct DynamoFeatureStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    pub(crate) ttl_secs: i64,
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
    if !f.recent_event_hashes.is_empty() {
        let bytes: Vec<u8> = f
            .recent_event_hashes
            .iter()
            .flat_map(|h| h.to_le_bytes())
            .collect();
        item.insert(ID_HASHES.into(), AttributeValue::B(bytes.into()));
    }
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
        recent_event_hashes: recent_event_hashes(item),
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

/// The stored hashes, or an older item's event id strings hashed; newest last,
/// the newest [`RECENT_EVENT_IDS`] kept. A trailing partial hash (never
/// written) is ignored.
fn recent_event_hashes(item: &Item) -> Vec<u64> {
    let mut hashes: Vec<u64> = match item.get(ID_HASHES).and_then(|v| v.as_b().ok()) {
        Some(b) => b
            .as_ref()
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8-byte chunk")))
            .collect(),
        None => item
            .get(LEGACY_EVENT_IDS)
            .and_then(|v| v.as_l().ok())
            .map(|l| {
                l.iter()
                    .filter_map(|id| id.as_s().ok())
                    .map(|id| event_id_hash(id))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let excess = hashes.len().saturating_sub(RECENT_EVENT_IDS);
    hashes.drain(..excess);
    hashes
}

impl DynamoFeatureStore {
    /// One BatchGetItem: the items it read and the keys it left unprocessed.
    async fn get_batch(&self, keys: Vec<Item>) -> PortResult<(Vec<Item>, Vec<Item>)> {
        let ka = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|e| PortError::Corrupt(e.to_string()))?;
        let resp = self
            .client
            .batch_get_item()
            .request_items(&self.table, ka)
            .send()
            .await
            .map_err(|e| port_error("features.load", e))?;
        let found = resp
            .responses
            .unwrap_or_default()
            .remove(&self.table)
            .unwrap_or_default();
        let left = resp
            .unprocessed_keys
            .and_then(|mut u| u.remove(&self.table))
            .map(|ka| ka.keys)
            .unwrap_or_default();
        Ok((found, left))
    }

    /// The items of `ids` that exist, 100 keys per BatchGetItem; keys left
    /// unprocessed (throughput, 16 MB) are asked again, with backoff.
    pub async fn get_items(&self, ids: &[String]) -> PortResult<Vec<Item>> {
        let out = std::sync::Mutex::new(Vec::new());
        for chunk in ids.chunks(100) {
            let keys: Vec<Item> = chunk
                .iter()
                .map(|id| Item::from([("viewer_id".to_string(), s(id))]))
                .collect();
            let out = &out;
            retry::until_processed(
                "features.load",
                "keys",
                keys,
                retry::policy(),
                |keys| async move {
                    let (found, left) = self.get_batch(keys).await?;
                    out.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend(found);
                    Ok(left)
                },
            )
            .await?;
        }
        Ok(out.into_inner().unwrap_or_else(PoisonError::into_inner))
    }
}

impl FeatureStore for DynamoFeatureStore {
    async fn load(&self, ids: &[String]) -> PortResult<BTreeMap<String, ViewerFeatures>> {
        self.get_items(ids)
            .await?
            .iter()
            // An item the batch created before the stream saw the viewer.
            .filter(|item| item.contains_key("last_position"))
            .map(|item| from_item(item).map(|f| (f.viewer_id.clone(), f)))
            .collect()
    }

    /// An UpdateItem of the session attributes only (never the batch's
    /// `lh_*`), conditioned on the stored stream position.
    async fn save(&self, f: &ViewerFeatures, expected: Option<&str>) -> PortResult<SaveOutcome> {
        let mut u = Update::default();
        let mut item = to_item(f, self.ttl_secs);
        item.remove("viewer_id");
        for k in SESSION_OPTIONAL.into_iter().chain([LEGACY_EVENT_IDS]) {
            if !item.contains_key(k) {
                u.remove(k);
            }
        }
        for (k, v) in item {
            u.set(&k, v);
        }
        let position = u.name("last_position");
        let condition = match expected {
            None => format!("attribute_not_exists({position})"),
            Some(p) => format!("{position} = {}", u.value(s(p))),
        };
        Ok(
            match self
                .update_viewer(u, &f.viewer_id, condition, "features.save")
                .await?
            {
                true => SaveOutcome::Saved,
                false => SaveOutcome::Conflict,
            },
        )
    }
}

impl DynamoFeatureStore {
    /// One conditional UpdateItem of a viewer's item: both writers (the
    /// stream's save, the batch's publish) go through it. False when the
    /// condition failed.
    pub(crate) async fn update_viewer(
        &self,
        u: Update,
        viewer: &str,
        condition: String,
        operation: &'static str,
    ) -> PortResult<bool> {
        let res = u
            .apply(self.client.update_item())
            .table_name(&self.table)
            .key("viewer_id", s(viewer))
            .condition_expression(condition)
            .send()
            .await;
        conditional_written(res, operation)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use playback_domain::features::RECENT_TITLES;
    use playback_domain::{decode_record, Clock, OwnedEvent, StreamPosition};

    const TTL: i64 = 90 * 86_400;

    fn uuid(tag: &str, i: usize) -> String {
        format!("{tag:0>8}-{i:04x}-4a1b-9c2d-{:012x}", i * 7919)
    }

    fn heartbeat(viewer: &str, event_id: &str) -> OwnedEvent {
        let json = format!(
            r#"{{"event_id":"{event_id}","event_type":"heartbeat","event_time":"2026-11-23T10:00:00Z","viewer_id":"{viewer}","session_id":"s","title_id":"t","region":"eu","watched_ms":1000}}"#
        );
        let d = decode_record(json.as_bytes(), Clock::at(1_795_478_399_999));
        d.into_iter().next().unwrap().result.unwrap().into_owned()
    }

    /// A long-lived viewer with everything at its largest realistic size:
    /// UUID viewer, session and event ids, 10 recent titles, a Kinesis
    /// sequence number (56 digits), 13-digit counters.
    pub(crate) fn full_features() -> ViewerFeatures {
        let seq = "49654312345678901234567890123456789012345678901234567890";
        ViewerFeatures {
            viewer_id: uuid("viewer", 1),
            recent_titles: (0..RECENT_TITLES)
                .map(|i| format!("title-{i:06}"))
                .collect(),
            current_title: Some("title-000000".into()),
            current_session: Some(uuid("session", 2)),
            session_skips: 12,
            session_saves: 3,
            session_watched_ms: 14_400_000,
            session_stalled_ms: 95_000,
            lifetime_watched_ms: 9_876_543_210_123,
            lifetime_stalled_ms: 12_345_678_901,
            last_event_time_ms: 1_795_478_399_999,
            device_platform: Some("android_tv".into()),
            events_applied: 1_234_567_890,
            last_position: Some(StreamPosition::new(seq, 17).unwrap().sortable()),
            recent_event_hashes: (0..RECENT_EVENT_IDS)
                .map(|i| event_id_hash(&uuid("event", i)))
                .collect(),
        }
    }

    /// The item as releases before the hashes wrote it.
    fn legacy_item(f: &ViewerFeatures, ids: &[String]) -> Item {
        let mut item = to_item(f, TTL);
        item.remove(ID_HASHES);
        let ids = ids.iter().map(s).collect();
        item.insert(LEGACY_EVENT_IDS.into(), AttributeValue::L(ids));
        item
    }

    #[test]
    fn full_item_is_under_one_write_unit() {
        let f = full_features();
        let item = to_item(&f, TTL);
        let size = item_size(&item);
        assert!(size < 1024, "features item is {size} bytes");
        assert_eq!(item[ID_HASHES].as_b().unwrap().as_ref().len(), 8 * 32);
        // The same state with the ids as strings took 2 write units.
        let ids: Vec<String> = (0..RECENT_EVENT_IDS).map(|i| uuid("event", i)).collect();
        let legacy = item_size(&legacy_item(&f, &ids));
        assert!(legacy > 1024, "legacy item is {legacy} bytes");
    }

    #[test]
    fn item_round_trips() {
        let f = full_features();
        assert_eq!(from_item(&to_item(&f, TTL)).unwrap(), f);
        let fresh = ViewerFeatures::new("v1");
        let item = to_item(&fresh, TTL);
        assert!(!item.contains_key(ID_HASHES), "no empty binary attribute");
        assert_eq!(from_item(&item).unwrap(), fresh);
    }

    #[test]
    fn hashes_are_little_endian_newest_last() {
        let mut f = ViewerFeatures::new("v1");
        f.recent_event_hashes = vec![1, 0x0102_0304_0506_0708];
        let item = to_item(&f, TTL);
        assert_eq!(
            item[ID_HASHES].as_b().unwrap().as_ref(),
            [1, 0, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]
        );
    }

    #[test]
    fn legacy_item_loads_with_its_ids_hashed_and_still_drops_retries() {
        let mut f = full_features();
        // Older releases kept at most 32; keep the newest 32 of anything longer.
        let ids: Vec<String> = (0..RECENT_EVENT_IDS + 2).map(|i| uuid("old", i)).collect();
        let item = legacy_item(&f, &ids);
        let mut loaded = from_item(&item).unwrap();
        let want: Vec<u64> = ids[2..].iter().map(|id| event_id_hash(id)).collect();
        assert_eq!(loaded.recent_event_hashes, want);
        f.recent_event_hashes = want;
        assert_eq!(loaded, f, "every other field as before");

        // A producer retry of a remembered id only advances the position.
        let before = loaded.clone();
        let retry = heartbeat(&loaded.viewer_id, &ids[RECENT_EVENT_IDS + 1]);
        let next = StreamPosition::new(
            "49654312345678901234567890123456789012345678901234567891",
            0,
        )
        .unwrap();
        assert!(loaded.apply(&retry, &next));
        assert_eq!(loaded.last_position, Some(next.sortable()));
        assert_eq!(
            (loaded.lifetime_watched_ms, loaded.events_applied),
            (before.lifetime_watched_ms, before.events_applied)
        );
        assert_eq!(loaded.recent_event_hashes, before.recent_event_hashes);

        // A new event counts, and the saved item is in the new layout.
        let fresh = heartbeat(&loaded.viewer_id, "a-new-event");
        let later = StreamPosition::new(
            "49654312345678901234567890123456789012345678901234567892",
            0,
        )
        .unwrap();
        assert!(loaded.apply(&fresh, &later));
        assert_eq!(
            loaded.lifetime_watched_ms,
            before.lifetime_watched_ms + 1000
        );
        let saved = to_item(&loaded, TTL);
        assert!(!saved.contains_key(LEGACY_EVENT_IDS));
        assert_eq!(from_item(&saved).unwrap(), loaded);
    }
}

//! The app keys in DynamoDB (`KEYS_TABLE`): item pk `app_id`, sk `kid`,
//! `sha256` (hex of the key's SHA-256), `status` (`active` | `retired`).
//! A rotation is a second active kid for the app, then the old one retired.
//!
//! A warm instance answers from a small in-process cache, so DynamoDB sees
//! one GetItem per (app, kid) per TTL, not one per request. Absent and
//! retired keys are cached too (a flood of made-up kids costs one read each
//! per TTL, within the bound); errors are not cached. A retirement therefore
//! takes effect within one TTL.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use playback_aws::dynamo::{get_s, port_error};
use playback_domain::ports::{PortError, PortResult, Retry};

use crate::memory::MemoryKeyStore;
use crate::ports::{KeyHash, KeyStore};

/// The item's attributes (README.md "Deploying", the CDK keys table).
pub const PK: &str = "app_id";
pub const SK: &str = "kid";
pub const HASH_ATTR: &str = "sha256";
pub const STATUS_ATTR: &str = "status";
pub const ACTIVE: &str = "active";

/// Default cache TTL: how long a retired key may still be accepted.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
/// Entries kept at most; a full cache drops its expired entries, then all.
pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;

type Entry = (Instant, Option<KeyHash>);

pub struct DynamoKeyStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl: Duration,
    max_entries: usize,
    cache: Mutex<HashMap<(String, String), Entry>>,
}

impl DynamoKeyStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoKeyStore {
            client,
            table: table.into(),
            ttl: DEFAULT_CACHE_TTL,
            max_entries: DEFAULT_CACHE_ENTRIES,
            cache: Mutex::default(),
        }
    }

    /// The cache's TTL (tests use a short one).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    pub fn with_max_entries(mut self, n: usize) -> Self {
        self.max_entries = n.max(1);
        self
    }

    fn cached(&self, key: &(String, String), now: Instant) -> Option<Option<KeyHash>> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .get(key)
            .filter(|(at, _)| now.duration_since(*at) < self.ttl)
            .map(|(_, v)| *v)
    }

    fn remember(&self, key: (String, String), value: Option<KeyHash>, now: Instant) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= self.max_entries && !cache.contains_key(&key) {
            cache.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
            if cache.len() >= self.max_entries {
                cache.clear();
            }
        }
        cache.insert(key, (now, value));
    }

    async fn read(&self, app_id: &str, kid: &str) -> PortResult<Option<KeyHash>> {
        const OP: &str = "dynamodb.get_item(keys)";
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(app_id.into()))
            .key(SK, AttributeValue::S(kid.into()))
            .projection_expression("#h, #s")
            .expression_attribute_names("#h", HASH_ATTR)
            .expression_attribute_names("#s", STATUS_ATTR)
            .send()
            .await
            .map_err(|e| port_error(OP, e))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        if get_s(item, STATUS_ATTR).as_deref() != Some(ACTIVE) {
            return Ok(None);
        }
        let corrupt = |why: String| {
            PortError::call(
                OP,
                Retry::NonRetriable,
                None,
                format!("{app_id}/{kid}: {why}"),
            )
        };
        let hex = get_s(item, HASH_ATTR).ok_or_else(|| corrupt(format!("no {HASH_ATTR}")))?;
        let mut hash = [0u8; 32];
        hex::decode_to_slice(hex.trim(), &mut hash)
            .map_err(|e| corrupt(format!("{HASH_ATTR}: {e}")))?;
        Ok(Some(hash))
    }
}

impl KeyStore for DynamoKeyStore {
    async fn key_hash(&self, app_id: &str, kid: &str) -> PortResult<Option<KeyHash>> {
        let key = (app_id.to_string(), kid.to_string());
        if let Some(hit) = self.cached(&key, Instant::now()) {
            return Ok(hit);
        }
        let value = self.read(app_id, kid).await?;
        self.remember(key, value, Instant::now());
        Ok(value)
    }
}

/// The deployed key store: DynamoDB when `KEYS_TABLE` is set, else the
/// `COLLECTOR_KEYS` hashes in memory (local runs).
pub enum AppKeys {
    Memory(MemoryKeyStore),
    Dynamo(DynamoKeyStore),
}

impl KeyStore for AppKeys {
    async fn key_hash(&self, app_id: &str, kid: &str) -> PortResult<Option<KeyHash>> {
        match self {
            AppKeys::Memory(m) => m.key_hash(app_id, kid).await,
            AppKeys::Dynamo(d) => d.key_hash(app_id, kid).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(ttl: Duration, max: usize) -> DynamoKeyStore {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        DynamoKeyStore::new(aws_sdk_dynamodb::Client::from_conf(conf), "t")
            .with_ttl(ttl)
            .with_max_entries(max)
    }

    fn k(a: &str) -> (String, String) {
        (a.into(), "k1".into())
    }

    #[test]
    fn the_cache_answers_within_its_ttl_only() {
        let s = store(Duration::from_secs(60), 10);
        let t0 = Instant::now();
        s.remember(k("tv"), Some([7; 32]), t0);
        s.remember(k("web"), None, t0);
        assert_eq!(s.cached(&k("tv"), t0), Some(Some([7; 32])));
        assert_eq!(s.cached(&k("web"), t0), Some(None), "absent is cached");
        assert_eq!(s.cached(&k("tv"), t0 + Duration::from_secs(60)), None);
        assert_eq!(s.cached(&k("ios"), t0), None);
    }

    #[test]
    fn a_full_cache_stays_bounded() {
        let s = store(Duration::from_secs(60), 3);
        let t0 = Instant::now();
        for (i, a) in ["a", "b", "c"].iter().enumerate() {
            s.remember(k(a), None, t0 + Duration::from_secs(i as u64 * 30));
        }
        // At t0+61 "a" has expired: dropping it makes room, b and c stay.
        let t = t0 + Duration::from_secs(61);
        s.remember(k("d"), None, t);
        assert_eq!(s.cached(&k("b"), t), Some(None));
        assert_eq!(s.cache.lock().unwrap().len(), 3);
        // Nothing expired: the cache is emptied rather than grown.
        s.remember(k("e"), None, t);
        assert_eq!(s.cache.lock().unwrap().len(), 1);
    }
}

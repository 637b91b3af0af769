//! In-memory twins of the collector's ports, for tests and the local
//! pipeline. The stream and the queue can be told to fail.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use playback_domain::ports::{PortError, PortResult, Retry};

use crate::auth::hash_key;
use crate::ports::{EntryOutcome, KeyHash, KeyStore, SreQueue, StreamRecord, StreamSink};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn down(operation: &'static str) -> PortError {
    PortError::call(
        operation,
        Retry::Retriable,
        Some("ServiceUnavailable".into()),
        "injected outage",
    )
}

/// Keys by (app id, kid), as hashes. Also what the Lambda reads from
/// `COLLECTOR_KEYS` until the DynamoDB adapter lands.
#[derive(Default)]
pub struct MemoryKeyStore {
    pub keys: Mutex<BTreeMap<(String, String), KeyHash>>,
    pub down: AtomicBool,
}

impl MemoryKeyStore {
    /// Adds the key `kid` of `app_id` (its hash is what is kept).
    pub fn with_key(self, app_id: &str, kid: &str, key: &str) -> Self {
        self.insert_hash(app_id, kid, hash_key(key));
        self
    }

    pub fn insert_hash(&self, app_id: &str, kid: &str, hash: KeyHash) {
        lock(&self.keys).insert((app_id.to_string(), kid.to_string()), hash);
    }

    /// Retires a key (the end of a rotation).
    pub fn remove(&self, app_id: &str, kid: &str) {
        lock(&self.keys).remove(&(app_id.to_string(), kid.to_string()));
    }
}

impl KeyStore for MemoryKeyStore {
    async fn key_hash(&self, app_id: &str, kid: &str) -> PortResult<Option<KeyHash>> {
        if self.down.load(Ordering::Relaxed) {
            return Err(down("keys.get"));
        }
        Ok(lock(&self.keys)
            .get(&(app_id.to_string(), kid.to_string()))
            .copied())
    }
}

/// A stream: the records written, in order, and the calls made.
#[derive(Default)]
pub struct MemoryStream {
    pub records: Mutex<Vec<StreamRecord>>,
    pub calls: AtomicUsize,
    /// Every call fails as a whole while set (the stream is down).
    pub down: AtomicBool,
    /// For each of the next calls, the indices of its records that fail
    /// (`ProvisionedThroughputExceededException`), as PutRecords does.
    pub partial: Mutex<VecDeque<Vec<usize>>>,
}

impl MemoryStream {
    /// The next call fails the records at `indices`.
    pub fn fail_next(&self, indices: Vec<usize>) {
        lock(&self.partial).push_back(indices);
    }

    pub fn written(&self) -> Vec<StreamRecord> {
        lock(&self.records).clone()
    }

    pub fn call_count(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }
}

impl StreamSink for MemoryStream {
    async fn put_records(&self, records: &[StreamRecord]) -> PortResult<Vec<EntryOutcome>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if self.down.load(Ordering::Relaxed) {
            return Err(down("kinesis.put_records"));
        }
        let failing = lock(&self.partial).pop_front().unwrap_or_default();
        let mut written = lock(&self.records);
        Ok(records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if failing.contains(&i) {
                    EntryOutcome::Failed {
                        code: "ProvisionedThroughputExceededException".into(),
                    }
                } else {
                    written.push(r.clone());
                    EntryOutcome::Written
                }
            })
            .collect())
    }
}

/// A queue: the message bodies sent, in order.
#[derive(Default)]
pub struct MemorySreQueue {
    pub bodies: Mutex<Vec<String>>,
    pub calls: AtomicUsize,
    pub down: AtomicBool,
}

impl MemorySreQueue {
    pub fn sent(&self) -> Vec<String> {
        lock(&self.bodies).clone()
    }
}

impl SreQueue for MemorySreQueue {
    async fn send_batch(&self, bodies: &[String]) -> PortResult<Vec<EntryOutcome>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if self.down.load(Ordering::Relaxed) {
            return Err(down("sqs.send_message_batch"));
        }
        assert!(
            bodies.len() <= Self::MAX_ENTRIES,
            "SendMessageBatch takes 10"
        );
        lock(&self.bodies).extend_from_slice(bodies);
        Ok(vec![EntryOutcome::Written; bodies.len()])
    }
}

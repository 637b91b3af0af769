//! The collector's side effects besides the domain's [`DeadLetters`]: its
//! keys, the stream and the SRE queue. AWS adapters in `entry.rs`; in-memory
//! twins in [`crate::memory`].
//!
//! [`DeadLetters`]: playback_domain::ports::DeadLetters

use std::future::Future;

use playback_domain::ports::PortResult;

/// SHA-256 of an app key: all the store ever holds.
pub type KeyHash = [u8; 32];

/// The apps' keys, by (app id, key id). Rotation without downtime: an app has
/// two active kids while its players move from the old key to the new one.
pub trait KeyStore: Send + Sync {
    /// The hash of the key `kid` of `app_id`, if that key is active.
    fn key_hash(
        &self,
        app_id: &str,
        kid: &str,
    ) -> impl Future<Output = PortResult<Option<KeyHash>>> + Send;
}

/// One Kinesis record: NDJSON events of one viewer, keyed by viewer_id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// The verdict on one entry of a batch call (PutRecords, SendMessageBatch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    Written,
    /// Not written (throttled, internal failure): worth sending again.
    Failed {
        code: String,
    },
}

/// PutRecords semantics: one verdict per record, in order; an `Err` is a
/// call that wrote nothing.
pub trait StreamSink: Send + Sync {
    fn put_records(
        &self,
        records: &[StreamRecord],
    ) -> impl Future<Output = PortResult<Vec<EntryOutcome>>> + Send;
}

/// SendMessageBatch semantics: at most [`SreQueue::MAX_ENTRIES`] bodies per
/// call, one verdict per body, in order.
pub trait SreQueue: Send + Sync {
    const MAX_ENTRIES: usize = 10;
    fn send_batch(
        &self,
        bodies: &[String],
    ) -> impl Future<Output = PortResult<Vec<EntryOutcome>>> + Send;
}

/// A per-app request limit, checked after authentication (so nobody spends
/// another app's budget by naming it). `Err` is how long until the next
/// request of that app is admitted.
pub trait AppLimit: Send + Sync {
    fn admit(&self, app_id: &str) -> Result<(), std::time::Duration>;
    /// The limit, for the refusal's one line.
    fn describe(&self) -> String;
}

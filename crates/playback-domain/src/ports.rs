//! Every side effect the handlers have, as a trait. AWS adapters live in
//! `playback-aws`; in-memory twins in [`crate::memory`].

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::features::ViewerFeatures;
use crate::qoe::{Alert, PartialWindow, Window, WindowTotals};
use crate::sre::{Incident, SreCounts, SreKey};

/// A failed side effect. Handlers treat every one as retriable: the records
/// involved are reported as batch item failures and nothing is acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PortError {
    #[error("{operation} failed: {message}")]
    Unavailable {
        operation: &'static str,
        message: String,
    },
    #[error("stored item is corrupt: {0}")]
    Corrupt(String),
}

pub type PortResult<T> = Result<T, PortError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved,
    /// The stored position moved since it was read (someone else wrote).
    Conflict,
}

pub trait FeatureStore: Send + Sync {
    fn load(
        &self,
        viewer_ids: &[String],
    ) -> impl Future<Output = PortResult<BTreeMap<String, ViewerFeatures>>> + Send;
    /// Writes `f` only if the stored position still equals `expected`.
    fn save(
        &self,
        f: &ViewerFeatures,
        expected: Option<&str>,
    ) -> impl Future<Output = PortResult<SaveOutcome>> + Send;
}

pub trait WindowStore: Send + Sync {
    /// Stores one shard's partials of one window and returns, for each of
    /// `groups` in order, the totals combined over every shard flushed so far.
    /// A shard's contribution is replaced, not added: a retried flush counts
    /// nothing twice.
    fn flush_shard(
        &self,
        window: Window,
        shard_id: &str,
        groups: &[(&str, &str, &PartialWindow)],
    ) -> impl Future<Output = PortResult<Vec<WindowTotals>>> + Send;
}

pub trait AlertSink: Send + Sync {
    /// Records the alert once per title x region x window; true if new.
    fn raise(&self, alert: &Alert) -> impl Future<Output = PortResult<bool>> + Send;
}

/// A refused event, with everything needed to inspect or replay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub consumer: String,
    pub reason_code: String,
    pub reason: String,
    pub event_id: Option<String>,
    /// Where it came from: `shard/sequence/line` or the SQS message id.
    pub source: String,
    /// The original bytes of the event (lossless for UTF-8; else base64 in `payload_base64`).
    pub payload: Option<String>,
    pub payload_base64: Option<String>,
}

pub trait DeadLetters: Send + Sync {
    fn send(&self, letters: &[DeadLetter]) -> impl Future<Output = PortResult<()>> + Send;
}

pub trait SreStore: Send + Sync {
    /// Atomically adds counts to a minute bucket; returns the new totals.
    fn add(
        &self,
        key: &SreKey,
        counts: SreCounts,
    ) -> impl Future<Output = PortResult<SreCounts>> + Send;
    /// Opens the incident once per key and kind; true if new.
    fn open_incident(&self, incident: &Incident) -> impl Future<Output = PortResult<bool>> + Send;
}

impl DeadLetter {
    pub fn new(consumer: &str, source: String, raw: &[u8], invalid: &crate::InvalidEvent) -> Self {
        let (payload, payload_base64) = match std::str::from_utf8(raw) {
            Ok(s) => (Some(s.to_string()), None),
            Err(_) => (None, Some(crate::base64::encode(raw))),
        };
        DeadLetter {
            consumer: consumer.to_string(),
            reason_code: invalid.reason.code().to_string(),
            reason: invalid.reason.to_string(),
            event_id: invalid.event_id.clone(),
            source,
            payload,
            payload_base64,
        }
    }
}

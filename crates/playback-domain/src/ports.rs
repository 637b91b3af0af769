//! Every side effect the handlers have, as a trait. AWS adapters live in
//! `playback-aws`; in-memory twins in [`crate::memory`].

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::features::ViewerFeatures;
use crate::long_horizon::LongHorizonFeatures;
use crate::qoe::{Alert, PartialWindow, Window, WindowTotals};
use crate::sre::incident::Incident;
use crate::sre::{IncidentKind, SreCounts, SreKey};

/// Whether the same call can succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// Throttling, a 5xx, a timeout, a dropped connection, work left
    /// unprocessed: back off and try again.
    Retriable,
    /// The request or the deployment is wrong (permissions, a missing
    /// resource, invalid input, a disabled key, a corrupt item): every retry
    /// fails the same way.
    NonRetriable,
}

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Retry::Retriable => "retriable",
            Retry::NonRetriable => "non-retriable",
        })
    }
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failed side effect. Handlers retry the retriable ones (batch item
/// failures) and fail the whole invocation loudly on the others.
#[derive(Debug, Error)]
pub enum PortError {
    /// A call to the backing service failed; `code` is the service's error
    /// code when it answered with one.
    #[error("{operation} failed ({class}{})", code_suffix(.code))]
    Call {
        operation: &'static str,
        class: Retry,
        code: Option<String>,
        #[source]
        source: BoxError,
    },
    /// Part of a batch was still unprocessed when the retry budget ran out.
    #[error("{operation}: {detail}")]
    Unprocessed {
        operation: &'static str,
        detail: String,
    },
    #[error("stored item is corrupt: {0}")]
    Corrupt(String),
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(", {c}"))
        .unwrap_or_default()
}

impl PortError {
    pub fn call(
        operation: &'static str,
        class: Retry,
        code: Option<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        PortError::Call {
            operation,
            class,
            code,
            source: source.into(),
        }
    }

    pub fn class(&self) -> Retry {
        match self {
            PortError::Call { class, .. } => *class,
            PortError::Unprocessed { .. } => Retry::Retriable,
            // The same bytes decode the same way next time.
            PortError::Corrupt(_) => Retry::NonRetriable,
        }
    }

    pub fn is_retriable(&self) -> bool {
        self.class() == Retry::Retriable
    }
}

/// An error and its sources on one line (`a: b: c`), for logs.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    Written,
    /// The stored long-horizon features are from this run or a later one.
    Stale,
}

/// A viewer's long-horizon features as the online store holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub features: LongHorizonFeatures,
    /// When the batch wrote them (epoch ms).
    pub published_ms: i64,
}

/// The batch side of the online store. It writes only its own attributes,
/// versioned by the run's `as_of`; the stream writes only the session ones,
/// versioned by stream position: the two writers commute.
pub trait LongHorizonStore: Send + Sync {
    /// Writes `f` unless the stored features are from `f.as_of_ms` or later.
    fn publish(
        &self,
        f: &LongHorizonFeatures,
        published_ms: i64,
    ) -> impl Future<Output = PortResult<PublishOutcome>> + Send;
    fn load_published(
        &self,
        viewer_ids: &[String],
    ) -> impl Future<Output = PortResult<BTreeMap<String, Published>>> + Send;
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
    /// Not idempotent: an SQS redelivery adds its message's counts again.
    fn add(
        &self,
        key: &SreKey,
        counts: SreCounts,
    ) -> impl Future<Output = PortResult<SreCounts>> + Send;
    /// The slice's counts summed over the `minutes` minutes before `key`'s.
    fn baseline(
        &self,
        key: &SreKey,
        minutes: u32,
    ) -> impl Future<Output = PortResult<SreCounts>> + Send;
    /// The slice's current incident of each kind (open or last resolved).
    fn incidents(&self, key: &SreKey) -> impl Future<Output = PortResult<Vec<Incident>>> + Send;
    /// Writes a new open incident unless the slice has one open of that kind,
    /// or one resolved at or after its minute; true if written.
    fn open_incident(&self, incident: &Incident) -> impl Future<Output = PortResult<bool>> + Send;
    /// Stores the open incident's new last breach, peak, resolution or
    /// `notified`, if it is still the same open incident; true if written.
    fn update_incident(&self, incident: &Incident)
        -> impl Future<Output = PortResult<bool>> + Send;
}

/// Pages the on-call topic about an SRE incident.
pub trait IncidentPager: Send + Sync {
    fn page(&self, incident: &Incident) -> impl Future<Output = PortResult<()>> + Send;
}

/// The store key of a slice's incident of one kind.
pub fn incident_id(key: &SreKey, kind: IncidentKind) -> String {
    format!("{}#{}", key.dimensions(), kind.as_str())
}

impl DeadLetter {
    pub fn new(consumer: &str, source: String, raw: &[u8], invalid: &crate::InvalidEvent) -> Self {
        let (payload, payload_base64) = match std::str::from_utf8(raw) {
            Ok(s) => (Some(s.to_string()), None),
            Err(_) => (None, Some(base64_of(raw))),
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

/// Standard base64, for the rare non-UTF-8 dead letter.
fn base64_of(raw: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(raw)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_binary_payload_is_kept_as_base64() {
        let decoded = crate::decode_record(b"\xff\xfe{", crate::Clock::at(0));
        let d = &decoded[0];
        let invalid = d.result.as_ref().expect_err("not an event");
        let l = super::DeadLetter::new("c", "s".into(), d.raw, invalid);
        assert_eq!(l.payload_base64.as_deref(), Some("//57"));
        assert!(l.payload.is_none());
    }
}

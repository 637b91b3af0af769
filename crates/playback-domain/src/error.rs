//! Why an event or record was refused. Every reason has a stable code that
//! lands in the DLQ message, so SRE can group poison pills by cause.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Reason {
    #[error("record is not valid UTF-8")]
    NotUtf8,
    #[error("record of {size} bytes exceeds the {limit}-byte limit")]
    Oversized { size: usize, limit: usize },
    #[error("record packs {events} events, over the {limit}-event limit")]
    TooManyEvents { events: usize, limit: usize },
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("bad type: {0}")]
    BadType(String),
    #[error("missing required field `{0}`")]
    MissingField(&'static str),
    #[error("unknown event_type {0:?}")]
    UnknownEventType(String),
    #[error("negative duration in `{0}`")]
    NegativeDuration(&'static str),
    #[error("bad event_time {0}")]
    BadTimestamp(String),
    #[error("event_time {event_time_ms} is too far in the future (now {now_ms})")]
    EventTimeInFuture { event_time_ms: i64, now_ms: i64 },
    #[error("unsupported schema_version {0}")]
    UnsupportedSchemaVersion(u32),
}

impl Reason {
    /// Stable machine-readable code (DLQ message attribute, metrics dimension).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NotUtf8 => "not_utf8",
            Reason::Oversized { .. } | Reason::TooManyEvents { .. } => "oversized",
            Reason::MalformedJson(_) => "malformed_json",
            Reason::BadType(_) => "bad_type",
            Reason::MissingField(_) => "missing_field",
            Reason::UnknownEventType(_) => "unknown_event_type",
            Reason::NegativeDuration(_) => "negative_duration",
            Reason::BadTimestamp(_) => "bad_timestamp",
            Reason::EventTimeInFuture { .. } => "event_time_in_future",
            Reason::UnsupportedSchemaVersion(_) => "unsupported_schema_version",
        }
    }
}

/// A refused event: the reason plus its event_id when one could be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct InvalidEvent {
    pub reason: Reason,
    pub event_id: Option<String>,
}

impl InvalidEvent {
    pub fn new(reason: Reason, event_id: Option<String>) -> Self {
        InvalidEvent { reason, event_id }
    }
}

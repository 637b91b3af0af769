//! What a bad firmware build does to an event on its way out.

use playback_domain::OwnedEvent;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How far in the future a broken device clock puts `event_time` (~5 years).
pub const FUTURE_OFFSET_MS: i64 = 5 * 365 * 86_400_000;

/// Event types no version of the contract knows.
const BOGUS_TYPES: [&str; 3] = ["ad_impression", "heartbeat_v2", "HEARTBEAT"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MalformedKind {
    MissingTitleId,
    UnknownEventType,
    NegativeWatchedMs,
    TruncatedJson,
    FutureEventTime,
}

impl MalformedKind {
    pub const ALL: [MalformedKind; 5] = [
        MalformedKind::MissingTitleId,
        MalformedKind::UnknownEventType,
        MalformedKind::NegativeWatchedMs,
        MalformedKind::TruncatedJson,
        MalformedKind::FutureEventTime,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MalformedKind::MissingTitleId => "missing_title_id",
            MalformedKind::UnknownEventType => "unknown_event_type",
            MalformedKind::NegativeWatchedMs => "negative_watched_ms",
            MalformedKind::TruncatedJson => "truncated_json",
            MalformedKind::FutureEventTime => "future_event_time",
        }
    }

    /// The `playback_domain::Reason::code()` validation gives this kind of line
    /// (future times only while the validating clock is less than ~5 years on).
    pub fn reason_code(self) -> &'static str {
        match self {
            MalformedKind::MissingTitleId => "missing_field",
            MalformedKind::UnknownEventType => "unknown_event_type",
            MalformedKind::NegativeWatchedMs => "negative_duration",
            MalformedKind::TruncatedJson => "malformed_json",
            MalformedKind::FutureEventTime => "event_time_in_future",
        }
    }
}

/// A corrupted line: the JSON as sent plus the fields as they appear in it.
#[derive(Debug, Clone)]
pub struct Corrupted {
    pub json: String,
    pub event_time_ms: i64,
    pub watched_ms: Option<i64>,
}

/// Serialises `event` the way a broken build would, for one `kind`.
pub fn corrupt<R: Rng>(mut event: OwnedEvent, kind: MalformedKind, rng: &mut R) -> Corrupted {
    match kind {
        MalformedKind::FutureEventTime => {
            event.event_time_ms += FUTURE_OFFSET_MS + rng.random_range(0..86_400_000);
            return plain(event);
        }
        MalformedKind::NegativeWatchedMs => {
            let w = event.watched_ms.unwrap_or(0).max(1);
            event.watched_ms = Some(-rng.random_range(1..=w));
            return plain(event);
        }
        MalformedKind::TruncatedJson => {
            let full = event.to_json();
            let mut cut = (full.len() as f64 * rng.random_range(0.3..0.8)) as usize;
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            return Corrupted {
                json: full[..cut].to_string(),
                event_time_ms: event.event_time_ms,
                watched_ms: event.watched_ms,
            };
        }
        MalformedKind::MissingTitleId | MalformedKind::UnknownEventType => {}
    }
    let mut v: Value = serde_json::from_str(&event.to_json()).expect("to_json is JSON");
    let obj = v.as_object_mut().expect("event is an object");
    if kind == MalformedKind::MissingTitleId {
        obj.remove("title_id");
    } else {
        let bogus = BOGUS_TYPES[rng.random_range(0..BOGUS_TYPES.len())];
        obj.insert("event_type".into(), bogus.into());
    }
    Corrupted {
        json: v.to_string(),
        event_time_ms: event.event_time_ms,
        watched_ms: event.watched_ms,
    }
}

fn plain(event: OwnedEvent) -> Corrupted {
    Corrupted {
        json: event.to_json(),
        event_time_ms: event.event_time_ms,
        watched_ms: event.watched_ms,
    }
}

//! The playback event contract (events/playback-event.schema.json) as typed Rust.
//!
//! Parsing borrows from the input wherever JSON allows it (`Cow`), so the hot
//! loop of a consumer does not allocate per field.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::error::{InvalidEvent, Reason};

mod time;
mod wire_fast;

pub use time::{format_rfc3339_ms, parse_rfc3339_ms};
use wire_fast::fast_wire;

/// Version of the contract this code implements; events may omit it (read as
/// 1). Version 2 added `startup_ms`; older versions are still accepted.
pub const SCHEMA_VERSION: u32 = 2;
/// One event larger than this is refused (a record packs several, ~5 KB in all).
pub const MAX_EVENT_BYTES: usize = 8 * 1024;
/// Kinesis' own record limit; a larger payload can only be a producer bug.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// At most this many events in one record: Firehose's JSON de-aggregation
/// splits at most 500 sub-records per record, so every consumer refuses a
/// record with more (reason `oversized`, the whole record to the DLQ).
pub const MAX_EVENTS_PER_RECORD: usize = 500;
/// Producers pack events into a record up to this many bytes (an event larger
/// than that goes alone): ~5 KB keeps Kinesis' 25 KB PUT units and
/// Firehose's 5 KB billing increments well used (see `make cost`).
pub const MAX_PACK_BYTES: usize = 5 * 1024;
/// Clock skew tolerated on `event_time` before an event counts as "from the future".
pub const DEFAULT_MAX_FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    SessionStart,
    Heartbeat,
    RebufferStart,
    RebufferEnd,
    BitrateChange,
    Pause,
    Resume,
    Seek,
    Error,
    Skip,
    Save,
    SessionEnd,
}

impl EventType {
    pub const ALL: [EventType; 12] = [
        EventType::SessionStart,
        EventType::Heartbeat,
        EventType::RebufferStart,
        EventType::RebufferEnd,
        EventType::BitrateChange,
        EventType::Pause,
        EventType::Resume,
        EventType::Seek,
        EventType::Error,
        EventType::Skip,
        EventType::Save,
        EventType::SessionEnd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::SessionStart => "session_start",
            EventType::Heartbeat => "heartbeat",
            EventType::RebufferStart => "rebuffer_start",
            EventType::RebufferEnd => "rebuffer_end",
            EventType::BitrateChange => "bitrate_change",
            EventType::Pause => "pause",
            EventType::Resume => "resume",
            EventType::Seek => "seek",
            EventType::Error => "error",
            EventType::Skip => "skip",
            EventType::Save => "save",
            EventType::SessionEnd => "session_end",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Events producers also send to the SRE queue.
    pub fn is_playback_quality(self) -> bool {
        matches!(
            self,
            EventType::Error
                | EventType::RebufferStart
                | EventType::RebufferEnd
                | EventType::BitrateChange
        )
    }
}

/// A validated event. Durations are non-negative, `event_time_ms` is UTC epoch millis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaybackEvent<'a> {
    pub event_id: Cow<'a, str>,
    pub event_type: EventType,
    pub event_time_ms: i64,
    pub viewer_id: Cow<'a, str>,
    pub session_id: Cow<'a, str>,
    pub title_id: Cow<'a, str>,
    pub region: Cow<'a, str>,
    pub watched_ms: Option<i64>,
    pub stalled_ms: Option<i64>,
    pub bitrate_kbps: Option<i64>,
    pub position_ms: Option<i64>,
    pub device_platform: Option<Cow<'a, str>>,
    pub app_version: Option<Cow<'a, str>>,
    pub error_code: Option<Cow<'a, str>>,
    /// Play request to first frame (v2, on `session_start`).
    pub startup_ms: Option<i64>,
    /// The version the producer declared; absent or null is 1.
    pub schema_version: u32,
}

pub type OwnedEvent = PlaybackEvent<'static>;

/// Wire shape: every field optional so that a missing one becomes a typed reason
/// rather than an opaque serde message.
#[derive(Deserialize)]
pub(crate) struct WireEvent<'a> {
    #[serde(default)]
    pub(crate) schema_version: Option<u32>,
    #[serde(borrow, default)]
    pub(crate) event_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) event_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) event_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) viewer_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) title_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) region: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) watched_ms: Option<i64>,
    #[serde(default)]
    pub(crate) stalled_ms: Option<i64>,
    #[serde(default)]
    pub(crate) bitrate_kbps: Option<i64>,
    #[serde(default)]
    pub(crate) position_ms: Option<i64>,
    #[serde(borrow, default)]
    pub(crate) device_platform: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) app_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) error_code: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) startup_ms: Option<i64>,
}

fn required<'a>(v: Option<Cow<'a, str>>, field: &'static str) -> Result<Cow<'a, str>, Reason> {
    match v {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(Reason::MissingField(field)),
    }
}

fn non_negative(v: Option<i64>, field: &'static str) -> Result<Option<i64>, Reason> {
    match v {
        Some(n) if n < 0 => Err(Reason::NegativeDuration(field)),
        other => Ok(other),
    }
}

/// Parses and validates one JSON event. `now_ms` bounds how far in the future
/// `event_time` may be (`max_future_skew_ms`).
pub fn parse_event<'a>(
    json: &'a str,
    now_ms: i64,
    max_future_skew_ms: i64,
) -> Result<PlaybackEvent<'a>, InvalidEvent> {
    let wire = match fast_wire(json) {
        Some(wire) => wire,
        // serde's derive would read `[id, type, ...]` as the fields in order.
        None if json.trim_start().starts_with('[') => {
            let why = "an event is a JSON object, not an array".to_string();
            return Err(InvalidEvent::new(Reason::BadType(why), None));
        }
        None => serde_json::from_str::<WireEvent<'a>>(json).map_err(|e| {
            let reason = if e.is_data() {
                Reason::BadType(e.to_string())
            } else {
                Reason::MalformedJson(e.to_string())
            };
            InvalidEvent::new(reason, None)
        })?,
    };
    let event_id = wire.event_id.clone().filter(|s| !s.trim().is_empty());
    validate(wire, now_ms, max_future_skew_ms)
        .map_err(|reason| InvalidEvent::new(reason, event_id.map(Cow::into_owned)))
}

fn validate<'a>(w: WireEvent<'a>, now_ms: i64, skew_ms: i64) -> Result<PlaybackEvent<'a>, Reason> {
    let schema_version = w.schema_version.unwrap_or(1);
    if schema_version > SCHEMA_VERSION {
        return Err(Reason::UnsupportedSchemaVersion(schema_version));
    }
    let event_id = required(w.event_id, "event_id")?;
    let type_str = required(w.event_type, "event_type")?;
    let event_type = EventType::parse(&type_str)
        .ok_or_else(|| Reason::UnknownEventType(type_str.into_owned()))?;
    let time_str = required(w.event_time, "event_time")?;
    let event_time_ms = parse_rfc3339_ms(&time_str)?;
    if event_time_ms > now_ms + skew_ms {
        return Err(Reason::EventTimeInFuture {
            event_time_ms,
            now_ms,
        });
    }
    Ok(PlaybackEvent {
        event_id,
        event_type,
        event_time_ms,
        viewer_id: required(w.viewer_id, "viewer_id")?,
        session_id: required(w.session_id, "session_id")?,
        title_id: required(w.title_id, "title_id")?,
        region: required(w.region, "region")?,
        watched_ms: non_negative(w.watched_ms, "watched_ms")?,
        stalled_ms: non_negative(w.stalled_ms, "stalled_ms")?,
        bitrate_kbps: non_negative(w.bitrate_kbps, "bitrate_kbps")?,
        position_ms: non_negative(w.position_ms, "position_ms")?,
        device_platform: w.device_platform,
        app_version: w.app_version,
        error_code: w.error_code,
        startup_ms: non_negative(w.startup_ms, "startup_ms")?,
        schema_version,
    })
}

impl PlaybackEvent<'_> {
    pub fn into_owned(self) -> OwnedEvent {
        fn own(c: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(c.into_owned())
        }
        PlaybackEvent {
            event_id: own(self.event_id),
            event_type: self.event_type,
            event_time_ms: self.event_time_ms,
            viewer_id: own(self.viewer_id),
            session_id: own(self.session_id),
            title_id: own(self.title_id),
            region: own(self.region),
            watched_ms: self.watched_ms,
            stalled_ms: self.stalled_ms,
            bitrate_kbps: self.bitrate_kbps,
            position_ms: self.position_ms,
            device_platform: self.device_platform.map(own),
            app_version: self.app_version.map(own),
            error_code: self.error_code.map(own),
            startup_ms: self.startup_ms,
            schema_version: self.schema_version,
        }
    }

    /// The contract's JSON form (what producers send and Firehose lands).
    pub fn to_json(&self) -> String {
        let mut v = serde_json::json!({
            "schema_version": self.schema_version,
            "event_id": self.event_id,
            "event_type": self.event_type.as_str(),
            "event_time": format_rfc3339_ms(self.event_time_ms),
            "viewer_id": self.viewer_id,
            "session_id": self.session_id,
            "title_id": self.title_id,
            "region": self.region,
        });
        let m = v.as_object_mut().expect("object literal");
        let nums = [
            ("watched_ms", self.watched_ms),
            ("stalled_ms", self.stalled_ms),
            ("bitrate_kbps", self.bitrate_kbps),
            ("position_ms", self.position_ms),
            ("startup_ms", self.startup_ms),
        ];
        for (k, n) in nums {
            if let Some(n) = n {
                m.insert(k.into(), n.into());
            }
        }
        let strs = [
            ("device_platform", &self.device_platform),
            ("app_version", &self.app_version),
            ("error_code", &self.error_code),
        ];
        for (k, s) in strs {
            if let Some(s) = s {
                m.insert(k.into(), s.as_ref().into());
            }
        }
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = r#"{"event_id":"e1","event_type":"session_start","event_time":"2026-11-23T10:00:00.000Z","viewer_id":"v","session_id":"s","title_id":"t","region":"eu""#;

    fn parse(extra: &str) -> Result<OwnedEvent, InvalidEvent> {
        parse_event(&format!("{START}{extra}}}"), i64::MAX / 2, 0).map(PlaybackEvent::into_owned)
    }

    #[test]
    fn v2_startup_ms_is_read_and_v1_events_still_parse() {
        let v2 = parse(r#","schema_version":2,"startup_ms":1450"#).unwrap();
        assert_eq!((v2.startup_ms, v2.schema_version), (Some(1450), 2));
        let v1 = parse(r#","schema_version":1"#).unwrap();
        assert_eq!((v1.startup_ms, v1.schema_version), (None, 1));
        // Absent means 1 (the contract's rule), so the lake records it as 1.
        assert_eq!(parse("").unwrap().schema_version, 1);
        // The slow path (an escape sends the line to serde_json) reads it too.
        let slow = parse(r#","region2":"\u0041","startup_ms":7"#).unwrap();
        assert_eq!(slow.startup_ms, Some(7));
    }

    #[test]
    fn startup_ms_is_a_non_negative_duration() {
        let err = parse(r#","schema_version":2,"startup_ms":-1"#).unwrap_err();
        assert_eq!(err.reason, Reason::NegativeDuration("startup_ms"));
        assert_eq!(err.event_id.as_deref(), Some("e1"));
        let err = parse(r#","schema_version":3"#).unwrap_err();
        assert_eq!(err.reason, Reason::UnsupportedSchemaVersion(3));
    }

    #[test]
    fn to_json_keeps_the_declared_version_and_startup_ms() {
        for extra in [
            r#","schema_version":2,"startup_ms":900"#,
            r#","schema_version":1"#,
        ] {
            let e = parse(extra).unwrap();
            let back = parse_event(&e.to_json(), i64::MAX / 2, 0)
                .unwrap()
                .into_owned();
            assert_eq!(back, e);
        }
    }
}

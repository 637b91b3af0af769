//! One stream record carries one JSON event or several packed as
//! newline-delimited JSON. Validation is per event, so one bad line never
//! takes its neighbours down with it.

use crate::error::{InvalidEvent, Reason};
use crate::event::{parse_event, PlaybackEvent, MAX_EVENT_BYTES, MAX_RECORD_BYTES};

/// One event slot of a record: its line index, its raw bytes and the verdict.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub index: u32,
    pub raw: &'a [u8],
    pub result: Result<PlaybackEvent<'a>, InvalidEvent>,
}

/// Time bounds used by validation (`now` comes from the caller: pure and testable).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now_ms: i64,
    pub max_future_skew_ms: i64,
}

impl Clock {
    pub fn at(now_ms: i64) -> Self {
        Clock {
            now_ms,
            max_future_skew_ms: crate::event::DEFAULT_MAX_FUTURE_SKEW_MS,
        }
    }

    pub fn now() -> Self {
        Clock::at(chrono::Utc::now().timestamp_millis())
    }
}

/// Splits a record into events and validates each one. Blank lines are skipped.
pub fn decode_record(data: &[u8], clock: Clock) -> Vec<Decoded<'_>> {
    let whole = |reason| {
        vec![Decoded {
            index: 0,
            raw: data,
            result: Err(InvalidEvent::new(reason, None)),
        }]
    };
    if data.len() > MAX_RECORD_BYTES {
        return whole(Reason::Oversized {
            size: data.len(),
            limit: MAX_RECORD_BYTES,
        });
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return whole(Reason::NotUtf8);
    };
    let mut out = Vec::with_capacity(1 + text.len() / 512);
    for (index, line) in text
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let result = if line.len() > MAX_EVENT_BYTES {
            Err(InvalidEvent::new(
                Reason::Oversized {
                    size: line.len(),
                    limit: MAX_EVENT_BYTES,
                },
                None,
            ))
        } else {
            parse_event(line, clock.now_ms, clock.max_future_skew_ms)
        };
        out.push(Decoded {
            index: index as u32,
            raw: line.as_bytes(),
            result,
        });
    }
    if out.is_empty() {
        return whole(Reason::MalformedJson("empty record".into()));
    }
    out
}

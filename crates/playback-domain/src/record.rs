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
    let mut out = Vec::with_capacity(1 + data.len() / 512);
    decode_record_each(data, clock, |d| out.push(d));
    out
}

/// [`decode_record`] without the Vec: `f` gets every event slot in order.
pub fn decode_record_each<'a>(data: &'a [u8], clock: Clock, mut f: impl FnMut(Decoded<'a>)) {
    let whole = |reason| Decoded {
        index: 0,
        raw: data,
        result: Err(InvalidEvent::new(reason, None)),
    };
    if data.len() > MAX_RECORD_BYTES {
        return f(whole(Reason::Oversized {
            size: data.len(),
            limit: MAX_RECORD_BYTES,
        }));
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return f(whole(Reason::NotUtf8));
    };
    let mut count = 0u32;
    for line in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
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
        f(Decoded {
            index: count,
            raw: line.as_bytes(),
            result,
        });
        count += 1;
    }
    if count == 0 {
        f(whole(Reason::MalformedJson("empty record".into())));
    }
}

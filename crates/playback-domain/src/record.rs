//! One stream record carries one JSON event or several packed as
//! newline-delimited JSON. Validation is per event, so one bad line never
//! takes its neighbours down with it.

use crate::error::{InvalidEvent, Reason};
use crate::event::{
    parse_event, PlaybackEvent, MAX_EVENTS_PER_RECORD, MAX_EVENT_BYTES, MAX_RECORD_BYTES,
};

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
    // Newlines bound the line count from above; count exactly only past the cap.
    if data.iter().filter(|&&b| b == b'\n').count() >= MAX_EVENTS_PER_RECORD {
        let events = text.split('\n').filter(|l| !l.trim().is_empty()).count();
        if events > MAX_EVENTS_PER_RECORD {
            return f(whole(Reason::TooManyEvents {
                events,
                limit: MAX_EVENTS_PER_RECORD,
            }));
        }
    }
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

/// A record packing `n` valid heartbeats (`e0`..), for tests of the
/// per-record caps in every consumer.
pub fn sample_packed_record(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"event_id":"e{i}","event_type":"heartbeat","event_time":"2026-11-23T10:00:00.000Z","viewer_id":"v","session_id":"s","title_id":"t","region":"eu","watched_ms":10}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(n: usize) -> String {
        sample_packed_record(n)
    }

    #[test]
    fn a_record_of_500_events_is_decoded_event_by_event() {
        let data = packed(MAX_EVENTS_PER_RECORD) + "\n\n";
        let out = decode_record(data.as_bytes(), Clock::at(1_795_478_399_999));
        assert_eq!(out.len(), 500);
        assert!(out.iter().all(|d| d.result.is_ok()));
        assert_eq!(out[499].index, 499);
    }

    #[test]
    fn a_record_of_501_events_is_refused_whole_as_oversized() {
        let data = packed(MAX_EVENTS_PER_RECORD + 1);
        let out = decode_record(data.as_bytes(), Clock::at(1_795_478_399_999));
        assert_eq!(out.len(), 1, "one verdict for the whole record");
        assert_eq!(out[0].raw, data.as_bytes(), "the record kept for the DLQ");
        let err = out[0].result.as_ref().unwrap_err();
        assert_eq!(err.reason.code(), "oversized");
        assert_eq!(
            err.reason,
            Reason::TooManyEvents {
                events: 501,
                limit: 500
            }
        );
    }

    #[test]
    fn blank_lines_do_not_count_towards_the_cap() {
        let data = packed(10) + &"\n".repeat(1_000);
        let out = decode_record(data.as_bytes(), Clock::at(1_795_478_399_999));
        assert_eq!(out.len(), 10);
    }
}

//! The accepted events' lines and what they are packed into: the contract's
//! validation, the server-side enrichment, Kinesis records per viewer, SRE
//! message bodies.

use playback_domain::event::{format_rfc3339_ms, parse_event};
use playback_domain::event::{MAX_EVENTS_PER_RECORD, MAX_EVENT_BYTES, MAX_PACK_BYTES};
use playback_domain::sre::feeds_sre;
use playback_domain::{Clock, InvalidEvent, PlaybackEvent, Reason};

use crate::ports::StreamRecord;
use crate::MAX_SRE_BODY_BYTES;

/// One event by the domain's rules, as the consumers check a record's line.
pub fn validate(line: &str, clock: Clock) -> Result<PlaybackEvent<'_>, InvalidEvent> {
    if line.len() > MAX_EVENT_BYTES {
        let reason = Reason::Oversized {
            size: line.len(),
            limit: MAX_EVENT_BYTES,
        };
        return Err(InvalidEvent::new(reason, None));
    }
    parse_event(line, clock.now_ms, clock.max_future_skew_ms)
}

/// The contract's JSON of the event plus `collector_time` and `app_id`, set
/// by the server (a client's own values are dropped by the re-serialisation).
pub fn enriched_line(e: &PlaybackEvent<'_>, app_id: &str, received_ms: i64) -> String {
    let mut line = e.to_json();
    line.pop(); // the closing brace of the object
    line.push_str(",\"collector_time\":");
    line.push_str(&serde_json::Value::from(format_rfc3339_ms(received_ms)).to_string());
    line.push_str(",\"app_id\":");
    line.push_str(&serde_json::Value::from(app_id).to_string());
    line.push('}');
    line
}

/// Lines into NDJSON records per viewer, in the batch's order: at most
/// [`MAX_PACK_BYTES`] and [`MAX_EVENTS_PER_RECORD`] each (a larger line goes
/// alone), partition key = viewer_id so a viewer's events stay on one shard.
pub fn pack(lines: &[(PlaybackEvent<'_>, String)]) -> Vec<StreamRecord> {
    let mut open: Vec<(String, Vec<u8>, usize)> = Vec::new();
    let mut out = Vec::new();
    for (e, line) in lines {
        let key = e.viewer_id.as_ref();
        let slot = open.iter().position(|(k, _, _)| k == key);
        if let Some(i) = slot {
            let (_, data, n) = &open[i];
            if data.len() + 1 + line.len() > MAX_PACK_BYTES || *n >= MAX_EVENTS_PER_RECORD {
                let (k, data, _) = open.remove(i);
                out.push(StreamRecord {
                    partition_key: k,
                    data,
                });
            }
        }
        match open.iter_mut().find(|(k, _, _)| k == key) {
            Some((_, data, n)) => {
                data.push(b'\n');
                data.extend_from_slice(line.as_bytes());
                *n += 1;
            }
            None => open.push((key.to_string(), line.as_bytes().to_vec(), 1)),
        }
    }
    out.extend(open.into_iter().map(|(k, data, _)| StreamRecord {
        partition_key: k,
        data,
    }));
    out
}

/// The SRE path's lines (`sre::feeds_sre`: quality events and their
/// denominators) packed into message bodies of at most
/// [`MAX_SRE_BODY_BYTES`] and [`MAX_EVENTS_PER_RECORD`] lines.
pub fn sre_bodies(lines: &[(PlaybackEvent<'_>, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut n = 0;
    for (_, line) in lines.iter().filter(|(e, _)| feeds_sre(e.event_type)) {
        match out.last_mut() {
            Some(body)
                if body.len() + 1 + line.len() <= MAX_SRE_BODY_BYTES
                    && n < MAX_EVENTS_PER_RECORD =>
            {
                body.push('\n');
                body.push_str(line);
                n += 1;
            }
            _ => {
                out.push(line.clone());
                n = 1;
            }
        }
    }
    out
}

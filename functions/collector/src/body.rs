//! A request body into event slots: gzip undone (bounded), then a JSON array
//! or NDJSON split into the raw JSON of each event. Validation of each event
//! is the domain's (`parse_event`); only a body that cannot be split at all
//! fails the request.

use std::io::Read;

use serde_json::value::RawValue;

/// At most this many events per request (as in one packed record).
pub const MAX_EVENTS_PER_REQUEST: usize = playback_domain::event::MAX_EVENTS_PER_RECORD;
/// The body after gzip is undone (Kinesis' record limit).
pub const MAX_DECODED_BYTES: usize = 1024 * 1024;
/// A gzip body as sent.
pub const MAX_GZIP_BYTES: usize = 256 * 1024;

/// Why a body is refused as a whole: the status and a one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: String,
}

fn refuse(status: u16, reason: impl Into<String>) -> Refusal {
    Refusal {
        status,
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonArray,
    Ndjson,
}

/// `Content-Type` to a format: absent, the first byte decides.
pub fn format_of(content_type: Option<&str>, body: &[u8]) -> Result<Format, Refusal> {
    let essence = content_type.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match essence.as_deref() {
        Some("application/json") => Ok(Format::JsonArray),
        Some("application/x-ndjson") | Some("application/jsonl") => Ok(Format::Ndjson),
        None | Some("") => Ok(match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[') => Format::JsonArray,
            _ => Format::Ndjson,
        }),
        Some(other) => Err(refuse(
            415,
            format!("Content-Type {other} is not application/json or application/x-ndjson"),
        )),
    }
}

/// Undoes `Content-Encoding` within the limits.
pub fn decode(encoding: Option<&str>, body: &[u8]) -> Result<Vec<u8>, Refusal> {
    let too_big = |n: usize| {
        refuse(
            413,
            format!("body of {n}+ bytes exceeds the {MAX_DECODED_BYTES}-byte decoded limit"),
        )
    };
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("identity") => {
            if body.len() > MAX_DECODED_BYTES {
                return Err(too_big(body.len()));
            }
            Ok(body.to_vec())
        }
        Some("gzip") => {
            if body.len() > MAX_GZIP_BYTES {
                return Err(refuse(
                    413,
                    format!(
                        "gzip body of {} bytes exceeds the {MAX_GZIP_BYTES}-byte limit",
                        body.len()
                    ),
                ));
            }
            let mut out = Vec::with_capacity(body.len() * 4);
            // One byte past the limit proves it is over, without inflating a bomb.
            flate2::read::GzDecoder::new(body)
                .take(MAX_DECODED_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| refuse(400, format!("gzip body does not inflate: {e}")))?;
            if out.len() > MAX_DECODED_BYTES {
                return Err(too_big(out.len()));
            }
            Ok(out)
        }
        Some(other) => Err(refuse(
            415,
            format!("Content-Encoding {other} is not supported (gzip or none)"),
        )),
    }
}

/// The raw JSON of each event, in order, at most [`MAX_EVENTS_PER_REQUEST`].
pub fn split(format: Format, body: &[u8]) -> Result<Vec<&str>, Refusal> {
    let text =
        std::str::from_utf8(body).map_err(|e| refuse(400, format!("body is not UTF-8: {e}")))?;
    let events: Vec<&str> = match format {
        Format::JsonArray => serde_json::from_str::<Vec<&RawValue>>(text)
            .map_err(|e| refuse(400, format!("body is not a JSON array of events: {e}")))?
            .into_iter()
            .map(RawValue::get)
            .collect(),
        Format::Ndjson => text
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect(),
    };
    if events.is_empty() {
        return Err(refuse(400, "body holds no events"));
    }
    if events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(refuse(
            413,
            format!(
                "{} events exceed the {MAX_EVENTS_PER_REQUEST}-event limit per request",
                events.len()
            ),
        ));
    }
    Ok(events)
}

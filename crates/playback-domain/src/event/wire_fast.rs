//! A specialised parser for the flat event object producers send: the common
//! case without serde, anything unusual handed back to serde_json.

use std::borrow::Cow;

use super::WireEvent;

/// The flat object producers send, parsed without serde: only string, integer
/// and null values, no escapes, each known key at most once. Anything else
/// (an escape, a float, a nested value, an unknown or repeated key, a syntax
/// error) returns `None` and goes to serde_json, which decides and explains;
/// so the accepted events and their values are exactly serde_json's.
pub(super) fn fast_wire(json: &str) -> Option<WireEvent<'_>> {
    let b = json.as_bytes();
    let mut i = 0;
    let ws = |i: &mut usize| {
        while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    };
    // A string without escapes: the slice between the quotes.
    let string = |i: &mut usize| -> Option<&str> {
        if b.get(*i) != Some(&b'"') {
            return None;
        }
        let start = *i + 1;
        let j = stop_byte(b, start)?;
        if b[j] != b'"' {
            return None; // an escape or a control character: serde_json's job
        }
        *i = j + 1;
        Some(&json[start..j])
    };
    let mut w = WireEvent {
        schema_version: None,
        event_id: None,
        event_type: None,
        event_time: None,
        viewer_id: None,
        session_id: None,
        title_id: None,
        region: None,
        watched_ms: None,
        stalled_ms: None,
        bitrate_kbps: None,
        position_ms: None,
        device_platform: None,
        app_version: None,
        error_code: None,
        startup_ms: None,
    };
    let mut seen = 0u16;
    ws(&mut i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    ws(&mut i);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            let key = string(&mut i)?;
            ws(&mut i);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            ws(&mut i);
            // The value: a string, an integer, or null.
            enum V<'s> {
                S(&'s str),
                N(i64),
                Null,
            }
            let v = match b.get(i)? {
                b'"' => V::S(string(&mut i)?),
                b'n' => {
                    if b.get(i..i + 4)? != b"null" {
                        return None;
                    }
                    i += 4;
                    V::Null
                }
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    if b[i] == b'-' {
                        i += 1;
                    }
                    let digits = i;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    let n = i - digits;
                    // serde_json's integer grammar: no leading zeros; a
                    // fraction or exponent is not ours to judge.
                    // `-0` is a float to serde_json.
                    let negative_zero = digits > start && n == 1 && b[digits] == b'0';
                    if n == 0 || n > 18 || (n > 1 && b[digits] == b'0') || negative_zero {
                        return None;
                    }
                    if matches!(b.get(i), Some(b'.' | b'e' | b'E')) {
                        return None;
                    }
                    V::N(json[start..i].parse().ok()?)
                }
                _ => return None,
            };
            let slot = match key {
                "schema_version" => 0,
                "event_id" => 1,
                "event_type" => 2,
                "event_time" => 3,
                "viewer_id" => 4,
                "session_id" => 5,
                "title_id" => 6,
                "region" => 7,
                "watched_ms" => 8,
                "stalled_ms" => 9,
                "bitrate_kbps" => 10,
                "position_ms" => 11,
                "device_platform" => 12,
                "app_version" => 13,
                "error_code" => 14,
                "startup_ms" => 15,
                _ => return None,
            };
            if seen & (1 << slot) != 0 {
                return None;
            }
            seen |= 1 << slot;
            fn text(v: V<'_>) -> Option<Option<Cow<'_, str>>> {
                match v {
                    V::S(s) => Some(Some(Cow::Borrowed(s))),
                    V::Null => Some(None),
                    V::N(_) => None,
                }
            }
            fn int(v: V<'_>) -> Option<Option<i64>> {
                match v {
                    V::N(n) => Some(Some(n)),
                    V::Null => Some(None),
                    V::S(_) => None,
                }
            }
            match slot {
                0 => {
                    w.schema_version = match int(v)? {
                        Some(n) => Some(u32::try_from(n).ok()?),
                        None => None,
                    }
                }
                1 => w.event_id = text(v)?,
                2 => w.event_type = text(v)?,
                3 => w.event_time = text(v)?,
                4 => w.viewer_id = text(v)?,
                5 => w.session_id = text(v)?,
                6 => w.title_id = text(v)?,
                7 => w.region = text(v)?,
                8 => w.watched_ms = int(v)?,
                9 => w.stalled_ms = int(v)?,
                10 => w.bitrate_kbps = int(v)?,
                11 => w.position_ms = int(v)?,
                12 => w.device_platform = text(v)?,
                13 => w.app_version = text(v)?,
                14 => w.error_code = text(v)?,
                _ => w.startup_ms = int(v)?,
            }
            ws(&mut i);
            match b.get(i)? {
                b',' => {
                    i += 1;
                    ws(&mut i);
                }
                b'}' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    ws(&mut i);
    (i == b.len()).then_some(w)
}

/// The first `"`, `\\` or control byte at or after `from`, eight bytes at a
/// time: string scanning was 60 % of this parser byte by byte. In each mask
/// the lowest flagged byte is exact (borrows only flag bytes above a real
/// match), so the lowest bit of their union is the first stop byte.
fn stop_byte(b: &[u8], mut j: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = ONES * 0x80;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    while let Some(chunk) = b.get(j..j + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let quote = zero_byte(w ^ (ONES * b'"' as u64));
        let backslash = zero_byte(w ^ (ONES * b'\\' as u64));
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let m = quote | backslash | control;
        if m != 0 {
            return Some(j + (m.trailing_zeros() / 8) as usize);
        }
        j += 8;
    }
    (j..b.len()).find(|&k| matches!(b[k], b'"' | b'\\' | 0..=0x1f))
}

#[cfg(test)]
#[path = "wire_fast_tests.rs"]
mod tests;

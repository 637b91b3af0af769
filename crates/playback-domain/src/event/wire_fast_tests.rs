//! The fast parser against serde_json. Two kinds of checks, and both matter:
//! equivalence (whatever the fast path accepts, serde_json accepts with the
//! same values) can pass vacuously if the fast path refused everything, so
//! the shapes producers really send must also be *taken* by the fast path.

use std::borrow::Cow;

use base64::Engine;

use super::*;
use crate::event::{EventType, OwnedEvent};

/// Every value of a wire event, for comparing two parses.
fn key(w: &WireEvent<'_>) -> String {
    format!(
        "{:?} {:?}",
        (
            w.schema_version,
            &w.event_id,
            &w.event_type,
            &w.event_time,
            &w.viewer_id,
            &w.session_id,
            &w.title_id,
            &w.region
        ),
        (
            w.watched_ms,
            w.stalled_ms,
            w.bitrate_kbps,
            w.position_ms,
            &w.device_platform,
            &w.app_version,
            &w.error_code,
            w.startup_ms
        )
    )
}

/// Fails if the fast path accepts what serde_json refuses or reads other
/// values; returns whether the fast path accepted.
fn same(json: &str) -> bool {
    let fast = fast_wire(json);
    let slow: Result<WireEvent<'_>, _> = serde_json::from_str(json);
    match fast {
        Some(f) => {
            let s = slow.unwrap_or_else(|e| {
                panic!("fast accepted what serde_json refuses: {json:?} ({e})")
            });
            assert_eq!(key(&f), key(&s), "{json:?}");
            true
        }
        None => false,
    }
}

/// A shape producers send: the fast path must take it (and agree).
fn fast_takes(json: &str) {
    assert!(
        same(json),
        "the fast path refused a common event, so it went to serde_json: {json}"
    );
}

/// Every NDJSON line of every Lambda payload in events/samples/.
fn sample_lines() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/samples");
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("events/samples")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let records = doc
            .get("Records")
            .or_else(|| doc.get("records"))
            .and_then(|r| r.as_array())
            .unwrap_or_else(|| panic!("{name}: no Records/records"));
        for r in records {
            let data = if let Some(k) = r.get("kinesis") {
                String::from_utf8(b64.decode(k["data"].as_str().unwrap()).unwrap()).unwrap()
            } else if let Some(body) = r.get("body") {
                body.as_str().unwrap().to_string()
            } else {
                String::from_utf8(b64.decode(r["data"].as_str().unwrap()).unwrap()).unwrap()
            };
            for line in data.lines().filter(|l| !l.trim().is_empty()) {
                out.push((name.clone(), line.to_string()));
            }
        }
    }
    out
}

#[test]
fn fast_path_takes_every_well_formed_sample_event() {
    let lines = sample_lines();
    let mut taken = 0;
    for (file, line) in &lines {
        let serde_ok = serde_json::from_str::<WireEvent<'_>>(line).is_ok();
        // The samples are what producers send: no escapes, no floats. So
        // every line serde_json reads, the fast path must read too.
        assert_eq!(same(line), serde_ok, "{file}: {line}");
        taken += serde_ok as usize;
    }
    assert!(lines.len() >= 35, "only {} sample lines", lines.len());
    assert!(taken + 2 >= lines.len(), "{taken} of {} taken", lines.len());
}

#[test]
fn stop_byte_finds_the_first_quote_escape_or_control_at_any_offset() {
    let naive =
        |b: &[u8], from: usize| (from..b.len()).find(|&k| matches!(b[k], b'"' | b'\\' | 0..=0x1f));
    for len in 0..24 {
        for at in 0..=len {
            for stop in [b'"', b'\\', b'\n', 0x00, 0x1f] {
                for filler in [b'a', 0x20, 0x7f, 0xc3, 0xff, b'!', b'#', b'[', b']'] {
                    let mut v = vec![filler; len];
                    if at < len {
                        v[at] = stop;
                    }
                    for from in [0, 1, 3] {
                        assert_eq!(
                            super::stop_byte(&v, from),
                            naive(&v, from),
                            "{v:?} from {from}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn fast_parser_agrees_with_serde_json() {
    // (input, whether the fast path must take it; where not, only agreement
    // is asserted: serde_json may answer, and a faster fast path may take it)
    let cases = [
        (
            r#"{"event_id":"e1","event_type":"heartbeat","event_time":"2026-11-23T10:00:00Z","viewer_id":"v","session_id":"s","title_id":"t","region":"eu","watched_ms":10000,"stalled_ms":0}"#,
            true,
        ),
        (
            r#" { "event_id" : "e1" , "watched_ms" : -5 , "error_code" : null } "#,
            true,
        ),
        (r#"{}"#, true),
        (r#"{"event_id":"é"}"#, true),
        ("{\"event_id\":\"😀 \u{7f}\"}", true),
        (r#"{"watched_ms":999999999999999999}"#, true),
        (r#"{"watched_ms":-999999999999999999}"#, true),
        (r#"{"watched_ms":0}"#, true),
        (r#"{"schema_version":4294967295}"#, true),
        (r#"{"schema_version":2,"startup_ms":1234}"#, true),
        (r#"{"startup_ms":null}"#, true),
        (r#"{"startup_ms":-1}"#, true),
        (r#"{"event_id":"a\"b"}"#, false),
        (r#"{"watched_ms":1.5}"#, false),
        (r#"{"watched_ms":01}"#, false),
        (r#"{"watched_ms":1e3}"#, false),
        (r#"{"watched_ms":"10"}"#, false),
        (r#"{"event_id":1}"#, false),
        (r#"{"event_id":"a","event_id":"b"}"#, false),
        (r#"{"other":1}"#, false),
        (r#"{"event_id":"a",}"#, false),
        (r#"{"event_id":"a""#, false),
        (r#"{"event_id":"a"} x"#, false),
        (r#"{"schema_version":-1}"#, false),
        (r#"{"startup_ms":"1234"}"#, false),
        (r#"{"startup_ms":1,"startup_ms":2}"#, false),
        (r#"{"schema_version":4294967296}"#, false),
        (r#"{"watched_ms":99999999999999999999}"#, false),
        (r#"{"watched_ms":9223372036854775807}"#, false),
        (r#"{"watched_ms":-0}"#, false),
        (r#"[1]"#, false),
        (r#""#, false),
        (r#"{"a":{"b":1}}"#, false),
        (r#"{"watched_ms":nul}"#, false),
        ("{\"event_id\":\"a\u{0}\"}", false),
        ("\u{feff}{}", false),
        ("{\"event_id\":\"a\"}\u{a0}", false),
    ];
    for (c, must_take) in cases {
        let took = same(c);
        assert!(took || !must_take, "fast path refused {c}");
    }
}

#[path = "wire_fast_props.rs"]
mod props;

#[test]
fn a_json_array_is_not_an_event() {
    // serde's derive reads a sequence as a struct's fields in order.
    let array = r#"["e1","heartbeat","2026-11-23T10:00:00Z","v","s","t","eu"]"#;
    let err = crate::event::parse_event(array, 1_795_478_399_999, 0).unwrap_err();
    assert_eq!(err.reason.code(), "bad_type");
    assert!(crate::event::parse_event(&format!("  {array}"), 0, 0).is_err());
}

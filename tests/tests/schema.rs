//! events/playback-event.schema.json against the code: every sample and every
//! event the load generator makes validates; each malformed kind the bad
//! firmware makes fails it, where JSON Schema can say so; and on edge values
//! the schema and the domain validation (the truth for what consumers accept)
//! agree, except on a short list of gaps JSON Schema cannot express.
// Its helpers read the repo's fixtures: a missing one is the failure itself.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use loadgen::{BadFirmware, Incident, MalformedKind, RecordStream, ScenarioConfig};
use playback_domain::event::{parse_event, DEFAULT_MAX_FUTURE_SKEW_MS};
use serde_json::{json, Value};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn schema_doc() -> Value {
    let text = std::fs::read_to_string(events_dir().join("playback-event.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Formats asserted (2020-12 treats `format` as an annotation by default).
fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema_doc())
        .expect("the schema compiles")
}

/// The schema's verdict on one line: None if the line is not JSON at all.
fn schema_verdict(v: &jsonschema::Validator, line: &str) -> Option<Result<(), String>> {
    let doc: Value = serde_json::from_str(line).ok()?;
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    Some(if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    })
}

/// The consumers' verdict: Ok or the reason code.
fn domain_verdict(line: &str, now_ms: i64) -> Result<(), &'static str> {
    parse_event(line, now_ms, DEFAULT_MAX_FUTURE_SKEW_MS)
        .map(|_| ())
        .map_err(|e| e.reason.code())
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let doc = schema_doc();
    assert!(jsonschema::draft202012::meta::is_valid(&doc));
    assert_eq!(
        doc["schema_version"],
        playback_domain::event::SCHEMA_VERSION
    );
    let types: Vec<&str> = doc["properties"]["event_type"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let domain: Vec<&str> = playback_domain::EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    assert_eq!(types, domain, "event_type enum = EventType::ALL");
}

/// Every NDJSON line of every Lambda payload in events/samples/.
fn sample_lines() -> Vec<(String, String)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(events_dir().join("samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let records = doc
            .get("Records")
            .or_else(|| doc.get("records"))
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{name}: no Records/records"));
        for r in records {
            let data = if let Some(k) = r.get("kinesis") {
                b64.decode(k["data"].as_str().unwrap()).unwrap()
            } else if let Some(body) = r.get("body") {
                body.as_str().unwrap().as_bytes().to_vec()
            } else {
                b64.decode(r["data"].as_str().unwrap()).unwrap()
            };
            for line in String::from_utf8(data).unwrap().lines() {
                out.push((name.clone(), line.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_sample_the_consumers_accept_validates_and_every_one_they_refuse_fails() {
    let v = validator();
    let now = playback_domain::event::parse_rfc3339_ms("2026-11-24T00:00:00Z").unwrap();
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    let lines = sample_lines();
    for (file, line) in &lines {
        let domain = domain_verdict(line, now);
        let schema = schema_verdict(&v, line);
        match (domain, &schema) {
            (Ok(()), Some(Ok(()))) => {}
            (Err("malformed_json"), None) => {}
            (Err(_), Some(Err(_))) => {}
            (d, s) => panic!("{file}: consumers {d:?}, schema {s:?}: {line}"),
        }
        *by_code.entry(domain.err().unwrap_or("valid")).or_default() += 1;
    }
    assert!(by_code["valid"] >= 30, "{by_code:?}");
    for code in ["missing_field", "unknown_event_type", "malformed_json"] {
        assert!(by_code.contains_key(code), "no {code} sample: {by_code:?}");
    }
    eprintln!("{} sample lines: {by_code:?}", lines.len());
}

#[test]
fn every_loadgen_event_validates_and_each_malformed_kind_fails_where_the_schema_can_say() {
    let v = validator();
    let cfg = ScenarioConfig {
        seed: 7,
        viewers: 400,
        titles: 40,
        rate: 200.0,
        duration_s: Some(120.0),
        incident: Some(Incident {
            title_id: "t0001".into(),
            region: "us-east".into(),
            start_s: 20.0,
            duration_s: 30.0,
            stall_fraction: 0.4,
        }),
        bad_firmware: Some(BadFirmware {
            app_version: "*".into(),
            rate: 0.1,
        }),
        retry_rate: 0.02,
        late_rate: 0.02,
        ..Default::default()
    };
    // Validated as a consumer would at the end of the run.
    let now = cfg.start_time_ms + 130_000;
    let mut valid = 0;
    let mut kinds: BTreeMap<MalformedKind, usize> = BTreeMap::new();
    for em in RecordStream::new(cfg).unwrap() {
        for (bytes, entry) in em.lines_with_entries() {
            let line = std::str::from_utf8(bytes).unwrap();
            let schema = schema_verdict(&v, line);
            let domain = domain_verdict(line, now);
            let Some(kind) = entry.malformed else {
                assert_eq!(schema, Some(Ok(())), "{line}");
                assert_eq!(domain, Ok(()), "{line}");
                valid += 1;
                continue;
            };
            assert_eq!(domain, Err(kind.reason_code()), "{kind:?}: {line}");
            match kind {
                // Not JSON: no schema applies.
                MalformedKind::TruncatedJson => assert_eq!(schema, None, "{line}"),
                // "At most 5 minutes ahead" depends on the clock: not expressible.
                MalformedKind::FutureEventTime => assert_eq!(schema, Some(Ok(())), "{line}"),
                MalformedKind::MissingTitleId
                | MalformedKind::UnknownEventType
                | MalformedKind::NegativeWatchedMs => {
                    assert!(matches!(schema, Some(Err(_))), "{kind:?} validates: {line}")
                }
            }
            *kinds.entry(kind).or_default() += 1;
        }
    }
    for kind in MalformedKind::ALL {
        assert!(kinds.get(&kind) > Some(&0), "no {kind:?} line: {kinds:?}");
    }
    assert!(valid > 10_000, "{valid} valid lines");
    eprintln!("loadgen: {valid} valid lines validate; malformed by kind: {kinds:?}");
}

/// A valid event with one field set (or removed, for None).
fn with(field: &str, value: Option<Value>) -> String {
    let mut e = json!({
        "schema_version": 1,
        "event_id": "e-1",
        "event_type": "heartbeat",
        "event_time": "2026-11-23T10:00:00.000Z",
        "viewer_id": "v000001",
        "session_id": "s1",
        "title_id": "t0001",
        "region": "eu-west",
        "watched_ms": 10_000,
        "stalled_ms": 0,
        "device_platform": "tv",
        "app_version": "5.2.0",
    });
    let m = e.as_object_mut().unwrap();
    match value {
        Some(v) => m.insert(field.to_string(), v),
        None => m.remove(field),
    };
    e.to_string()
}

/// Where consumers and the schema disagree, and why JSON Schema cannot say
/// what consumers do. Each entry must really disagree (so the list stays true).
fn known_gap(field: &str, value: &Option<Value>) -> Option<&'static str> {
    let int_field = matches!(
        field,
        "schema_version"
            | "watched_ms"
            | "stalled_ms"
            | "bitrate_kbps"
            | "position_ms"
            | "startup_ms"
    );
    let max = if field == "schema_version" {
        playback_domain::event::SCHEMA_VERSION as f64
    } else {
        i64::MAX as f64
    };
    match value {
        Some(Value::Number(n))
            if int_field
                && n.is_f64()
                && n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && (0.0..=max).contains(&f)) =>
        {
            Some("1.0 is an integer to JSON Schema, a float (bad_type) to consumers")
        }
        Some(Value::String(s)) if field == "event_time" && s.as_bytes().get(10) == Some(&b' ') => {
            Some("consumers (chrono) accept a space for T; RFC 3339 date-time does not")
        }
        Some(Value::String(s))
            if field == "event_time"
                && s.get(17..19) == Some("60")
                && s.get(11..16) != Some("23:59") =>
        {
            Some(
                "consumers (chrono) accept second 60 in any minute; RFC 3339 only as a leap second",
            )
        }
        Some(Value::String(s)) if field == "event_time" && s.starts_with("2099") => {
            Some("at most 5 minutes ahead depends on the clock")
        }
        _ => None,
    }
}

#[test]
fn the_schema_and_the_consumers_agree_on_edge_values() {
    let v = validator();
    let now = playback_domain::event::parse_rfc3339_ms("2026-11-24T00:00:00Z").unwrap();
    let strings = [
        json!("x"),
        json!(""),
        json!(" "),
        json!("\t\n"),
        json!("\u{a0}\u{2003}"),
        json!("\u{85}"),
        json!(" x "),
        json!("é😀"),
    ];
    let ints = [
        json!(0),
        json!(1),
        json!(-1),
        json!(2),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(i64::MAX as u64 + 1),
        json!(u64::MAX),
        json!(u32::MAX),
        json!(u32::MAX as u64 + 1),
        json!(1.0),
        json!(0.0),
        json!(1.5),
        json!(-0.5),
        json!(1e300),
    ];
    let others = [
        Value::Null,
        json!(true),
        json!([]),
        json!({}),
        json!(["x"]),
        json!({"a": 1}),
    ];
    let times = [
        "2026-11-23T10:00:00Z",
        "2026-11-23T10:00:00.5Z",
        "2026-11-23T10:00:00.123456789Z",
        "2026-11-23T10:00:00.1234567891Z",
        "2026-11-23t10:00:00z",
        "2026-11-23 10:00:00Z",
        "2026-11-23T10:00:00+01:00",
        "2026-11-23T10:00:00-00:00",
        "2026-11-23T10:00:00+24:00",
        "2026-11-23T10:00:00+0100",
        "2026-11-23T10:00Z",
        "2026-11-23T10:00:00",
        "2026-11-23T10:00:00.Z",
        "2026-02-29T00:00:00Z",
        "2024-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T10:60:00Z",
        "0000-01-01T00:00:00Z",
        "2016-12-31T23:59:60Z",
        "2026-11-23T10:00:60Z",
        "2099-01-01T00:00:00Z",
        " 2026-11-23T10:00:00Z",
        "2026-11-23T10:00:00Z ",
        "yesterday",
    ];
    let types = [
        "heartbeat",
        "session_end",
        "HEARTBEAT",
        " heartbeat",
        "ad_impression",
    ];
    let fields = [
        "schema_version",
        "event_id",
        "event_type",
        "event_time",
        "viewer_id",
        "session_id",
        "title_id",
        "region",
        "watched_ms",
        "stalled_ms",
        "bitrate_kbps",
        "position_ms",
        "device_platform",
        "app_version",
        "error_code",
        "startup_ms",
        "unknown_extra",
    ];
    let mut cases = 0;
    let mut gaps: BTreeMap<&str, usize> = BTreeMap::new();
    for field in fields {
        let mut values: Vec<Option<Value>> = vec![None];
        values.extend(
            strings
                .iter()
                .chain(&ints)
                .chain(&others)
                .cloned()
                .map(Some),
        );
        if field == "event_time" {
            values.extend(times.iter().map(|t| Some(json!(t))));
        }
        if field == "event_type" {
            values.extend(types.iter().map(|t| Some(json!(t))));
        }
        for value in values {
            let line = with(field, value.clone());
            let domain = domain_verdict(&line, now);
            let schema = schema_verdict(&v, &line).expect("JSON");
            cases += 1;
            match (known_gap(field, &value), domain.is_ok() == schema.is_ok()) {
                (None, true) => {}
                (None, false) => panic!(
                    "{field} = {value:?}: consumers {domain:?}, schema {schema:?}; \
                     fix the schema (the domain is the truth) or list a gap"
                ),
                (Some(why), false) => *gaps.entry(why).or_default() += 1,
                (Some(why), true) => {
                    panic!("{field} = {value:?} is listed as a gap ({why}) but both say {domain:?}")
                }
            }
        }
    }
    eprintln!("{cases} edge cases agree; known gaps: {gaps:?}");
}

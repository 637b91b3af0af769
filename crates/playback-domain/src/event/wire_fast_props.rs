//! Property tests of the fast event parser against serde_json: generated,
//! known-key and mutated events (the helpers are the parent's).

use proptest::prelude::*;
use proptest::sample::{select, Index};

use super::*;

const KEYS: [&str; 16] = [
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
];

/// `cases` per property; PROPTEST_CASES=N runs N instead (a deeper search).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        // Regressions are kept as explicit cases above, not in files.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// An event as crates/loadgen makes it (the same id, region, platform and
/// version shapes, the same optional fields), any type, years 2000-2099.
fn loadgen_event() -> impl Strategy<Value = OwnedEvent> {
    let ids = (0u32..1_000_000, 0u32..10_000, 1u32..10_000);
    let time = 946_684_800_000i64..4_102_444_800_000;
    let durations = (
        proptest::option::of(0i64..=600_000),
        proptest::option::of(0i64..=600_000),
        proptest::option::of(select(vec![
            800i64, 1_500, 3_000, 4_500, 6_000, 8_000, 12_000,
        ])),
        proptest::option::of(0i64..=14_400_000),
        proptest::option::of(0i64..=60_000),
    );
    let labels = (
        select(vec!["us-east", "eu-west", "us-west", "ap-south", "sa-east"]),
        select(vec!["tv", "web", "ios", "android", "console"]),
        select(vec!["5.1.4", "5.2.0", "5.3.0", "5.4.0-beta"]),
        proptest::option::of(select(vec!["DRM_LICENSE", "NETWORK", "DECODE", "E-1002"])),
    );
    (
        ids,
        select(EventType::ALL.to_vec()),
        time,
        durations,
        labels,
    )
        .prop_map(
            |((viewer, session, seq), event_type, t, (w, st, br, pos, su), (r, p, v, err))| {
                let session_id = format!("s{viewer:06}-{session}");
                OwnedEvent {
                    event_id: Cow::Owned(format!("{session_id}-{seq}")),
                    event_type,
                    event_time_ms: t,
                    viewer_id: Cow::Owned(format!("v{viewer:06}")),
                    session_id: Cow::Owned(session_id),
                    title_id: Cow::Owned(format!("t{:04}", seq % 2000 + 1)),
                    region: Cow::Borrowed(r),
                    watched_ms: w,
                    stalled_ms: st,
                    bitrate_kbps: br,
                    position_ms: pos,
                    device_platform: Some(Cow::Borrowed(p)),
                    app_version: Some(Cow::Borrowed(v)),
                    error_code: err.map(Cow::Borrowed),
                    // v1 players send no startup_ms.
                    startup_ms: su,
                    schema_version: if su.is_some() { 2 } else { 1 },
                }
            },
        )
}

/// JSON whitespace, and rarely some that is not (form feed, NBSP, VT).
fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        30 => select(vec!["", "", "", "", " ", "  ", "\t", "\n", "\r\n"]),
        1 => select(vec!["\u{a0}", "\x0c", "\x0b", "\u{2028}"]),
    ]
}

fn key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => select(KEYS.to_vec()).prop_map(|k| format!("\"{k}\"")),
        1 => select(vec!["other", "", "EVENT_ID", "event_id ", "évent_id", "event_id\u{0}"])
            .prop_map(|k| format!("\"{k}\"")),
        // A known key spelt with an escape: serde_json unescapes it.
        1 => select(KEYS.to_vec()).prop_map(|k| format!("\"{}\\u{:04x}{}\"", &k[..1], k.as_bytes()[1], &k[2..])),
        1 => select(vec!["event_id", "'event_id'", "\"event_id"]).prop_map(String::from),
    ]
}

fn string_body() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => "[a-zA-Z0-9 _.:+-]{1,8}",
        2 => select(vec!["2026-11-23T10:00:00Z", "heartbeat", "v000001", "5.4.0-beta"]).prop_map(String::from),
        2 => select(vec!["é", "😀", "\u{7f}", "\u{fffd}", "中文", "\u{2028}", "\u{feff}", " "]).prop_map(String::from),
        2 => select(vec![
            "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\b", "\\u00e9", "\\ud83d\\ude00",
            "\\ud800", "\\udc00", "\\u0000", "\\x", "\\u12", "\\",
        ]).prop_map(String::from),
        1 => select(vec!["\n", "\t", "\u{0}", "\u{1f}", "\r"]).prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..4).prop_map(|v| v.concat())
}

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<i64>().prop_map(|n| n.to_string()),
        3 => (-1_000i64..100_000).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => (0u64..1_000, 1usize..3).prop_map(|(n, z)| format!("{}{n}", "0".repeat(z))),
        1 => (0u64..1_000, 1usize..3).prop_map(|(n, z)| format!("-{}{n}", "0".repeat(z))),
        1 => any::<f64>().prop_map(|f| f.to_string()),
        4 => select(vec![
            "0", "-0", "1", "-1", "00", "-", "+1", ".5", "1.", "0x10", "1_000",
            "Infinity", "NaN", "1.0", "-0.0", "1e3", "1E+2", "-1e-2", "1e400",
            "999999999999999999", "-999999999999999999",
            "1000000000000000000", "-1000000000000000000",
            "9223372036854775807", "-9223372036854775808",
            "9223372036854775808", "-9223372036854775809",
            "18446744073709551615", "18446744073709551616",
            "4294967295", "4294967296", "2147483648",
        ]).prop_map(String::from),
    ]
}

fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => string_body().prop_map(|s| format!("\"{s}\"")),
        4 => number_text(),
        1 => select(vec![
            "null", "null", "true", "false", "nul", "nulll", "NULL", "[]", "{}",
            "[1,2]", r#"{"a":1}"#, r#""unterminated"#, "",
        ]).prop_map(String::from),
    ]
}

/// An object of up to 14 fields from anywhere in the grammar: known keys
/// (often twice), unknown and escaped keys, any value.
fn event_text() -> impl Strategy<Value = String> {
    let field =
        (key_text(), ws(), ws(), value_text()).prop_map(|(k, a, b, v)| format!("{k}{a}:{b}{v}"));
    let sep = (ws(), ws()).prop_map(|(a, b)| format!("{a},{b}"));
    (
        ws(),
        ws(),
        proptest::collection::vec((field, sep), 0..14),
        ws(),
        ws(),
        any::<bool>(),
    )
        .prop_map(|(lead, open, fields, close, trail, trailing_comma)| {
            let mut s = format!("{lead}{{{open}");
            let n = fields.len();
            for (i, (f, sep)) in fields.into_iter().enumerate() {
                s.push_str(&f);
                if i + 1 < n || trailing_comma {
                    s.push_str(&sep);
                }
            }
            s.push_str(close);
            s.push('}');
            s.push_str(trail);
            s
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace one byte (invalid UTF-8 is read lossily: a consumer refuses
    /// non-UTF-8 records before parsing, so only `str`s reach the parser).
    SetByte(Index, u8),
    FlipBit(Index, u8),
    Truncate(Index),
    Delete(Index, usize),
    Insert(Index, String),
    /// A known field again, right after `{`: a duplicate key.
    Duplicate(String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![
        value_text(),
        select(vec![
            "\"", "\\", ",", ":", "{", "}", "[", "]", " ", "\n", "-", "0", "e", ".", "\u{0}", "é",
            "😀", "\\u0000", "null",
        ])
        .prop_map(String::from),
    ];
    prop_oneof![
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        2 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), 1usize..12).prop_map(|(i, n)| Mutation::Delete(i, n)),
        3 => (any::<Index>(), snippet).prop_map(|(i, s)| Mutation::Insert(i, s)),
        2 => (select(KEYS.to_vec()), value_text())
            .prop_map(|(k, v)| Mutation::Duplicate(format!("\"{k}\":{v},"))),
    ]
}

fn apply(s: String, m: &Mutation) -> String {
    let mut b = s.into_bytes();
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
    match m {
        Mutation::SetByte(i, v) if !b.is_empty() => {
            let k = at(i, b.len());
            b[k] = *v;
        }
        Mutation::FlipBit(i, bit) if !b.is_empty() => {
            let k = at(i, b.len());
            b[k] ^= 1 << bit;
        }
        Mutation::Truncate(i) => b.truncate(at(i, b.len() + 1)),
        Mutation::Delete(i, n) if !b.is_empty() => {
            let k = at(i, b.len());
            b.drain(k..(k + n).min(b.len()));
        }
        Mutation::Insert(i, snippet) => {
            let k = at(i, b.len() + 1);
            b.splice(k..k, snippet.bytes());
        }
        Mutation::Duplicate(field) => {
            if let Some(k) = b.iter().position(|&c| c == b'{') {
                b.splice(k + 1..k + 1, field.bytes());
            }
        }
        _ => {}
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn is_int_key(k: &str) -> bool {
    k == "schema_version" || k.ends_with("_ms") || k == "bitrate_kbps"
}

/// An integer as text: mostly one serde_json reads as i64, sometimes one at
/// the edge of its grammar or range (`-0`, leading zeros, fractions,
/// exponents, 19-20 digits, u32 overflow for schema_version).
fn int_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (-1_000i64..100_000).prop_map(|n| n.to_string()),
        3 => any::<i64>().prop_map(|n| n.to_string()),
        2 => (-999_999_999_999_999_999i64..=999_999_999_999_999_999).prop_map(|n| n.to_string()),
        2 => select(vec![
            "0", "1", "-1", "999999999999999999", "-999999999999999999", "4294967295",
            "2147483648",
        ]).prop_map(String::from),
        2 => select(vec![
            "-0", "00", "01", "-01", "-00", "1.0", "-0.0", "0e0", "1e3", "1E2",
            "1000000000000000000", "9223372036854775807", "9223372036854775808",
            "-9223372036854775809", "4294967296", "-4294967296",
        ]).prop_map(String::from),
        1 => number_text(),
    ]
}

/// A string as text: mostly plain, sometimes with escapes or control bytes.
fn str_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z0-9 _.:+-]{0,12}".prop_map(|s| format!("\"{s}\"")),
        2 => select(vec!["é", "😀 x", "\u{7f}", "中文", "\u{2028}", "\u{feff}", "\u{fffd}"])
            .prop_map(|s| format!("\"{s}\"")),
        2 => string_body().prop_map(|s| format!("\"{s}\"")),
    ]
}

/// A value of the field's own type most of the time, of another type or
/// null sometimes.
fn typed_value(key: &'static str) -> BoxedStrategy<String> {
    let null = Just("null".to_string());
    if is_int_key(key) {
        prop_oneof![12 => int_text(), 1 => null, 1 => str_text()].boxed()
    } else {
        prop_oneof![12 => str_text(), 1 => null, 1 => int_text()].boxed()
    }
}

/// An object of distinct known keys in any order, each with a typed value:
/// the inputs closest to what the fast path takes.
fn known_keys_event() -> impl Strategy<Value = String> {
    proptest::sample::subsequence(KEYS.to_vec(), 0..=KEYS.len())
        .prop_shuffle()
        .prop_flat_map(|keys| {
            let fields: Vec<_> = keys
                .into_iter()
                .map(|k| (Just(k), typed_value(k), ws(), ws()))
                .collect();
            (fields, ws())
        })
        .prop_map(|(fields, end)| {
            let body: Vec<String> = fields
                .into_iter()
                .map(|(k, v, a, b)| format!("{a}\"{k}\"{b}:{v}"))
                .collect();
            format!("{{{}{end}}}", body.join(","))
        })
}

/// Producers' events, objects of known keys, and objects from anywhere in
/// the grammar, each with up to three mutations.
fn mutated_event() -> impl Strategy<Value = String> {
    let base = prop_oneof![
        loadgen_event().prop_map(|e| e.to_json()),
        known_keys_event(),
        event_text(),
    ];
    (base, proptest::collection::vec(mutation(), 0..4)).prop_map(|(s, ms)| ms.iter().fold(s, apply))
}

proptest! {
    #![proptest_config(config(2_000))]

    /// What the load generator writes (PlaybackEvent::to_json) goes the fast way.
    #[test]
    fn fast_path_takes_every_loadgen_event(e in loadgen_event()) {
        fast_takes(&e.to_json());
        // The same event with pretty-printing whitespace and keys reordered.
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        fast_takes(&serde_json::to_string_pretty(&v).unwrap());
    }
}

proptest! {
    #![proptest_config(config(5_000))]

    /// Objects of known keys and typed values, unmutated: a fifth or more
    /// are the fast path's to take, so a value it misreads shows here.
    #[test]
    fn fast_path_agrees_with_serde_json_on_known_key_events(json in known_keys_event()) {
        same(&json);
    }
}

proptest! {
    #![proptest_config(config(10_000))]

    /// Untrusted input: whatever the fast path accepts, serde_json accepts
    /// with the same values.
    #[test]
    fn fast_path_agrees_with_serde_json_on_generated_and_mutated_events(json in mutated_event()) {
        same(&json);
    }
}

/// The property above is not vacuous: a good share of its inputs take the
/// fast path, and a good share are refused by it.
#[test]
fn the_mutated_inputs_exercise_both_paths() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = mutated_event();
    let (mut fast, n) = (0, 2_000);
    for _ in 0..n {
        let json = strategy.new_tree(&mut runner).unwrap().current();
        fast += same(&json) as usize;
    }
    assert!(
        (n / 10..n * 9 / 10).contains(&fast),
        "{fast} of {n} mutated inputs on the fast path"
    );
    eprintln!("mutated inputs: {fast} of {n} on the fast path");
    let strategy = known_keys_event();
    let mut fast = 0;
    for _ in 0..n {
        let json = strategy.new_tree(&mut runner).unwrap().current();
        fast += same(&json) as usize;
    }
    assert!(
        (n / 5..n * 9 / 10).contains(&fast),
        "{fast} of {n} known-key inputs on the fast path"
    );
    eprintln!("known-key inputs: {fast} of {n} on the fast path");
}

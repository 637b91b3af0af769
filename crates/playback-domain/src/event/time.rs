//! RFC 3339 timestamps <-> epoch milliseconds.

use chrono::{DateTime, TimeZone, Utc};

use crate::error::Reason;

pub fn parse_rfc3339_ms(s: &str) -> Result<i64, Reason> {
    if let Some(ms) = fast_utc_rfc3339_ms(s.as_bytes()) {
        return Ok(ms);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| Reason::BadTimestamp(format!("{s:?}: {e}")))
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, the form every producer sends, without
/// chrono. Anything else (offsets, lowercase `t`/`z`, a leap second, an
/// out-of-range field) returns `None` and takes chrono's general path, so the
/// accepted set and the values are exactly chrono's.
fn fast_utc_rfc3339_ms(b: &[u8]) -> Option<i64> {
    let n = b.len();
    if !(20..=30).contains(&n)
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[n - 1] != b'Z'
    {
        return None;
    }
    let d = |i: usize| -> Option<i64> {
        let c = b[i].wrapping_sub(b'0');
        (c < 10).then_some(c as i64)
    };
    let two = |i: usize| Some(d(i)? * 10 + d(i + 1)?);
    let year = two(0)? * 100 + two(2)?;
    let (month, day, hour, min, sec) = (two(5)?, two(8)?, two(11)?, two(14)?, two(17)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day < 1
        || day > month_days[(month - 1) as usize]
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    let mut ms = 0;
    if n > 20 {
        if b[19] != b'.' || n == 21 {
            return None;
        }
        for (i, &c) in b[20..n - 1].iter().enumerate() {
            let v = c.wrapping_sub(b'0');
            if v >= 10 {
                return None;
            }
            if i < 3 {
                ms = ms * 10 + v as i64;
            }
        }
        for _ in (n - 21)..3 {
            ms *= 10;
        }
    }
    // Days from 1970-01-01 (H. Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(((days * 24 + hour) * 60 + min) * 60_000 + sec * 1000 + ms)
}

/// Formats epoch millis as RFC 3339 UTC with millisecond precision.
pub fn format_rfc3339_ms(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::{select, Index};

    fn chrono_ms(s: &str) -> Option<i64> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    /// Whatever the fast path reads, chrono reads the same; and the public
    /// parser answers exactly as chrono does.
    fn agrees(s: &str) -> bool {
        let fast = fast_utc_rfc3339_ms(s.as_bytes());
        if let Some(ms) = fast {
            assert_eq!(Some(ms), chrono_ms(s), "fast path vs chrono: {s:?}");
        }
        assert_eq!(parse_rfc3339_ms(s).ok(), chrono_ms(s), "{s:?}");
        fast.is_some()
    }

    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.
    const FIRST_MS: i64 = -62_167_219_200_000;
    const LAST_MS: i64 = 253_402_300_799_999;

    #[test]
    fn fast_path_equals_chrono() {
        // (input, whether the fast path must take it)
        let cases = [
            ("2026-11-23T10:00:00Z", true),
            ("2026-11-23T10:00:00.5Z", true),
            ("2026-11-23T10:00:00.05Z", true),
            ("2026-11-23T10:00:00.123Z", true),
            ("2026-11-23T10:00:00.123456789Z", true),
            ("2024-02-29T23:59:59.999Z", true),
            ("2000-02-29T00:00:00Z", true),
            ("1969-12-31T23:59:59.999Z", true),
            ("0001-01-01T00:00:00Z", true),
            ("0000-01-01T00:00:00Z", true),
            ("9999-12-31T23:59:59.999999999Z", true),
            ("2023-02-29T00:00:00Z", false),
            ("1900-02-29T00:00:00Z", false),
            ("2026-13-01T00:00:00Z", false),
            ("2026-00-01T00:00:00Z", false),
            ("2026-11-00T00:00:00Z", false),
            ("2026-04-31T00:00:00Z", false),
            ("2026-11-23T24:00:00Z", false),
            ("2026-11-23T10:60:00Z", false),
            ("2026-11-23T10:00:60Z", false),
            ("2016-12-31T23:59:60Z", false),
            ("2026-11-23T10:00:00.Z", false),
            ("2026-11-23t10:00:00z", false),
            ("2026-11-23 10:00:00Z", false),
            ("2026-11-23T10:00:00+01:00", false),
            ("2026-11-23T10:00:00-00:00", false),
            ("2026-11-23T10:00:00.1234567890Z", false),
            ("2026-11-2xT10:00:00Z", false),
            ("+2026-11-23T10:00:00Z", false),
            ("2026-11-23T10:00:00", false),
            ("", false),
        ];
        for (c, fast) in cases {
            assert_eq!(agrees(c), fast, "{c}");
        }
    }

    #[test]
    fn fast_path_takes_every_formatted_instant() {
        let mut t = FIRST_MS;
        let mut n = 0;
        while t <= LAST_MS {
            let s = format_rfc3339_ms(t);
            assert_eq!(fast_utc_rfc3339_ms(s.as_bytes()), Some(t), "{s}");
            assert!(agrees(&s));
            t += 7_777_777_777;
            n += 1;
        }
        assert!(n > 40_000);
    }

    /// `cases` per property; PROPTEST_CASES=N runs N instead (a deeper search).
    fn config(cases: u32) -> ProptestConfig {
        ProptestConfig {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(cases),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with any valid field values.
    fn producer_time() -> impl Strategy<Value = String> {
        (
            0u32..=9999,
            1u32..=12,
            1u32..=31,
            (0u32..24, 0u32..60, 0u32..60),
            proptest::option::of("[0-9]{1,9}"),
        )
            .prop_filter_map("no such day", |(y, mo, d, (h, mi, s), frac)| {
                chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)?;
                let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
                Some(format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z"
                ))
            })
    }

    fn mutated_time() -> impl Strategy<Value = String> {
        let snippet = select(vec![
            "0", "9", "60", "-", ":", "T", "t", "Z", "z", " ", ".", "+01:00", "é", "\u{0}",
        ]);
        let edit = (any::<Index>(), any::<u8>(), snippet, 0u8..4);
        let base = prop_oneof![
            producer_time(),
            (FIRST_MS..=LAST_MS).prop_map(format_rfc3339_ms),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,11})?([Zz]|[+-][0-9]{2}:[0-9]{2})?",
        ];
        (base, proptest::collection::vec(edit, 0..3)).prop_map(|(s, edits)| {
            let mut b = s.into_bytes();
            for (i, byte, snippet, kind) in edits {
                let k = i.index(b.len() + 1);
                match kind {
                    0 if k < b.len() => b[k] = byte,
                    1 => b.truncate(k),
                    2 => {
                        b.splice(k..k, snippet.bytes());
                    }
                    _ if k < b.len() => {
                        b.remove(k);
                    }
                    _ => {}
                }
            }
            String::from_utf8_lossy(&b).into_owned()
        })
    }

    proptest! {
        #![proptest_config(config(5_000))]

        #[test]
        fn fast_path_takes_every_producer_timestamp(s in producer_time()) {
            prop_assert!(agrees(&s), "fast path refused {s}");
        }

        #[test]
        fn fast_path_takes_every_formatted_millisecond(t in FIRST_MS..=LAST_MS) {
            let s = format_rfc3339_ms(t);
            prop_assert_eq!(fast_utc_rfc3339_ms(s.as_bytes()), Some(t));
        }
    }

    proptest! {
        #![proptest_config(config(20_000))]

        /// Untrusted input: the fast path never reads another instant than chrono.
        #[test]
        fn fast_path_agrees_with_chrono_on_mutated_timestamps(s in mutated_time()) {
            agrees(&s);
        }
    }
}

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

    #[test]
    fn fast_path_equals_chrono() {
        let chrono_ms = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.timestamp_millis())
        };
        let mut cases: Vec<String> = vec![
            "2026-11-23T10:00:00Z".into(),
            "2026-11-23T10:00:00.5Z".into(),
            "2026-11-23T10:00:00.05Z".into(),
            "2026-11-23T10:00:00.123Z".into(),
            "2026-11-23T10:00:00.123456789Z".into(),
            "2024-02-29T23:59:59.999Z".into(),
            "2023-02-29T00:00:00Z".into(),
            "1969-12-31T23:59:59.999Z".into(),
            "0001-01-01T00:00:00Z".into(),
            "2026-13-01T00:00:00Z".into(),
            "2026-11-23T24:00:00Z".into(),
            "2026-11-23T10:00:60Z".into(),
            "2026-11-23T10:00:00.Z".into(),
            "2026-11-23t10:00:00z".into(),
            "2026-11-23T10:00:00+01:00".into(),
            "2026-11-23T10:00:00.1234567890Z".into(),
            "2026-11-2xT10:00:00Z".into(),
        ];
        let mut t: i64 = -30_000_000_000_000;
        while t < 30_000_000_000_000 {
            cases.push(format_rfc3339_ms(t));
            t += 7_777_777_777;
        }
        for c in &cases {
            if let Some(ms) = fast_utc_rfc3339_ms(c.as_bytes()) {
                assert_eq!(Some(ms), chrono_ms(c), "{c}");
            }
            assert_eq!(parse_rfc3339_ms(c).ok(), chrono_ms(c), "{c}");
        }
    }
}

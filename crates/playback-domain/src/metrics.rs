//! The metric definitions every path shares (stream, lake, backfill, SQL docs).

/// Rebuffering ratio = stall time / (play time + stall time). `None` without data.
pub fn rebuffering_ratio(watched_ms: u64, stalled_ms: u64) -> Option<f64> {
    let total = watched_ms + stalled_ms;
    (total > 0).then(|| stalled_ms as f64 / total as f64)
}

/// Royalty minutes from the summed `watched_ms` of distinct event_ids of a title-day.
pub fn royalty_minutes(distinct_watched_ms: u64) -> f64 {
    distinct_watched_ms as f64 / 60_000.0
}

/// UTC day (YYYY-MM-DD) and hour (HH) of an epoch-millis instant: the lake's partitions.
pub fn utc_day_hour(ms: i64) -> (String, String) {
    use chrono::{TimeZone, Utc};
    let t = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    (t.format("%Y-%m-%d").to_string(), t.format("%H").to_string())
}

/// 64-bit FNV-1a (the `fnv` crate) over the parts joined by 0x1f: a stable
/// hash, the same on every Lambda instance and release, for distinct counts
/// and the stored event-id sets (its values are pinned by a test).
pub fn stable_hash(parts: &[&str]) -> u64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.write(&[0x1f]);
        }
        h.write(p.as_bytes());
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_is_stall_over_play_plus_stall() {
        assert_eq!(rebuffering_ratio(900, 100), Some(0.1));
        assert_eq!(rebuffering_ratio(0, 0), None);
        assert_eq!(rebuffering_ratio(0, 5), Some(1.0));
    }

    #[test]
    fn day_hour_is_utc() {
        // 2026-11-23T23:59:59.999Z
        assert_eq!(
            utc_day_hour(1_795_478_399_999),
            ("2026-11-23".into(), "23".into())
        );
        assert_eq!(royalty_minutes(90_000), 1.5);
    }

    #[test]
    fn stable_hash_separates_parts() {
        assert_ne!(stable_hash(&["ab", "c"]), stable_hash(&["a", "bc"]));
        assert_eq!(stable_hash(&["x"]), stable_hash(&["x"]));
        // Pinned: stored sets and shard routing depend on these values.
        assert_eq!(stable_hash(&["ab", "c"]), 0xfd86_a083_ef3e_ee44);
    }
}

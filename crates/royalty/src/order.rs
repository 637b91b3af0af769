//! Which copy of a duplicated event wins: the ORDER BY of canonical_merge.sql in
//! Rust. A producer retry or a re-delivery lands the same event_id more than
//! once; copies may even differ. The earliest arrival wins, and the key is a
//! total order, so every engine and every re-run picks the same copy.

use std::cmp::Ordering;

use playback_domain::event::parse_rfc3339_ms;
use playback_domain::lake::LakeRow;

/// Kinesis sequence numbers compare as numbers: the workspace's one comparison.
pub use playback_domain::position::cmp_seq;

/// Millisecond instant of an RFC 3339 timestamp (unparseable sorts last).
fn millis(ts: &str) -> i64 {
    parse_rfc3339_ms(ts).unwrap_or(i64::MAX)
}

/// Arrival order of two copies: ingest_time, ingest_shard, ingest_seq (as a
/// number), ingest_sub; then content (title_id, watched_ms, event_time) so
/// copies that share an ingest position still order the same way everywhere.
pub fn copy_order(a: &LakeRow, b: &LakeRow) -> Ordering {
    millis(&a.ingest_time)
        .cmp(&millis(&b.ingest_time))
        .then_with(|| a.ingest_shard.cmp(&b.ingest_shard))
        .then_with(|| cmp_seq(&a.ingest_seq, &b.ingest_seq))
        .then_with(|| a.ingest_sub.cmp(&b.ingest_sub))
        .then_with(|| a.title_id.cmp(&b.title_id))
        .then_with(|| a.watched_ms.cmp(&b.watched_ms))
        .then_with(|| millis(&a.event_time).cmp(&millis(&b.event_time)))
}

/// The winning copy among copies of one event_id.
pub fn winner<'a>(copies: impl IntoIterator<Item = &'a LakeRow>) -> Option<&'a LakeRow> {
    copies.into_iter().min_by(|a, b| copy_order(a, b))
}

/// Rows a close may pay at all (the lake holds only valid rows; be defensive).
pub fn is_payable(r: &LakeRow) -> bool {
    !r.event_id.is_empty() && !r.title_id.is_empty() && r.watched_ms.is_some_and(|w| w >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(ingest: &str, shard: &str, seq: &str, sub: u32, watched: i64) -> LakeRow {
        LakeRow {
            event_id: "e".into(),
            event_type: "heartbeat".into(),
            event_time: "2026-03-01T10:00:00.000Z".into(),
            viewer_id: "v".into(),
            session_id: "s".into(),
            title_id: "t".into(),
            region: "eu".into(),
            watched_ms: Some(watched),
            stalled_ms: None,
            bitrate_kbps: None,
            position_ms: None,
            device_platform: None,
            app_version: None,
            error_code: None,
            startup_ms: None,
            schema_version: 1,
            ingest_time: ingest.into(),
            ingest_shard: shard.into(),
            ingest_seq: seq.into(),
            ingest_sub: sub,
        }
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert_eq!(cmp_seq("9", "10"), Ordering::Less);
        assert_eq!(cmp_seq("10", "9"), Ordering::Greater);
        let big = "4".repeat(129);
        let bigger = format!("5{}", "0".repeat(128));
        assert_eq!(cmp_seq(&big, &bigger), Ordering::Less);
        assert_eq!(cmp_seq(&big, &big), Ordering::Equal);
    }

    #[test]
    fn earliest_arrival_wins_then_shard_seq_sub() {
        let t = "2026-03-01T10:00:01.000Z";
        let earlier = copy("2026-03-01T10:00:00.999Z", "shardId-9", "99", 9, 1);
        let shard0 = copy(t, "shardId-0", "99", 0, 2);
        let seq9 = copy(t, "shardId-1", "9", 5, 3);
        let seq10 = copy(t, "shardId-1", "10", 0, 4);
        let sub1 = copy(t, "shardId-1", "9", 1, 5);
        let all = [
            seq10.clone(),
            seq9.clone(),
            sub1.clone(),
            shard0.clone(),
            earlier.clone(),
        ];
        assert_eq!(winner(&all), Some(&earlier));
        assert_eq!(winner(&all[..4]), Some(&shard0));
        assert_eq!(winner(&all[..3]), Some(&sub1));
        assert_eq!(winner(&all[..2]), Some(&seq9));
        // Same arrival instant written with another offset is the same instant.
        let offset = copy("2026-03-01T11:00:00.999+01:00", "shardId-9", "99", 9, 1);
        assert_eq!(copy_order(&offset, &earlier), Ordering::Equal);
    }

    #[test]
    fn two_events_of_one_packed_record_both_retried_keep_the_first_records_copies() {
        // On AWS every line of a packed record lands with the record's
        // (ingest_time, shard, seq) and ingest_sub 0 (Firehose de-aggregates
        // before the transform). Record 1 packs a and b; the producer retries
        // it as record 2 (later arrival), and Firehose lands record 1 twice.
        let mk = |id: &str, ingest: &str, seq: &str, watched: i64| {
            let mut r = copy(ingest, "shardId-1", seq, 0, watched);
            r.event_id = id.into();
            r
        };
        let first = "2026-03-01T10:00:00.100Z";
        let retry = "2026-03-01T10:00:02.300Z";
        let big = "49590338271490256608559692538361571095921575989136588898";
        let bigger = "49590338271490256608559692538361571095921575989136588899";
        let copies = [
            mk("a", retry, bigger, 10),
            mk("b", retry, bigger, 20),
            mk("a", first, big, 10),
            mk("b", first, big, 20),
            mk("a", first, big, 10),
            mk("b", first, big, 20),
        ];
        for id in ["a", "b"] {
            let of_id: Vec<&LakeRow> = copies.iter().filter(|r| r.event_id == id).collect();
            let w = winner(of_id.iter().copied()).unwrap();
            assert_eq!(
                (w.ingest_time.as_str(), w.ingest_seq.as_str()),
                (first, big)
            );
            // Any input order, the same winner.
            let w_rev = winner(of_id.iter().rev().copied()).unwrap();
            assert_eq!(w, w_rev);
        }
        // The same instant, shard and record: still a total order.
        let same = mk("a", first, big, 10);
        assert_eq!(copy_order(&same, &copies[2]), Ordering::Equal);
    }

    #[test]
    fn copies_at_one_position_order_by_content() {
        let a = copy("2026-03-01T10:00:00.000Z", "s", "1", 0, 100);
        let b = copy("2026-03-01T10:00:00.000Z", "s", "1", 0, 200);
        assert_eq!(winner([&b, &a]), Some(&a));
        assert_eq!(winner([&a, &b]), Some(&a));
    }

    #[test]
    fn payable_rows() {
        let mut r = copy("2026-03-01T10:00:00.000Z", "s", "1", 0, 0);
        assert!(is_payable(&r));
        r.watched_ms = Some(-1);
        assert!(!is_payable(&r));
        r.watched_ms = None;
        assert!(!is_payable(&r));
    }
}

//! Lake rows back into events, in stream order.
//!
//! Each row is serialised to JSON (the contract's fields, plus the ingest
//! columns, which the parser ignores) and parsed by `parse_event`: the very
//! validation the stream consumers run. Rows are then sorted per shard by
//! stream position (sequence number compared as a number, then the line index
//! in a packed record), which is the order Lambda delivered them: the lake's
//! own order (partition, file, row) is an accident of Firehose buffering.

use playback_domain::event::{parse_event, parse_rfc3339_ms};
use playback_domain::lake::LakeRow;
use playback_domain::{OwnedEvent, StreamPosition};

use crate::BackfillError;

/// One event of the lake at its place in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayEvent {
    pub event: OwnedEvent,
    pub position: StreamPosition,
    pub shard: String,
    /// When the stream received it (Kinesis ApproximateArrivalTimestamp).
    pub arrival_ms: i64,
}

/// The clock of re-validation. The future-time check was made when the row
/// landed (the transform Lambda's clock), so here it never refuses: a row in
/// the lake is replayed whenever the backfill runs.
const REPLAY_NOW_MS: i64 = i64::MAX / 4;

/// Rebuilds every row's event and orders them as the stream delivered them:
/// by shard, then by [`StreamPosition`].
///
/// Firehose de-aggregates a packed record before the transform and hands every
/// line the record's metadata with `subsequenceNumber` 0, so the lines of one
/// record share (shard, seq, ingest_sub). They land consecutively, in record
/// order, in one object; so within one record the line index is the rank of
/// a row among that record's distinct event_ids in lake order (stable on
/// ingest_sub, which rows landed before de-aggregation carried). A row that
/// landed twice (Firehose delivers at least once) is kept once.
pub fn rows_to_events(rows: &[LakeRow]) -> Result<Vec<ReplayEvent>, BackfillError> {
    let mut out = rows
        .iter()
        .map(|r| row_to_event(r).map(|e| (e, r.event_id.as_str())))
        .collect::<Result<Vec<_>, _>>()?;
    // Stable: rows of one record keep their lake order.
    out.sort_by(|(a, _), (b, _)| {
        (a.shard.as_str(), &a.position).cmp(&(b.shard.as_str(), &b.position))
    });
    let mut ranked: Vec<ReplayEvent> = Vec::with_capacity(out.len());
    let mut record_ids: Vec<&str> = Vec::new();
    for (e, id) in out {
        let same_record = ranked.last().is_some_and(|p| {
            p.shard == e.shard && p.position.sequence_number() == e.position.sequence_number()
        });
        if !same_record {
            record_ids.clear();
        }
        if record_ids.contains(&id) {
            continue;
        }
        let rank = record_ids.len() as u32;
        record_ids.push(id);
        let position = e.position.with_sub(rank);
        ranked.push(ReplayEvent { position, ..e });
    }
    Ok(ranked)
}

fn row_to_event(row: &LakeRow) -> Result<ReplayEvent, BackfillError> {
    let bad = |what: String| BackfillError::BadIngest {
        shard: row.ingest_shard.clone(),
        seq: row.ingest_seq.clone(),
        sub: row.ingest_sub,
        what,
    };
    if row.ingest_shard.is_empty() {
        return Err(bad("no ingest_shard".into()));
    }
    let position = StreamPosition::new(&row.ingest_seq, row.ingest_sub)
        .ok_or_else(|| bad("ingest_seq is not a decimal sequence number".into()))?;
    let arrival_ms =
        parse_rfc3339_ms(&row.ingest_time).map_err(|e| bad(format!("ingest_time: {e}")))?;
    let json = serde_json::to_string(row).expect("a lake row serialises");
    let event = parse_event(&json, REPLAY_NOW_MS, 0)
        .map_err(|e| BackfillError::InvalidRow {
            shard: row.ingest_shard.clone(),
            seq: row.ingest_seq.clone(),
            sub: row.ingest_sub,
            reason: e.to_string(),
        })?
        .into_owned();
    Ok(ReplayEvent {
        event,
        position,
        shard: row.ingest_shard.clone(),
        arrival_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(shard: &str, seq: &str, sub: u32, watched: i64) -> LakeRow {
        LakeRow {
            event_id: format!("e-{seq}-{sub}"),
            event_type: "heartbeat".into(),
            event_time: "2026-11-23T10:00:01.000Z".into(),
            viewer_id: format!("v-{shard}"),
            session_id: "s1".into(),
            title_id: "t1".into(),
            region: "eu".into(),
            watched_ms: Some(watched),
            stalled_ms: None,
            bitrate_kbps: None,
            position_ms: None,
            device_platform: Some("tv".into()),
            app_version: None,
            error_code: None,
            startup_ms: None,
            schema_version: 1,
            ingest_time: "2026-11-23T10:00:05.123Z".into(),
            ingest_shard: shard.into(),
            ingest_seq: seq.into(),
            ingest_sub: sub,
        }
    }

    #[test]
    fn orders_by_numeric_sequence_then_line_and_drops_duplicate_rows() {
        let rows = vec![
            row("s-1", "10", 1, 3),
            row("s-1", "9", 0, 1),
            row("s-0", "100", 0, 7),
            row("s-1", "10", 0, 2),
            row("s-1", "10", 1, 3),
        ];
        let evs = rows_to_events(&rows).unwrap();
        let order: Vec<_> = evs
            .iter()
            .map(|e| (e.shard.as_str(), e.position.to_string()))
            .collect();
        assert_eq!(
            order,
            [
                ("s-0", "100/0".to_string()),
                ("s-1", "9/0".into()),
                ("s-1", "10/0".into()),
                ("s-1", "10/1".into())
            ]
        );
        assert_eq!(evs[1].arrival_ms, 1_795_428_005_123);
        assert_eq!(evs[3].event.watched_ms, Some(3));
    }

    #[test]
    fn lines_of_one_record_landed_with_sub_0_get_their_index_from_lake_order() {
        // What Firehose lands for a record "c\na\nb" (seq 10), landed twice,
        // and a one-line record (seq 9).
        let mut rows = Vec::new();
        for _ in 0..2 {
            for (id, w) in [("c", 1), ("a", 2), ("b", 3)] {
                let mut r = row("s-1", "10", 0, w);
                r.event_id = id.into();
                rows.push(r);
            }
        }
        rows.push(row("s-1", "9", 0, 9));
        let evs = rows_to_events(&rows).unwrap();
        let got: Vec<_> = evs
            .iter()
            .map(|e| (e.event.event_id.as_ref(), e.position.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("e-9-0", "9/0".to_string()),
                ("c", "10/0".into()),
                ("a", "10/1".into()),
                ("b", "10/2".into())
            ]
        );
    }

    #[test]
    fn invalid_rows_are_errors_naming_the_position() {
        let mut r = row("s-1", "12", 2, -5);
        let e = rows_to_events(std::slice::from_ref(&r)).unwrap_err();
        assert!(e.to_string().contains("s-1/12/2"), "{e}");
        r.watched_ms = Some(5);
        r.ingest_seq = "12x".into();
        assert!(matches!(
            rows_to_events(&[r]).unwrap_err(),
            BackfillError::BadIngest { .. }
        ));
    }
}

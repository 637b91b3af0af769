//! The 500-event cap as Firehose applies it, and what the emulator releases
//! for the source's checkpoint.

use super::*;

#[tokio::test]
async fn a_record_over_500_events_is_not_deaggregated_and_lands_in_the_error_output_whole() {
    use playback_domain::event::MAX_EVENTS_PER_RECORD;
    let (mut fh, store) = emulator(1 << 20, 60_000);
    let pack = |n: usize| {
        (0..n)
            .map(|i| ev(&format!("e{i}")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let at_cap = pack(MAX_EVENTS_PER_RECORD);
    let over = pack(MAX_EVENTS_PER_RECORD + 1);
    let report = fh
        .put_at(&[rec(1, T0, &at_cap), rec(2, T0, &over)], ms(T0))
        .unwrap();
    assert_eq!(report.firehose_records, MAX_EVENTS_PER_RECORD + 1);
    assert_eq!((report.rows_buffered, report.processing_failed), (500, 1));
    fh.flush_all().await.unwrap();
    let rows = lake_rows(&store);
    assert_eq!(rows.len(), 500);
    assert!(
        rows.iter().all(|r| r.ingest_seq == "1"),
        "nothing of the oversized record"
    );
    let docs = error_docs(&store, "processing-failed");
    assert_eq!(docs.len(), 1);
    let raw = B64.decode(docs[0]["rawData"].as_str().unwrap()).unwrap();
    assert_eq!(
        raw,
        over.as_bytes(),
        "the whole record, for triage and redrive"
    );
}

#[tokio::test]
async fn a_record_is_released_for_checkpointing_only_once_it_and_every_earlier_one_landed() {
    let (mut fh, _store) = emulator(1 << 20, 60_000);
    let (t1, t2) = ("2026-11-23T10:59:59.000Z", "2026-11-23T11:00:01.000Z");
    fh.put_at(&[rec(1, t1, &ev("a"))], ms(t1)).unwrap();
    let later = ms(t1) + 61_000;
    fh.put_at(&[rec(2, t2, &ev("b")), rec(3, t2, "not json")], later)
        .unwrap();
    assert!(fh.delivered().is_empty(), "buffered is not delivered");
    // Hour 10's buffer is due, hour 11's (and the error output) not yet.
    fh.flush_due(later).await.unwrap();
    let shard = "shardId-000000000001".to_string();
    assert_eq!(fh.delivered(), [(shard.clone(), "1".to_string())]);
    assert!(fh.delivered().is_empty(), "reported once");
    fh.flush_all().await.unwrap();
    assert_eq!(fh.delivered(), [(shard, "3".to_string())]);
}

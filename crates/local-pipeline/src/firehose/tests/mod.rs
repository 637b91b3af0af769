use aws_lambda_events::event::firehose::KinesisFirehoseResponse;
use base64::Engine;
use playback_domain::event::parse_rfc3339_ms;
use playback_domain::lake::LakeRow;
use serde_json::Value;

use super::io::B64;
use super::*;
use lake::read_rows;
use lake::MemoryStore;

fn ms(t: &str) -> i64 {
    parse_rfc3339_ms(t).unwrap()
}

fn ev(id: &str) -> String {
    format!(
        r#"{{"event_id":"{id}","event_type":"heartbeat","event_time":"2026-11-23T10:00:01Z","viewer_id":"v1","session_id":"s1","title_id":"t1","region":"eu","watched_ms":8000,"stalled_ms":0}}"#
    )
}

fn rec(seq: u32, arrival: &str, data: &str) -> StreamRecord {
    StreamRecord {
        shard_id: "shardId-000000000001".into(),
        sequence_number: seq.to_string(),
        partition_key: "v1".into(),
        arrival_ms: ms(arrival),
        data: data.as_bytes().to_vec(),
    }
}

fn emulator(bytes: usize, interval_ms: i64) -> (FirehoseEmulator<MemoryStore>, MemoryStore) {
    let store = MemoryStore::new();
    let cfg = FirehoseConfig::from_topology().with_buffering(bytes, interval_ms);
    (FirehoseEmulator::new(cfg, store.clone()), store)
}

fn lake_rows(store: &MemoryStore) -> Vec<LakeRow> {
    let keys = store.keys_under("events/");
    keys.iter()
        .flat_map(|k| read_rows(&store.get(k).unwrap()).unwrap())
        .collect()
}

fn error_docs(store: &MemoryStore, kind: &str) -> Vec<Value> {
    let keys = store.keys_under(&format!("errors/{kind}/"));
    keys.iter()
        .flat_map(|k| {
            let text = String::from_utf8(store.get(k).unwrap()).unwrap();
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

const T0: &str = "2026-11-23T10:00:05.123Z";

#[tokio::test]
async fn a_packed_record_yields_one_row_per_line() {
    let (mut fh, store) = emulator(1 << 20, 60_000);
    let packed = format!("{}\n\n{}\r\n{}\n", ev("a"), ev("b"), ev("c"));
    let report = fh.put_at(&[rec(7, T0, &packed)], ms(T0)).unwrap();
    assert_eq!(
        (
            report.records,
            report.firehose_records,
            report.rows_buffered
        ),
        (1, 3, 3)
    );
    let files = fh.flush_all().await.unwrap();
    assert_eq!(files.len(), 1);
    let rows = lake_rows(&store);
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.event_id.as_str(), r.ingest_sub))
        .collect();
    // Firehose hands the transform each line with its record's metadata and
    // subsequenceNumber 0: the lines keep their order as rows, not as ingest_sub.
    assert_eq!(got, [("a", 0), ("b", 0), ("c", 0)]);
    assert!(rows
        .iter()
        .all(|r| r.ingest_seq == "7" && r.ingest_time == T0));
    assert_eq!(rows[0].event_time, "2026-11-23T10:00:01.000Z");
}

#[tokio::test]
async fn invalid_lines_go_to_the_error_output_with_their_original_bytes() {
    let (mut fh, store) = emulator(1 << 20, 60_000);
    let bad = r#"{"event_id":"x","event_type":"heartbeat"}"#;
    let report = fh
        .put_at(&[rec(1, T0, &format!("{}\n{bad}", ev("ok")))], ms(T0))
        .unwrap();
    assert_eq!((report.rows_buffered, report.processing_failed), (1, 1));
    let files = fh.flush_all().await.unwrap();
    let err = files
        .iter()
        .find(|f| f.kind == OutputKind::ProcessingFailed)
        .unwrap();
    assert!(
        err.key
            .starts_with("errors/processing-failed/dt=2026-11-23/playback-lake-1-"),
        "{}",
        err.key
    );
    let docs = error_docs(&store, "processing-failed");
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(
        B64.decode(d["rawData"].as_str().unwrap()).unwrap(),
        bad.as_bytes()
    );
    assert_eq!(d["errorCode"], "Lambda.ProcessingFailedStatus");
    assert_eq!(d["errorMessage"], "ProcessingFailed status set for record");
    assert_eq!(d["attemptsMade"], 1);
    assert_eq!(d["arrivalTimestamp"], ms(T0));
    assert!(d["attemptEndingTimestamp"].is_i64());
    assert_eq!(d["lambdaArn"], fh.config().lambda_arn.as_str());
    assert_eq!(lake_rows(&store).len(), 1);
    assert_eq!(fh.stats().failed(), 1);
}

#[tokio::test]
async fn partitions_follow_the_arrival_time_across_an_hour_boundary() {
    let (mut fh, store) = emulator(1 << 20, 60_000);
    let before = rec(1, "2026-11-23T10:59:59.999Z", &ev("late"));
    let after = rec(2, "2026-11-23T11:00:00.000Z", &ev("next"));
    fh.put_at(&[before, after], ms("2026-11-23T11:00:00.500Z"))
        .unwrap();
    let mut keys: Vec<_> = fh
        .flush_all()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.key)
        .collect();
    keys.sort();
    assert_eq!(keys.len(), 2);
    assert!(
        keys[0].starts_with("events/dt=2026-11-23/hour=10/playback-lake-1-2026-11-23-10-59-59-")
    );
    assert!(
        keys[1].starts_with("events/dt=2026-11-23/hour=11/playback-lake-1-2026-11-23-11-00-00-")
    );
    assert!(keys.iter().all(|k| k.ends_with(".parquet")));
    let in_10 = read_rows(&store.get(&keys[0]).unwrap()).unwrap();
    assert_eq!(in_10[0].event_id, "late");
}

#[tokio::test]
async fn a_buffer_flushes_when_it_reaches_the_size() {
    let one = ev("e-0").len() + 200; // a lake row is longer than its event
    let (mut fh, store) = emulator(3 * one, 3_600_000);
    let t = ms(T0);
    let r = fh.put_at(&[rec(1, T0, &ev("e-1"))], t).unwrap();
    assert!(!r.flush_needed);
    assert!(fh.flush_due(t).await.unwrap().is_empty());
    let more: Vec<_> = (2..6).map(|i| rec(i, T0, &ev(&format!("e-{i}")))).collect();
    assert!(fh.put_at(&more, t).unwrap().flush_needed);
    let files = fh.flush_due(t).await.unwrap();
    assert_eq!((files.len(), files[0].rows), (1, 5));
    assert_eq!(lake_rows(&store).len(), 5);
    assert_eq!(fh.buffered(), 0);
}

#[tokio::test]
async fn a_buffer_flushes_when_it_reaches_the_interval() {
    let (mut fh, store) = emulator(64 << 20, 5_000);
    let t = ms(T0);
    fh.put_at(&[rec(1, T0, &ev("a"))], t).unwrap();
    fh.put_at(&[rec(2, T0, &ev("b"))], t + 3_000).unwrap();
    assert_eq!(fh.next_due_ms(), Some(t + 5_000));
    assert!(fh.flush_due(t + 4_999).await.unwrap().is_empty());
    let files = fh.flush_due(t + 5_000).await.unwrap();
    assert_eq!(files[0].rows, 2);
    assert_eq!(store.keys_under("events/").len(), 1);
    assert_eq!(fh.next_due_ms(), None);
}

#[tokio::test]
async fn parquet_files_read_back_to_exactly_the_valid_rows() {
    let (mut fh, store) = emulator(1 << 20, 60_000);
    let mut input = Vec::new();
    for i in 0..40u32 {
        let minute = i % 3 * 30; // three arrival hours: 10:00, 10:30 (same), 11:00
        let arrival = format!("2026-11-23T{}:{:02}:00.000Z", 10 + minute / 60, minute % 60);
        let data = if i % 5 == 0 {
            format!("not json {i}")
        } else {
            format!("{}\n{}", ev(&format!("a{i}")), ev(&format!("b{i}")))
        };
        input.push(rec(i, &arrival, &data));
    }
    let now = ms("2026-11-23T11:01:00Z");
    fh.put_at(&input, now).unwrap();
    fh.flush_all().await.unwrap();
    // The rows the Lambda itself returns for the same Firehose records.
    let mut expected = Vec::new();
    for r in &input {
        for line in io::deaggregate(&r.data) {
            let fr = io::firehose_record("x".into(), line, r);
            let out = firehose_transform::transform_record(&fr, Clock::at(now));
            if out.result.as_deref() == Some("Ok") {
                expected.extend(io::convert(&out.data).unwrap());
            }
        }
    }
    let key = |r: &LakeRow| (r.ingest_seq.len(), r.ingest_seq.clone(), r.event_id.clone());
    let mut got = lake_rows(&store);
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(got.len(), 64);
    assert_eq!(got, expected);
    assert_eq!(store.keys_under("events/").len(), 2);
    assert_eq!(error_docs(&store, "processing-failed").len(), 8);
    let s = fh.stats();
    assert_eq!(
        (
            s.records_in,
            s.firehose_records,
            s.rows_landed,
            s.processing_failed
        ),
        (40, 72, 64, 8)
    );
}

#[tokio::test]
async fn a_failed_put_keeps_the_buffer_and_the_next_flush_retries_the_same_key() {
    let (mut fh, store) = emulator(1 << 20, 60_000);
    fh.put_at(&[rec(1, T0, &ev("a"))], ms(T0)).unwrap();
    store.fail_next_puts(1);
    assert!(matches!(fh.flush_all().await, Err(LakeError::Store { .. })));
    assert_eq!((fh.buffered(), store.objects().len()), (1, 0));
    fh.put_at(&[rec(2, T0, &ev("b"))], ms(T0)).unwrap();
    let files = fh.flush_all().await.unwrap();
    assert_eq!((files.len(), files[0].rows), (1, 2));
    assert_eq!(store.put_attempts(), 2);
    assert_eq!((fh.stats().put_failures, fh.stats().files), (1, 1));
    assert_eq!(lake_rows(&store).len(), 2);
}

fn drop_last_answer(e: &FirehoseEvent, c: Clock) -> KinesisFirehoseResponse {
    let mut r = firehose_transform::transform(e, c);
    r.records.pop();
    r
}

fn duplicate_answer(e: &FirehoseEvent, c: Clock) -> KinesisFirehoseResponse {
    let mut r = firehose_transform::transform(e, c);
    let first = r.records[0].clone();
    r.records.push(first);
    r
}

fn unknown_result(e: &FirehoseEvent, c: Clock) -> KinesisFirehoseResponse {
    let mut r = firehose_transform::transform(e, c);
    r.records[0].result = Some("Maybe".into());
    r
}

#[tokio::test]
async fn a_response_that_breaks_the_contract_fails_its_whole_invocation() {
    for (f, code) in [
        (drop_last_answer as TransformFn, "Lambda.MissingRecordId"),
        (duplicate_answer, "Lambda.DuplicatedRecordId"),
        (unknown_result, "Lambda.InvalidOutput"),
    ] {
        let store = MemoryStore::new();
        let mut fh =
            FirehoseEmulator::with_transform(FirehoseConfig::from_topology(), store.clone(), f);
        let packed = format!("{}\n{}", ev("a"), ev("b"));
        let report = fh.put_at(&[rec(1, T0, &packed)], ms(T0)).unwrap();
        assert_eq!(
            (
                report.processing_failed,
                report.rows_buffered,
                report.invocations
            ),
            (2, 0, 4)
        );
        fh.flush_all().await.unwrap();
        let docs = error_docs(&store, "processing-failed");
        assert_eq!(docs.len(), 2, "{code}");
        assert!(
            docs.iter()
                .all(|d| d["errorCode"] == code && d["attemptsMade"] == 4),
            "{docs:?}"
        );
        assert_eq!(
            B64.decode(docs[1]["rawData"].as_str().unwrap()).unwrap(),
            ev("b").as_bytes()
        );
        assert!(store.keys_under("events/").is_empty());
    }
}

fn rows_off_schema(e: &FirehoseEvent, c: Clock) -> KinesisFirehoseResponse {
    let mut r = firehose_transform::transform(e, c);
    *r.records[0].data = br#"{"event_id":"e","event_time":"soon"}"#.to_vec();
    r.records[1].result = Some("Dropped".into());
    r
}

#[tokio::test]
async fn rows_that_do_not_fit_the_schema_go_to_format_conversion_failed() {
    let store = MemoryStore::new();
    let mut fh = FirehoseEmulator::with_transform(
        FirehoseConfig::from_topology(),
        store.clone(),
        rows_off_schema,
    );
    let packed = format!("{}\n{}\n{}", ev("a"), ev("b"), ev("c"));
    let report = fh.put_at(&[rec(9, T0, &packed)], ms(T0)).unwrap();
    assert_eq!(
        (
            report.conversion_failed,
            report.dropped,
            report.rows_buffered
        ),
        (1, 1, 1)
    );
    fh.flush_all().await.unwrap();
    let docs = error_docs(&store, "format-conversion-failed");
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    assert_eq!(d["lastErrorCode"], "DataFormatConversion.MalformedData");
    assert_eq!(
        B64.decode(d["rawData"].as_str().unwrap()).unwrap(),
        br#"{"event_id":"e","event_time":"soon"}"#
    );
    assert_eq!(
        (
            d["sequenceNumber"].as_str(),
            d["subSequenceNumber"].as_i64()
        ),
        (Some("9"), Some(0))
    );
    assert_eq!(d["dataCatalogTable"]["tableName"], "events");
    assert_eq!(d["dataCatalogTable"]["databaseName"], "playback");
    let rows = lake_rows(&store);
    assert_eq!((rows.len(), rows[0].event_id.as_str()), (1, "c"));
}

#[tokio::test]
async fn large_puts_are_split_into_several_invocations() {
    let store = MemoryStore::new();
    let mut cfg = FirehoseConfig::from_topology();
    cfg.lambda_buffer_bytes = 2_000;
    let mut fh = FirehoseEmulator::new(cfg, store.clone());
    let input: Vec<_> = (0..30).map(|i| rec(i, T0, &ev(&format!("e{i}")))).collect();
    let report = fh.put_at(&input, ms(T0)).unwrap();
    let per_invocation = 2_000 / B64.encode(ev("e10")).len();
    assert_eq!(
        report.invocations,
        30_usize.div_ceil(per_invocation),
        "{report:?}"
    );
    assert_eq!(report.rows_buffered, 30);
    fh.flush_all().await.unwrap();
    assert_eq!(lake_rows(&store).len(), 30);
}

#[test]
fn the_topology_config_is_the_deployed_one() {
    let c = FirehoseConfig::from_topology();
    assert_eq!(c.delivery_stream_name, "playback-lake");
    assert_eq!(
        (c.prefix.as_str(), c.error_prefix.as_str()),
        ("events/", "errors/")
    );
    assert_eq!((c.buffer_bytes, c.buffer_interval_ms), (64 << 20, 300_000));
    assert_eq!(
        (c.glue_database.as_str(), c.glue_table.as_str()),
        ("playback", "events")
    );
}

mod caps;

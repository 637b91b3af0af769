//! The training actions over the twins: a day of slices per bucket carrying
//! yesterday's state, a byte-identical slice re-run, a gap refused.

use arrow_array::Array;
use bytes::Bytes;
use offline_features::slices;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use playback_domain::catalogue::{Title, TitleKind};
use playback_domain::lake::{Ingest, LakeRow};
use playback_domain::record::{decode_record, Clock};

use super::*;
use crate::training::inputs_unload_sql;

const D1: &str = "2025-12-03";
const D2: &str = "2025-12-04";

fn row(id: &str, kind: &str, t: i64, seq: u64) -> LakeRow {
    let time = playback_domain::event::format_rfc3339_ms(t);
    let json = format!(
        r#"{{"event_id":"{id}","event_type":"{kind}","event_time":"{time}","viewer_id":"v1","session_id":"s-{t}","title_id":"song","region":"eu","watched_ms":60000,"position_ms":1000,"device_platform":"tv"}}"#
    );
    let d = decode_record(json.as_bytes(), Clock::at(i64::MAX / 4));
    let e = d
        .into_iter()
        .next()
        .expect("one line")
        .result
        .expect("valid");
    let seq = format!("{seq:024}");
    let ingest = Ingest {
        arrival_ms: t,
        shard_id: "shardId-000000000000",
        sequence_number: &seq,
        sub_index: 0,
    };
    LakeRow::new(&e, &ingest)
}

/// A day's UNLOAD output for bucket 0: a heartbeat then a skip of v1.
fn land_day(a: &App<Recorder, Bucket, MemoryFeatureStore>, day: &str, t: i64, seq: u64) {
    let rows = [
        row(&format!("{day}-hb"), "heartbeat", t, seq),
        row(&format!("{day}-skip"), "skip", t + 1_000, seq + 1),
    ];
    let key = format!("{}20251203_0.parquet", slices::input_bucket_prefix(day, 0));
    a.objects
        .insert(&key, lake::write_rows(&rows).expect("rows"));
}

fn setup() -> App<Recorder, Bucket, MemoryFeatureStore> {
    let a = app();
    let titles = [Title {
        title_id: "song".into(),
        genre: "music".into(),
        kind: TitleKind::Track,
        duration_ms: 200_000,
        release_day: "2025-01-01".into(),
    }];
    let cat = &playback_topology::Topology::deployed()
        .lake
        .catalogue_prefix;
    a.objects.insert(
        &format!("{cat}part-0.parquet"),
        lake::write_titles(&titles).expect("titles"),
    );
    // The run at D1 00:00, published at 03:00: served to D2's skip, not D1's.
    a.objects.insert(
        &format!("{}f.parquet", run_prefix(AS_OF)),
        run_file(&[("v1", Some("music"), 4)]),
    );
    let m = offline_features::runs::Manifest {
        as_of_ms: AS_OF,
        published_ms: AS_OF + 3 * 3_600_000,
        viewers: 1,
        written: 1,
        stale: 0,
    };
    a.objects
        .insert(&manifest_key(AS_OF), serde_json::to_vec(&m).expect("json"));
    land_day(&a, D1, AS_OF + 3_600_000, 1);
    land_day(&a, D2, AS_OF + 86_400_000 + 3_600_000, 10);
    a
}

fn column(bytes: &[u8], name: &str) -> Vec<Option<i64>> {
    let r = ParquetRecordBatchReaderBuilder::try_new(Bytes::copy_from_slice(bytes))
        .expect("parquet")
        .build()
        .expect("reader");
    let mut out = Vec::new();
    for b in r {
        let b = b.expect("batch");
        let c = b.column_by_name(name).expect("column");
        let c = c.as_any().downcast_ref::<Int64Array>().expect("bigint");
        out.extend((0..c.len()).map(|i| c.is_valid(i).then(|| c.value(i))));
    }
    out
}

async fn build_day(a: &App<Recorder, Bucket, MemoryFeatureStore>, day: &str) -> Vec<Value> {
    let list = a
        .invoke(&json!({"action": "training_list", "day": day}), now())
        .await
        .expect("list");
    let mut listings = Vec::new();
    for item in list["slices"].as_array().expect("slices") {
        let ev = json!({"action": "training_slice", "day": day,
                        "bucket": item["bucket"], "keys": item["keys"]});
        listings.push(a.invoke(&ev, now()).await.expect("slice"));
    }
    listings
}

#[tokio::test]
async fn a_day_of_slices_continues_yesterdays_state_and_reruns_byte_for_byte() {
    let a = setup();
    let stale = format!("{}bucket=1/old.parquet", slices::inputs_prefix(D1));
    a.objects.insert(&stale, b"an earlier attempt".to_vec());
    let started = a
        .invoke(&json!({"action": "training_start", "day": D1}), now())
        .await
        .unwrap();
    assert_eq!(started["day"], D1);
    assert!(
        a.objects.object(&stale).is_none(),
        "the input prefix is emptied"
    );
    let sql = a.athena.0.lock().unwrap().last().cloned().unwrap();
    assert!(sql.contains("partitioned_by = ARRAY['bucket']") && sql.contains("% 3 AS bucket"));
    assert!(sql.contains("2025-12-03 00:00:00.000") && sql.contains("2025-12-04 00:00:00.000"));
    land_day(&a, D1, AS_OF + 3_600_000, 1);

    let day1 = build_day(&a, D1).await;
    assert_eq!(day1.len(), 3, "every bucket carries its state");
    assert_eq!(
        (day1[0]["events"].clone(), day1[0]["rows"].clone()),
        (json!(2), json!(1))
    );
    let day2 = build_day(&a, D2).await;
    let key = day2[0]["files"][0].as_str().unwrap().to_string();
    assert_eq!(key, slices::file_key(D2, D2, 0, slices::pass_of("v1", 2)));
    let bytes = a.objects.object(&key).unwrap();
    // Two events before D2's skip: D1's, carried in the state, and D2's heartbeat.
    assert_eq!(column(&bytes, "s_events_applied"), [Some(3)]);
    assert_eq!(column(&bytes, "lh_as_of_ms"), [Some(AS_OF)]);
    let d1 = a
        .objects
        .object(&slices::file_key(D1, D1, 0, slices::pass_of("v1", 2)))
        .unwrap();
    assert_eq!(
        column(&d1, "lh_as_of_ms"),
        [None],
        "no run was published before D1's skip"
    );

    let again = build_day(&a, D2).await;
    assert_eq!(again, day2);
    assert_eq!(
        a.objects.object(&key).unwrap(),
        bytes,
        "a re-run writes the same bytes"
    );

    let done = a
        .invoke(
            &json!({"action": "training_finish", "day": D2, "listings": day2}),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        (done["rows"].clone(), done["events"].clone()),
        (json!(1), json!(2))
    );
}

#[tokio::test]
async fn a_missing_day_is_refused_and_a_first_day_starts_empty() {
    let a = setup();
    build_day(&a, D1).await;
    let gap = json!({"action": "training_slice", "day": "2025-12-06", "bucket": 0, "keys": []});
    let err = a.invoke(&gap, now()).await.unwrap_err().to_string();
    assert!(
        err.contains("no state for 2025-12-05") && err.contains("missing days"),
        "{err}"
    );
    let foreign = json!({"action": "training_slice", "day": D2, "bucket": 1,
                         "keys": [format!("{}x.parquet", slices::input_bucket_prefix(D2, 0))]});
    assert!(
        a.invoke(&foreign, now()).await.is_err(),
        "another bucket's file"
    );
    let bad = json!({"action": "training_list", "day": "yesterday"});
    assert!(a.invoke(&bad, now()).await.is_err());
}

#[test]
fn the_input_query_selects_the_lake_columns_then_the_bucket() {
    let sql = inputs_unload_sql("b", D1, 100).unwrap();
    let select = &sql[sql.find("SELECT").unwrap() + 6..sql.find("FROM").unwrap()];
    let names: Vec<String> = select
        .split(',')
        .map(|c| c.split_whitespace().last().unwrap().to_string())
        .filter(|c| !c.ends_with(')'))
        .collect();
    let mut expected = LakeRow::column_names();
    expected.push("bucket".into());
    let tail: Vec<_> = names
        .iter()
        .rev()
        .take(expected.len())
        .rev()
        .cloned()
        .collect();
    assert_eq!(tail, expected);
    assert!(inputs_unload_sql("b", "2025-13-01", 100).is_err());
}

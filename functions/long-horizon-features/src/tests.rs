//! The handler over in-memory twins: a map of objects for the bucket,
//! `MemoryFeatureStore` for the features table, a recorder for Athena.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use chrono::{TimeZone, Utc};
use lake::{LakeError, ObjectStore};
use offline_features::publish::Budget;
use parquet::arrow::ArrowWriter;
use playback_aws::emf::Metrics;
use playback_domain::long_horizon::GenreShare;
use playback_domain::memory::MemoryFeatureStore;
use playback_domain::ports::LongHorizonStore;
use serde_json::{json, Value};

use super::*;

#[derive(Default, Clone)]
struct Bucket(Arc<Mutex<BTreeMap<String, Vec<u8>>>>);

impl Bucket {
    fn keys(&self) -> Vec<String> {
        self.0.lock().expect("lock").keys().cloned().collect()
    }
    fn object(&self, key: &str) -> Option<Vec<u8>> {
        self.0.lock().expect("lock").get(key).cloned()
    }
    fn insert(&self, key: &str, body: Vec<u8>) {
        self.0.lock().expect("lock").insert(key.into(), body);
    }
}

impl ObjectStore for Bucket {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), LakeError> {
        self.insert(key, body);
        Ok(())
    }
}

impl RunObjects for Bucket {
    async fn list(&self, prefix: &str) -> Result<Vec<String>, LakeError> {
        Ok(self
            .keys()
            .into_iter()
            .filter(|k| k.starts_with(prefix))
            .collect())
    }
    async fn read(&self, key: &str) -> Result<Vec<u8>, LakeError> {
        self.object(key).ok_or_else(|| LakeError::Store {
            key: key.into(),
            message: "no such object".into(),
        })
    }
    async fn remove(&self, key: &str) -> Result<(), LakeError> {
        self.0.lock().expect("lock").remove(key);
        Ok(())
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl QueryStarter for Recorder {
    async fn start(&self, sql: &str) -> Result<String, JobError> {
        let mut q = self.0.lock().expect("lock");
        q.push(sql.to_string());
        Ok(format!("q-{}", q.len()))
    }
}

const AS_OF: i64 = 1_764_720_000_000; // 2025-12-03 00:00:00 UTC

fn cfg() -> Config {
    Config {
        bucket: "lake-bucket".into(),
        database: "playback".into(),
        workgroup: "playback".into(),
        features_table: "playback-viewer-features".into(),
        ttl_days: 90,
        budget: Budget {
            writes_per_s: 100_000.0,
            concurrency: 4,
            attempts: 3,
        },
        slice_files: 2,
        training_buckets: 3,
        training_passes: 2,
    }
}

fn app() -> App<Recorder, Bucket, MemoryFeatureStore> {
    App {
        athena: Recorder::default(),
        objects: Bucket::default(),
        store: MemoryFeatureStore::default(),
        cfg: cfg(),
        metrics: Metrics::memory(),
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(AS_OF + 2 * 3_600_000 + 5)
        .single()
        .expect("a time")
}

/// A test viewer: id, top genre, plays.
type Viewer<'a> = (&'a str, Option<&'a str>, i64);

/// A run file as UNLOAD writes it: RUN_COLUMNS, integers as bigint.
fn run_file(viewers: &[Viewer<'_>]) -> Vec<u8> {
    let text = |f: &dyn Fn(&Viewer<'_>) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(viewers.iter().map(f).collect::<Vec<_>>()))
    };
    let int = |f: &dyn Fn(&Viewer<'_>) -> Option<i64>| -> ArrayRef {
        Arc::new(Int64Array::from(viewers.iter().map(f).collect::<Vec<_>>()))
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|v| Some(v.0.to_string())),
        text(&|v| v.1.map(str::to_string)),
        int(&|v| v.1.map(|_| 10_000)),
        text(&|_| None),
        int(&|_| None),
        text(&|_| None),
        int(&|_| None),
        int(&|v| Some(v.2)),
        int(&|v| Some(if v.2 > 0 { 5_000 } else { 0 })),
        text(&|_| Some("tv".into())),
        text(&|_| Some("evening".into())),
        int(&|_| Some(3)),
        int(&|v| Some(v.2 * 60_000)),
    ];
    let fields: Vec<Field> = RUN_COLUMNS
        .iter()
        .zip(&columns)
        .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
        .collect();
    assert!(fields
        .iter()
        .all(|f| matches!(f.data_type(), DataType::Utf8 | DataType::Int64)));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch");
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
    out
}

fn run_key(name: &str) -> String {
    format!("features/long_horizon/as_of={AS_OF}/{name}.parquet")
}

#[tokio::test]
async fn publish_writes_the_file_rows_into_the_store_and_reports_them() {
    let app = app();
    app.objects.insert(
        &run_key("a"),
        run_file(&[("v1", Some("drama"), 4), ("v2", None, 0)]),
    );
    let event = json!({"action": "publish", "as_of_ms": AS_OF, "keys": [run_key("a")], "published_ms": AS_OF + 7});
    let out = app.invoke(&event, now()).await.expect("publish");
    assert_eq!(
        out,
        json!({"viewers": 2, "written": 2, "stale": 0, "retried": 0})
    );

    let got = app
        .store
        .load_published(&["v1".into(), "v2".into()])
        .await
        .expect("load");
    let v1 = &got["v1"];
    assert_eq!(v1.published_ms, AS_OF + 7);
    assert_eq!(v1.features.as_of_ms, AS_OF);
    assert_eq!(
        v1.features.top_genres,
        vec![GenreShare {
            genre: "drama".into(),
            share_bp: 10_000
        }]
    );
    assert_eq!((v1.features.plays, v1.features.watched_ms), (4, 240_000));
    assert_eq!(v1.features.preferred_device.as_deref(), Some("tv"));
    assert!(got["v2"].features.top_genres.is_empty());

    // The same slice again (a Map retry): nothing newer, every row stale.
    let again = app.invoke(&event, now()).await.expect("retry");
    assert_eq!(again["stale"], 2);
    assert_eq!(again["written"], 0);

    let docs = app.metrics.documents();
    let written: Vec<f64> = docs
        .iter()
        .filter_map(|d| d.get("LongHorizonWritten").and_then(Value::as_f64))
        .collect();
    assert_eq!(written, vec![2.0, 0.0]);
}

#[tokio::test]
async fn list_slices_the_run_files_and_finish_writes_the_manifest_from_the_reports() {
    let app = app();
    for name in ["a", "b", "c"] {
        app.objects
            .insert(&run_key(name), run_file(&[("v", None, 1)]));
    }
    app.objects
        .insert("features/long_horizon/as_of=1/other.parquet", vec![]);
    let listed = app
        .invoke(&json!({"action": "list", "as_of_ms": AS_OF}), now())
        .await
        .expect("list");
    assert_eq!(listed["files"], 3);
    assert_eq!(
        listed["slices"],
        json!([[run_key("a"), run_key("b")], [run_key("c")]])
    );
    assert_eq!(listed["published_ms"], now().timestamp_millis());

    let reports = json!([
        {"viewers": 5, "written": 4, "stale": 1, "retried": 2},
        {"viewers": 3, "written": 3, "stale": 0, "retried": 0}
    ]);
    let out = app
        .invoke(
            &json!({"action": "finish", "as_of_ms": AS_OF, "published_ms": AS_OF + 9, "reports": reports}),
            now(),
        )
        .await
        .expect("finish");
    let key = format!("features/long_horizon/_runs/{AS_OF}.json");
    assert_eq!(out["manifest"], key);
    let m: runs::Manifest =
        serde_json::from_slice(&app.objects.object(&key).expect("manifest written")).expect("json");
    assert_eq!(
        m,
        runs::Manifest {
            as_of_ms: AS_OF,
            published_ms: AS_OF + 9,
            viewers: 8,
            written: 7,
            stale: 1
        }
    );
}

#[tokio::test]
async fn compute_unloads_the_query_at_the_cutoff_into_an_emptied_run_prefix() {
    let app = app();
    app.objects
        .insert(&run_key("left-by-a-failed-run"), vec![1]);
    app.objects
        .insert(&manifest_key(AS_OF - 86_400_000), vec![1]);
    let out = app
        .invoke(&json!({"action": "compute"}), now())
        .await
        .expect("compute");
    assert_eq!(out, json!({"as_of_ms": AS_OF, "query_id": "q-1"}));
    assert_eq!(app.objects.keys(), vec![manifest_key(AS_OF - 86_400_000)]);
    let sql = app.athena.0.lock().expect("lock")[0].clone();
    assert!(
        sql.starts_with("UNLOAD (SELECT viewer_id, genre_1, "),
        "{sql}"
    );
    assert!(sql.ends_with(&format!(
        "TO 's3://lake-bucket/features/long_horizon/as_of={AS_OF}/' WITH (format = 'PARQUET', compression = 'SNAPPY')"
    )));
    assert!(sql.contains("TIMESTAMP '2025-12-03 00:00:00.000 UTC' - INTERVAL '30' DAY"));
    assert!(!sql.contains("{{"), "every parameter replaced");
    assert!(
        !sql.contains("--"),
        "comments dropped (a quote in one would break the string)"
    );
}

#[tokio::test]
async fn bad_input_is_a_clear_error_and_touches_nothing() {
    let app = app();
    let cases = [
        (json!({}), "missing field `action`"),
        (json!({"action": "train"}), "unknown variant `train`"),
        (json!({"action": "list"}), "missing field `as_of_ms`"),
        (
            json!({"action": "list", "as_of_ms": "today"}),
            "invalid type",
        ),
        (json!({"action": "list", "as_of_ms": -1}), "before 1970"),
        (
            json!({"action": "publish", "as_of_ms": AS_OF, "keys": ["canonical/x.parquet"], "published_ms": 1}),
            "is not under",
        ),
        (
            json!({"action": "finish", "as_of_ms": AS_OF, "published_ms": 1}),
            "missing field `reports`",
        ),
    ];
    for (event, why) in cases {
        let err = app
            .invoke(&event, now())
            .await
            .expect_err("rejected")
            .to_string();
        assert!(err.contains(why), "{event}: {err}");
    }
    assert!(app.objects.keys().is_empty());
    assert!(app.athena.0.lock().expect("lock").is_empty());
    assert!(app.store.long_horizon.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_file_that_is_not_a_run_fails_the_slice() {
    let app = app();
    app.objects
        .insert(&run_key("junk"), b"not parquet".to_vec());
    let err = app
        .invoke(
            &json!({"action": "publish", "as_of_ms": AS_OF, "keys": [run_key("junk")], "published_ms": 1}),
            now(),
        )
        .await
        .expect_err("junk");
    assert!(matches!(err, JobError::Offline(_)), "{err}");
}

#[test]
fn the_default_cutoff_is_today_midnight_utc() {
    assert_eq!(default_as_of(now()), AS_OF);
}

#[path = "training_tests.rs"]
mod training;

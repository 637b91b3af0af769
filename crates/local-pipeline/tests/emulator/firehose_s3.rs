//! The emulator against a real S3 API (moto or LocalStack via AWS_ENDPOINT_URL):
//! an emulator test, run by `make test` (or
//! `scripts/with-emulator.sh cargo test -p local-pipeline -- --ignored`).

use base64::Engine;
use lake::{read_rows, S3Store};
use local_pipeline::{FirehoseConfig, FirehoseEmulator, OutputKind, StreamRecord};
use playback_domain::event::format_rfc3339_ms;

fn event(id: &str, time_ms: i64) -> String {
    format!(
        r#"{{"event_id":"{id}","event_type":"heartbeat","event_time":"{}","viewer_id":"v1","session_id":"s1","title_id":"t1","region":"eu","watched_ms":8000,"stalled_ms":0}}"#,
        format_rfc3339_ms(time_ms)
    )
}

/// Emulator tests are `#[ignore = "emulator: run via make test"]` (plain
/// `cargo test` lists them as ignored); run on purpose without an emulator,
/// one fails and says why instead of passing.
fn emulator_endpoint(test: &str) -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{test}: AWS_ENDPOINT_URL is not set. This is an emulator test: run it with \
             `make test`, or `scripts/with-emulator.sh cargo test -p local-pipeline -- --ignored`"
        ),
    }
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn lands_parquet_and_errors_in_the_emulators_s3() {
    emulator_endpoint("lands_parquet_and_errors_in_the_emulators_s3");
    let conf = aws_config::load_from_env().await;
    let client = playback_aws::s3_client(&conf);
    let now = chrono::Utc::now().timestamp_millis();
    let bucket = format!("lake-it-{}-{now}", std::process::id());
    client.create_bucket().bucket(&bucket).send().await.unwrap();

    let store = S3Store::new(client, &bucket);
    let cfg = FirehoseConfig::from_topology().with_buffering(1 << 20, 1_000);
    let mut fh = FirehoseEmulator::new(cfg, store.clone());
    let bad = r#"{"event_id":"broken"}"#;
    let record = |seq: &str, data: String| StreamRecord {
        shard_id: "shardId-000000000000".into(),
        sequence_number: seq.into(),
        partition_key: "v1".into(),
        arrival_ms: now,
        data: data.into_bytes(),
    };
    let input = [
        record(
            "1",
            format!("{}\n{}", event("a", now - 2_000), event("b", now - 1_000)),
        ),
        record("2", event("c", now - 500)),
        record("3", bad.to_string()),
    ];
    let report = fh.put_at(&input, now).unwrap();
    assert_eq!((report.rows_buffered, report.processing_failed), (3, 1));
    assert!(fh.flush_due(now + 999).await.unwrap().is_empty());
    let landed = fh.flush_due(now + 1_000).await.unwrap();
    assert_eq!(landed.len(), 2, "{landed:?}");

    let keys = store.list_keys("events/").await.unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let (dt, hour) = playback_domain::lake::partition_of(now);
    assert!(keys[0].starts_with(&format!("events/dt={dt}/hour={hour}/playback-lake-1-")));
    let rows = read_rows(&store.get(&keys[0]).await.unwrap()).unwrap();
    let ids: Vec<_> = rows.iter().map(|r| r.event_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(rows[2].ingest_time, format_rfc3339_ms(now));

    let errors = store.list_keys("errors/processing-failed/").await.unwrap();
    let lake_error = landed
        .iter()
        .find(|f| f.kind == OutputKind::ProcessingFailed)
        .unwrap();
    assert_eq!(errors, std::slice::from_ref(&lake_error.key));
    let doc: serde_json::Value =
        serde_json::from_slice(store.get(&errors[0]).await.unwrap().trim_ascii_end()).unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(doc["rawData"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, bad.as_bytes());
    assert_eq!(doc["errorCode"], "Lambda.ProcessingFailedStatus");
}

//! `playback-backfill --from-lake s3://… --features-table …` against an AWS
//! emulator (moto or LocalStack via AWS_ENDPOINT_URL): an emulator test, run
//! by `make test` (or `scripts/with-emulator.sh cargo test -p backfill -- --ignored`).

use std::process::Command;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use backfill::{fold_viewers, rows_to_events};
use lake::{read_rows, S3Store};
use loadgen::ScenarioConfig;
use local_pipeline::{FirehoseConfig, FirehoseEmulator, StreamRecord};
use playback_aws::features_store::DynamoFeatureStore;
use playback_domain::ports::FeatureStore;

/// Emulator tests are `#[ignore = "emulator: run via make test"]` (plain
/// `cargo test` lists them as ignored); run on purpose without an emulator,
/// one fails and says why instead of passing.
fn emulator_endpoint(test: &str) -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{test}: AWS_ENDPOINT_URL is not set. This is an emulator test: run it with \
             `make test`, or `scripts/with-emulator.sh cargo test -p backfill -- --ignored`"
        ),
    }
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn backfills_from_s3_into_dynamodb() {
    emulator_endpoint("backfills_from_s3_into_dynamodb");
    let conf = aws_config::load_from_env().await;
    let s3 = playback_aws::s3_client(&conf);
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let tag = format!(
        "{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let (bucket, table) = (
        format!("backfill-it-{tag}"),
        format!("backfill-features-{tag}"),
    );
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    ddb.create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("viewer_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("viewer_id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // A small scenario landed by the Firehose emulator into the emulator's S3.
    let cfg = ScenarioConfig {
        viewers: 40,
        duration_s: Some(20.0),
        rate: 20.0,
        ..Default::default()
    };
    let run = loadgen::generate(&cfg).unwrap();
    let records: Vec<StreamRecord> = (run.records.iter().enumerate())
        .map(|(i, r)| StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: (1_000 + i).to_string(),
            partition_key: r.partition_key.clone(),
            arrival_ms: r.emit_ms,
            data: r.data.clone(),
        })
        .collect();
    let store = S3Store::new(s3, &bucket);
    let mut fh = FirehoseEmulator::new(FirehoseConfig::from_topology(), store.clone());
    let now = records.last().unwrap().arrival_ms + 1_000;
    fh.put_at(&records, now).unwrap();
    fh.flush_all().await.unwrap();
    let mut rows = Vec::new();
    for k in store.list_keys("events/").await.unwrap() {
        rows.extend(read_rows(&store.get(&k).await.unwrap()).unwrap());
    }
    let want = fold_viewers(&rows_to_events(&rows).unwrap());
    assert!(!want.is_empty());

    let out = std::env::temp_dir().join(format!("backfill-it-{tag}.jsonl"));
    let day = "2026-11-23";
    let status = Command::new(env!("CARGO_BIN_EXE_playback-backfill"))
        .args(["--from-lake", &format!("s3://{bucket}/events")])
        .args(["--dt-from", day, "--dt-to", day, "--features-table", &table])
        .args(["--out", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let dumped = std::fs::read_to_string(&out).unwrap();
    assert_eq!(dumped.lines().count(), want.len());
    let dynamo = DynamoFeatureStore::new(ddb, &table, 3600);
    let ids: Vec<String> = want.keys().cloned().collect();
    let stored = dynamo.load(&ids).await.unwrap();
    assert_eq!(
        stored, want,
        "the table holds exactly the backfilled features"
    );
    let _ = std::fs::remove_file(out);
}

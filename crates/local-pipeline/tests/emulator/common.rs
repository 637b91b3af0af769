//! Shared helpers: emulator detection, unique topologies, events, polling.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use local_pipeline::topology::unique_prefix;
use local_pipeline::{LocalOverrides, Resources, Topology};
use serde_json::{json, Value};

/// The emulator's config. Every test here is
/// `#[ignore = "emulator: run via make test"]`, so plain `cargo test` lists it
/// as ignored; run on purpose without an emulator, it fails and says why.
pub async fn emulator(test: &str) -> SdkConfig {
    if std::env::var("AWS_ENDPOINT_URL").map_or(true, |v| v.is_empty()) {
        panic!(
            "{test}: AWS_ENDPOINT_URL is not set. This is an emulator test: run it with \
             `make test`, or `scripts/with-emulator.sh cargo test -p local-pipeline -- --ignored`"
        );
    }
    playback_aws::load_aws_config().await
}

/// pipeline.json with unique names and quick local settings.
pub fn topology(tag: &str) -> Topology {
    Topology::load_default()
        .expect("pipeline.json")
        .prefixed(&unique_prefix(tag))
        .with_overrides(&LocalOverrides::quick())
}

pub async fn setup(aws: &SdkConfig, t: &Topology) -> Resources {
    local_pipeline::setup(aws, t).await.expect("setup")
}

/// Deletes what `setup` created (long-lived emulators keep it otherwise).
pub async fn teardown(aws: &SdkConfig, r: &Resources) {
    local_pipeline::teardown(aws, r).await.expect("teardown");
}

/// Polls `probe` until it returns Some, failing the test after `secs`.
pub async fn eventually<T, F, Fut>(what: &str, secs: u64, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A valid playback event of the contract.
pub fn event(id: &str, kind: &str, viewer: &str, session: &str, title: &str) -> Value {
    json!({
        "schema_version": 1,
        "event_id": id,
        "event_type": kind,
        "event_time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "viewer_id": viewer,
        "session_id": session,
        "title_id": title,
        "region": "eu-west",
        "watched_ms": 20_000,
        "stalled_ms": 5_000,
        "device_platform": "web",
        "app_version": "1.2.3",
    })
}

/// Puts records (partition key, bytes) and returns their sequence numbers.
pub async fn put(aws: &SdkConfig, stream: &str, records: &[(String, Vec<u8>)]) -> Vec<String> {
    let entries = records
        .iter()
        .map(|(k, d)| {
            PutRecordsRequestEntry::builder()
                .partition_key(k)
                .data(Blob::new(d.clone()))
                .build()
                .unwrap()
        })
        .collect();
    let out = aws_sdk_kinesis::Client::new(aws)
        .put_records()
        .stream_name(stream)
        .set_records(Some(entries))
        .send()
        .await
        .expect("PutRecords");
    assert_eq!(out.failed_record_count.unwrap_or(0), 0);
    out.records
        .into_iter()
        .filter_map(|r| r.sequence_number)
        .collect()
}

/// Receives and deletes every message now in a queue; returns the bodies.
pub async fn drain(aws: &SdkConfig, url: &str) -> Vec<String> {
    let sqs = aws_sdk_sqs::Client::new(aws);
    let mut bodies = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await
            .expect("ReceiveMessage")
            .messages
            .unwrap_or_default();
        if got.is_empty() {
            return bodies;
        }
        for m in got {
            bodies.push(m.body.clone().unwrap_or_default());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle.unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
}

/// ApproximateNumberOfMessages (visible) of a queue.
pub async fn visible(aws: &SdkConfig, url: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    aws_sdk_sqs::Client::new(aws)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .and_then(|a| {
            a.get(&A::ApproximateNumberOfMessages)
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Every item of a table, as JSON-ish strings per attribute.
pub async fn scan(
    aws: &SdkConfig,
    table: &str,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    aws_sdk_dynamodb::Client::new(aws)
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .expect("Scan")
        .items
        .unwrap_or_default()
}

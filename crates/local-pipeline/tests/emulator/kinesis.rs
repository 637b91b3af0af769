use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use local_pipeline::function::from_fn;
use local_pipeline::topology::SESSION_FEATURES;
use local_pipeline::{Checkpoints, Pipeline, PipelineOptions};
use serde_json::{json, Value};

use crate::common::*;

fn only_features(checkpoints: Checkpoints) -> PipelineOptions {
    PipelineOptions {
        only: vec![SESSION_FEATURES.into()],
        checkpoints,
        ..PipelineOptions::default()
    }
}

type Features = BTreeMap<String, String>;

/// viewer -> events_applied of every stored feature item.
async fn features(aws: &aws_config::SdkConfig, table: &str) -> Features {
    scan(aws, table)
        .await
        .into_iter()
        .map(|i| {
            let viewer = i["viewer_id"].as_s().unwrap().clone();
            let applied = i
                .get("events_applied")
                .and_then(|v| v.as_n().ok())
                .cloned()
                .unwrap_or_default();
            (viewer, applied)
        })
        .collect()
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn features_land_poison_pills_are_dead_lettered_and_replay_changes_nothing() {
    let aws = emulator("kinesis_features").await;
    let t = topology("features");
    let r = setup(&aws, &t).await;
    let mut records = Vec::new();
    for v in 0..3 {
        for n in 0..2 {
            let e = event(
                &format!("e-{v}-{n}"),
                "heartbeat",
                &format!("viewer-{v}"),
                &format!("s-{v}"),
                "title-1",
            );
            records.push((format!("viewer-{v}"), e.to_string().into_bytes()));
        }
    }
    records.push(("p1".into(), b"this is not json".to_vec()));
    let mut missing = event("e-bad", "heartbeat", "viewer-9", "s-9", "title-1");
    missing.as_object_mut().unwrap().remove("viewer_id");
    records.push(("p2".into(), missing.to_string().into_bytes()));
    put(&aws, &r.stream_name, &records).await;

    let handle = Pipeline::start_with(&aws, &t, &r, only_features(Checkpoints::default()))
        .await
        .unwrap();
    let want: Features = (0..3)
        .map(|v| (format!("viewer-{v}"), "2".to_string()))
        .collect();
    let got = eventually("features of 3 viewers", 60, || async {
        let f = features(&aws, &r.features_table).await;
        (f == want).then_some(f)
    })
    .await;
    eventually("2 dead letters", 30, || async {
        let n = visible(&aws, &r.poison_dlq_url).await;
        (n >= 2).then_some(())
    })
    .await;
    let bodies = drain(&aws, &r.poison_dlq_url).await;
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    let reasons: Vec<Value> = bodies
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert!(reasons
        .iter()
        .all(|l| l["consumer"] == SESSION_FEATURES && !l["reason"].as_str().unwrap().is_empty()));
    let mut codes: Vec<&str> = reasons
        .iter()
        .map(|l| l["reason_code"].as_str().unwrap())
        .collect();
    codes.sort();
    assert_eq!(codes.len(), 2);
    let first_checkpoints = handle.checkpoints().of(SESSION_FEATURES);
    assert!(handle.metrics()[SESSION_FEATURES].records >= 8);
    handle.shutdown().await;

    // Replay from TRIM_HORIZON with fresh checkpoints: the writes are conditional
    // on the stored stream position, so nothing changes.
    let fresh = Checkpoints::default();
    let handle = Pipeline::start_with(&aws, &t, &r, only_features(fresh.clone()))
        .await
        .unwrap();
    eventually("replay caught up", 60, || async {
        (fresh.of(SESSION_FEATURES) == first_checkpoints).then_some(())
    })
    .await;
    handle.shutdown().await;
    assert_eq!(features(&aws, &r.features_table).await, got);
    teardown(&aws, &r).await;
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn a_record_that_always_fails_goes_to_the_on_failure_destination_and_the_shard_moves_on() {
    let aws = emulator("kinesis_on_failure").await;
    let t = topology("onfailure");
    let r = setup(&aws, &t).await;
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let s = seen.clone();
    // Reports the record whose data is "bad" as failed, every time.
    let f = from_fn(move |event: Value| {
        let s = s.clone();
        async move {
            let mut failures = Vec::new();
            for rec in event["Records"].as_array().unwrap() {
                let data = rec["kinesis"]["data"].as_str().unwrap().to_string();
                s.lock().unwrap().push(data.clone());
                if data == "YmFk" {
                    failures.push(json!({ "itemIdentifier": rec["kinesis"]["sequenceNumber"] }));
                }
            }
            Ok(json!({ "batchItemFailures": failures }))
        }
    });
    let key = "same-shard".to_string();
    let seqs = put(
        &aws,
        &r.stream_name,
        &[
            (key.clone(), b"ok1".to_vec()),
            (key.clone(), b"bad".to_vec()),
        ],
    )
    .await;
    let opts = PipelineOptions {
        functions: BTreeMap::from([(SESSION_FEATURES.to_string(), f)]),
        ..only_features(Checkpoints::default())
    };
    let handle = Pipeline::start_with(&aws, &t, &r, opts).await.unwrap();
    let body = eventually("on-failure record", 60, || async {
        drain(&aws, &r.poison_dlq_url).await.into_iter().next()
    })
    .await;
    let record: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        record["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    let retries = t.consumer(SESSION_FEATURES).unwrap().max_retry_attempts;
    assert_eq!(
        record["requestContext"]["approximateInvokeCount"],
        retries + 1
    );
    let info = &record["KinesisBatchInfo"];
    assert_eq!(info["startSequenceNumber"], seqs[1].as_str());
    assert_eq!(info["streamArn"], r.stream_arn.as_str());
    assert!(info["shardId"].as_str().unwrap().starts_with("shardId-"));
    let bad_tries = seen.lock().unwrap().iter().filter(|d| *d == "YmFk").count();
    assert_eq!(bad_tries as i64, retries + 1);

    // The shard moved on: a later record is processed and checkpointed.
    let later = put(&aws, &r.stream_name, &[(key.clone(), b"ok2".to_vec())]).await;
    let shard = info["shardId"].as_str().unwrap().to_string();
    eventually("checkpoint past the discarded batch", 30, || async {
        let cp = handle.checkpoints().get(SESSION_FEATURES, &shard);
        (cp.as_deref() == Some(later[0].as_str())).then_some(())
    })
    .await;
    let m = handle.metrics()[SESSION_FEATURES].clone();
    assert_eq!(m.failures, 1);
    assert!(m.retries >= retries as u64);
    handle.shutdown().await;
    teardown(&aws, &r).await;
}

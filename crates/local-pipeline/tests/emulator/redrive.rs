use aws_sdk_kinesis::types::ShardIteratorType;
use local_pipeline::redrive::{redrive, RedriveOptions, Target};
use serde_json::json;

use crate::common::*;

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn redrive_moves_messages_back_and_dry_run_changes_nothing() {
    let aws = emulator("redrive").await;
    let t = topology("redrive");
    let r = setup(&aws, &t).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    for body in ["one", "two", "three"] {
        sqs.send_message()
            .queue_url(&r.quality_dlq_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let dry = RedriveOptions {
        dry_run: true,
        ..RedriveOptions::default()
    };
    let report = redrive(
        &sqs,
        &r.quality_dlq_url,
        Target::Queue(&r.quality_queue_url),
        dry,
    )
    .await
    .unwrap();
    assert_eq!((report.received, report.moved, report.deleted), (3, 0, 0));
    assert_eq!(
        visible(&aws, &r.quality_dlq_url).await,
        3,
        "dry run leaves the DLQ as it was"
    );

    let two = RedriveOptions {
        max: Some(2),
        ..RedriveOptions::default()
    };
    let report = redrive(
        &sqs,
        &r.quality_dlq_url,
        Target::Queue(&r.quality_queue_url),
        two,
    )
    .await
    .unwrap();
    assert_eq!((report.moved, report.deleted), (2, 2));
    let report = redrive(
        &sqs,
        &r.quality_dlq_url,
        Target::Queue(&r.quality_queue_url),
        RedriveOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.moved, 1);
    let mut moved = drain(&aws, &r.quality_queue_url).await;
    moved.sort();
    assert_eq!(moved, vec!["one", "three", "two"]);
    assert_eq!(visible(&aws, &r.quality_dlq_url).await, 0);
    teardown(&aws, &r).await;
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn redrive_to_stream_re_puts_dead_letter_payloads() {
    let aws = emulator("redrive_stream").await;
    let t = topology("restream");
    let r = setup(&aws, &t).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let payload = event("e-fixed", "heartbeat", "viewer-7", "s-7", "title-1").to_string();
    let letter = json!({
        "consumer": "session-features", "reason_code": "missing_field", "reason": "fixed since",
        "event_id": "e-fixed", "source": "shardId-000000000000/1/0", "payload": payload,
    });
    sqs.send_message()
        .queue_url(&r.poison_dlq_url)
        .message_body(letter.to_string())
        .send()
        .await
        .unwrap();
    sqs.send_message()
        .queue_url(&r.poison_dlq_url)
        .message_body("not a dead letter")
        .send()
        .await
        .unwrap();
    let kinesis = aws_sdk_kinesis::Client::new(&aws);
    let report = redrive(
        &sqs,
        &r.poison_dlq_url,
        Target::Stream(&kinesis, &r.stream_name),
        RedriveOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        (report.moved, report.records_put, report.skipped),
        (1, 1, 1)
    );
    assert_eq!(
        drain(&aws, &r.poison_dlq_url).await,
        vec!["not a dead letter"]
    );
    let mut found = Vec::new();
    for shard in local_pipeline::esm::reader::list_shards(&kinesis, &r.stream_name)
        .await
        .unwrap()
    {
        let it = kinesis
            .get_shard_iterator()
            .stream_name(&r.stream_name)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
        let out = kinesis
            .get_records()
            .set_shard_iterator(it)
            .send()
            .await
            .unwrap();
        found.extend(
            out.records
                .into_iter()
                .map(|r| (r.partition_key, r.data.into_inner())),
        );
    }
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, payload.as_bytes());
    teardown(&aws, &r).await;
}

#[test]
fn cli_misuse_is_one_line_and_non_zero() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_playback-local"))
        .args(["redrive", "--from", "some-dlq"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_playback-local"))
        .args(["frobnicate"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1
    );
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn redrive_to_stream_re_reads_the_records_of_an_on_failure_record() {
    let aws = emulator("redrive_on_failure").await;
    let t = topology("reonfail");
    let r = setup(&aws, &t).await;
    let key = "k".to_string();
    let seqs = put(
        &aws,
        &r.stream_name,
        &[
            (key.clone(), b"a".to_vec()),
            (key.clone(), b"b".to_vec()),
            (key.clone(), b"c".to_vec()),
        ],
    )
    .await;
    let kinesis = aws_sdk_kinesis::Client::new(&aws);
    let shards = local_pipeline::esm::reader::list_shards(&kinesis, &r.stream_name)
        .await
        .unwrap();
    // The shard holding the records: the one whose TRIM_HORIZON read returns them.
    let mut shard_id = String::new();
    for shard in shards {
        let it = kinesis
            .get_shard_iterator()
            .stream_name(&r.stream_name)
            .shard_id(&shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator;
        if !kinesis
            .get_records()
            .set_shard_iterator(it)
            .send()
            .await
            .unwrap()
            .records
            .is_empty()
        {
            shard_id = shard;
        }
    }
    let record = json!({
        "requestContext": {"condition": "RetryAttemptsExhausted"},
        "KinesisBatchInfo": {"shardId": shard_id, "startSequenceNumber": seqs[1], "endSequenceNumber": seqs[2], "batchSize": 2, "streamArn": r.stream_arn},
    });
    let sqs = aws_sdk_sqs::Client::new(&aws);
    sqs.send_message()
        .queue_url(&r.poison_dlq_url)
        .message_body(record.to_string())
        .send()
        .await
        .unwrap();
    let report = redrive(
        &sqs,
        &r.poison_dlq_url,
        Target::Stream(&kinesis, &r.stream_name),
        RedriveOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!((report.moved, report.records_put), (1, 2));
    let it = kinesis
        .get_shard_iterator()
        .stream_name(&r.stream_name)
        .shard_id(&shard_id)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator;
    let data: Vec<Vec<u8>> = kinesis
        .get_records()
        .set_shard_iterator(it)
        .send()
        .await
        .unwrap()
        .records
        .into_iter()
        .map(|r| r.data.into_inner())
        .collect();
    assert_eq!(
        data,
        vec![
            b"a".to_vec(),
            b"b".to_vec(),
            b"c".to_vec(),
            b"b".to_vec(),
            b"c".to_vec()
        ]
    );
    teardown(&aws, &r).await;
}

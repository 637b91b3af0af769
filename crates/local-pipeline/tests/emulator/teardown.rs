use crate::common::*;

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn teardown_deletes_everything_setup_created_and_is_idempotent() {
    let aws = emulator("teardown").await;
    let t = topology("teardown");
    let r = setup(&aws, &t).await;
    // A bucket that is not empty and a queue that is not either.
    playback_aws::s3_client(&aws)
        .put_object()
        .bucket(&r.lake_bucket)
        .key("events/dt=2026-01-01/a.parquet")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&aws);
    sqs.send_message()
        .queue_url(&r.poison_dlq_url)
        .message_body("left over")
        .send()
        .await
        .unwrap();

    teardown(&aws, &r).await;
    teardown(&aws, &r).await;

    let streams = aws_sdk_kinesis::Client::new(&aws)
        .list_streams()
        .send()
        .await
        .unwrap();
    assert!(!streams.stream_names().contains(&r.stream_name));
    let tables = aws_sdk_dynamodb::Client::new(&aws)
        .list_tables()
        .send()
        .await
        .unwrap();
    for table in [
        &r.features_table,
        &r.windows_table,
        &r.alerts_table,
        &r.sre_table,
    ] {
        assert!(!tables.table_names().contains(table), "{table}");
    }
    let queues = sqs
        .list_queues()
        .queue_name_prefix(&t.poison_dlq)
        .send()
        .await
        .unwrap();
    assert!(queues.queue_urls().is_empty(), "{:?}", queues.queue_urls());
    let head = playback_aws::s3_client(&aws)
        .head_bucket()
        .bucket(&r.lake_bucket)
        .send()
        .await;
    assert!(head.is_err(), "bucket deleted");
    if let Some(topic) = &r.alerts_topic_arn {
        let topics = aws_sdk_sns::Client::new(&aws)
            .list_topics()
            .send()
            .await
            .unwrap();
        assert!(!topics.topics().iter().any(|x| x.topic_arn() == Some(topic)));
    }
}

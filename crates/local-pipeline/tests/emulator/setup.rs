use crate::common::*;

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn setup_creates_everything_and_is_idempotent() {
    let aws = emulator("setup").await;
    let t = topology("setup");
    let first = setup(&aws, &t).await;
    let again = setup(&aws, &t).await;
    assert_eq!(first, again, "a second setup reuses the same resources");

    let shards = aws_sdk_kinesis::Client::new(&aws)
        .list_shards()
        .stream_name(&first.stream_name)
        .send()
        .await
        .unwrap()
        .shards
        .unwrap_or_default();
    assert_eq!(shards.len(), t.stream.local_shards as usize);
    assert_eq!(
        first.stream_arn,
        format!(
            "arn:aws:kinesis:{}:{}:stream/{}",
            first.region, first.account, t.stream.name
        )
    );
    let consumers = aws_sdk_kinesis::Client::new(&aws)
        .list_stream_consumers()
        .stream_arn(&first.stream_arn)
        .send()
        .await
        .unwrap()
        .consumers
        .unwrap_or_default();
    assert_eq!(consumers.len(), t.consumers.len(), "no duplicate consumers");
    assert_eq!(first.consumer_arns.len(), 2);

    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    for spec in [
        &t.tables.features,
        &t.tables.windows,
        &t.tables.alerts,
        &t.tables.sre,
    ] {
        let table = dynamo
            .describe_table()
            .table_name(&spec.name)
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        let keys: Vec<_> = table
            .key_schema()
            .iter()
            .map(|k| k.attribute_name().to_string())
            .collect();
        let mut want = vec![spec.pk.clone()];
        want.extend(spec.sk.clone());
        assert_eq!(keys, want, "key schema of {}", spec.name);
        let ttl = dynamo
            .describe_time_to_live()
            .table_name(&spec.name)
            .send()
            .await
            .unwrap();
        let ttl = ttl.time_to_live_description.unwrap();
        assert_eq!(ttl.attribute_name(), spec.ttl.as_deref());
    }

    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attrs = aws_sdk_sqs::Client::new(&aws)
        .get_queue_attributes()
        .queue_url(&first.quality_queue_url)
        .attribute_names(A::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(
        attrs[&A::VisibilityTimeout],
        t.sre_buffer.visibility_timeout_s.to_string()
    );
    let redrive: serde_json::Value = serde_json::from_str(&attrs[&A::RedrivePolicy]).unwrap();
    assert_eq!(
        redrive["deadLetterTargetArn"],
        first.quality_dlq_arn.as_str()
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        t.sre_buffer.max_receive_count.to_string()
    );
    assert!(first.poison_dlq_url.contains(&t.poison_dlq));
    playback_aws::s3_client(&aws)
        .head_bucket()
        .bucket(&first.lake_bucket)
        .send()
        .await
        .unwrap();
    teardown(&aws, &first).await;
}

//! Deletes everything `setup` created, so runs against a long-lived emulator
//! (LocalStack: 100 shards by default) do not pile up streams, tables and
//! queues. Whatever is already gone counts as deleted; every resource is
//! tried, and the error names those that could not be deleted.

use aws_config::SdkConfig;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::{aws_err, error_code, Error, Resources, Result};

/// Codes meaning "not there (any more)": deleting it again is done.
const GONE: &[&str] = &[
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NoSuchBucket",
    "NotFound",
    "NotFoundException",
];

pub async fn teardown(aws: &SdkConfig, r: &Resources) -> Result<()> {
    let mut failed: Vec<String> = Vec::new();
    let mut note = |what: String, e: Result<()>| {
        if let Err(e) = e {
            tracing::warn!(resource = %what, error = %e, "not deleted");
            failed.push(what);
        }
    };
    let kinesis = aws_sdk_kinesis::Client::new(aws);
    // Consumers first: a stream with consumers is only deleted with
    // EnforceConsumerDeletion, which not every emulator honours. By consumer
    // ARN alone: moto's by-stream path keeps the wrong consumers, and fails
    // (HTTP 500) once the stream is gone.
    for arn in r.consumer_arns.values() {
        let e = kinesis
            .deregister_stream_consumer()
            .consumer_arn(arn)
            .send()
            .await;
        note(
            format!("consumer {arn}"),
            gone(e, "kinesis.DeregisterStreamConsumer"),
        );
    }
    let e = kinesis
        .delete_stream()
        .stream_name(&r.stream_name)
        .enforce_consumer_deletion(true)
        .send()
        .await;
    note(
        format!("stream {}", r.stream_name),
        gone(e, "kinesis.DeleteStream"),
    );

    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    for table in [
        &r.features_table,
        &r.windows_table,
        &r.alerts_table,
        &r.sre_table,
    ] {
        let e = dynamo.delete_table().table_name(table).send().await;
        note(format!("table {table}"), gone(e, "dynamodb.DeleteTable"));
    }

    let sqs = aws_sdk_sqs::Client::new(aws);
    let queues = [&r.quality_queue_url, &r.quality_dlq_url, &r.poison_dlq_url];
    for url in queues.into_iter().chain(&r.pages_queue_url) {
        let e = sqs.delete_queue().queue_url(url).send().await;
        note(format!("queue {url}"), gone(e, "sqs.DeleteQueue"));
    }

    let s3 = playback_aws::s3_client(aws);
    note(
        format!("bucket {}", r.lake_bucket),
        delete_bucket(&s3, &r.lake_bucket).await,
    );

    if let Some(topic) = &r.alerts_topic_arn {
        let sns = aws_sdk_sns::Client::new(aws);
        let e = sns.delete_topic().topic_arn(topic).send().await;
        note(format!("topic {topic}"), gone(e, "sns.DeleteTopic"));
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "teardown left {}",
            failed.join(", ")
        )))
    }
}

/// Success, or an error whose code says the resource is gone already.
fn gone<T, E, R>(
    r: std::result::Result<T, aws_sdk_sqs::error::SdkError<E, R>>,
    op: &'static str,
) -> Result<()>
where
    E: std::error::Error
        + aws_smithy_types::error::metadata::ProvideErrorMetadata
        + Send
        + Sync
        + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e).is_some_and(|c| GONE.contains(&c)) => Ok(()),
        Err(e) => Err(aws_err(op)(e)),
    }
}

/// Empties the bucket (a page of keys per DeleteObjects), then deletes it.
async fn delete_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Err(e) if error_code(&e) == Some("NoSuchBucket") => return Ok(()),
            other => other.map_err(aws_err("s3.ListObjectsV2"))?,
        };
        let keys = page
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Payload(e.to_string()))?;
        if keys.is_empty() {
            continue;
        }
        let delete = Delete::builder()
            .set_objects(Some(keys))
            .quiet(true)
            .build()
            .map_err(|e| Error::Payload(e.to_string()))?;
        s3.delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(aws_err("s3.DeleteObjects"))?;
    }
    gone(
        s3.delete_bucket().bucket(bucket).send().await,
        "s3.DeleteBucket",
    )
}

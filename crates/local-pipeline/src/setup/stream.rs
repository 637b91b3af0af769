//! The Kinesis stream (waited for ACTIVE) and its enhanced fan-out consumers.

use std::time::Duration;

use aws_sdk_kinesis::types::{StreamMode, StreamModeDetails, StreamStatus};
use backon::Retryable;
use playback_aws::retry;

use crate::{aws_err, error_code, Error, Result};

/// Creates the stream if needed and waits until it is ACTIVE.
pub(super) async fn stream(
    kinesis: &aws_sdk_kinesis::Client,
    name: &str,
    shards: u32,
) -> Result<()> {
    let created = kinesis
        .create_stream()
        .stream_name(name)
        .shard_count(shards as i32)
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::Provisioned)
                .build()
                .map_err(|e| Error::Config(e.to_string()))?,
        )
        .send()
        .await;
    if let Err(e) = created {
        if error_code(&e) != Some("ResourceInUseException") {
            return Err(aws_err("kinesis.CreateStream")(e));
        }
    }
    // ListShards answers while a stream is still CREATING (LocalStack's
    // kinesis-mock), and PutRecords then fails: wait for ACTIVE, as on AWS.
    let ready = || async {
        match stream_status(kinesis, name).await? {
            Some(StreamStatus::Active) | Some(StreamStatus::Updating) => Ok(()),
            other => Err(Error::Timeout(format!("stream {name} ({other:?})"))),
        }
    };
    ready
        .retry(retry::readiness(READY_WITHIN))
        .sleep(tokio::time::sleep)
        .when(|e| matches!(e, Error::Timeout(_)))
        .await
}

/// How long setup waits for a stream or table to become ACTIVE.
pub(super) const READY_WITHIN: Duration = Duration::from_secs(90);

/// The stream's status from ListStreams' summaries (DescribeStreamSummary's
/// answer from moto has a timestamp the SDK cannot parse); None while the
/// stream is not listed yet.
pub(super) async fn stream_status(
    kinesis: &aws_sdk_kinesis::Client,
    name: &str,
) -> Result<Option<StreamStatus>> {
    let mut pages = kinesis.list_streams().into_paginator().send();
    let mut listed = false;
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws_err("kinesis.ListStreams"))?;
        if let Some(s) = page
            .stream_summaries()
            .iter()
            .find(|s| s.stream_name() == name)
        {
            return Ok(Some(s.stream_status().clone()));
        }
        listed |= page.stream_names().iter().any(|n| n == name);
    }
    if !listed {
        return Ok(None);
    }
    // Listed without a summary (an emulator without StreamSummaries).
    let out = kinesis
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .map_err(aws_err("kinesis.DescribeStreamSummary"))?;
    Ok(out
        .stream_description_summary()
        .map(|d| d.stream_status().clone()))
}

/// Registers an enhanced fan-out consumer unless one of that name exists
/// (moto registers duplicates, so look first).
pub(super) async fn consumer(
    kinesis: &aws_sdk_kinesis::Client,
    stream_arn: &str,
    name: &str,
) -> Result<String> {
    let listed = kinesis
        .list_stream_consumers()
        .stream_arn(stream_arn)
        .send()
        .await
        .map_err(aws_err("kinesis.ListStreamConsumers"))?;
    if let Some(c) = listed
        .consumers
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.consumer_name == name)
    {
        return Ok(c.consumer_arn);
    }
    let out = kinesis
        .register_stream_consumer()
        .stream_arn(stream_arn)
        .consumer_name(name)
        .send()
        .await
        .map_err(aws_err("kinesis.RegisterStreamConsumer"))?;
    out.consumer
        .map(|c| c.consumer_arn)
        .ok_or_else(|| Error::Payload("RegisterStreamConsumer returned no consumer".into()))
}

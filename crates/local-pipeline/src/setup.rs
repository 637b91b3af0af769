//! Creates every resource of the topology on the emulator (or any endpoint the
//! standard AWS environment points at). Idempotent: existing resources are
//! reused and their settings re-applied. [`crate::teardown`] deletes them.
//!
//! No Firehose delivery stream: the local pipeline is its own Firehose (the
//! lake landing, `crate::firehose::FirehoseEmulator`: transform, Parquet, partitions). An
//! emulator's delivery stream reading the same Kinesis stream would either
//! never deliver (moto) or write raw objects under the lake prefix beside the
//! landing's Parquet (LocalStack), which the lake's readers would count.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification,
};
use aws_sdk_kinesis::types::{StreamMode, StreamModeDetails, StreamStatus};
use aws_sdk_sqs::types::QueueAttributeName;
use backon::Retryable;
use playback_aws::retry;
use serde::Serialize;

use crate::topology::{TableSpec, Topology};
use crate::{aws_err, error_code, Error, Result};

/// Names, ARNs and URLs of what `setup` created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resources {
    pub region: String,
    pub account: String,
    pub stream_name: String,
    pub stream_arn: String,
    /// Consumer key in pipeline.json (e.g. "qoe-alerts") -> enhanced fan-out consumer ARN.
    pub consumer_arns: BTreeMap<String, String>,
    pub features_table: String,
    pub windows_table: String,
    pub alerts_table: String,
    pub sre_table: String,
    pub quality_queue_url: String,
    pub quality_queue_arn: String,
    pub quality_dlq_url: String,
    pub quality_dlq_arn: String,
    pub poison_dlq_url: String,
    pub poison_dlq_arn: String,
    pub lake_bucket: String,
    pub alerts_topic_arn: Option<String>,
    /// A queue subscribed to the alerts topic: the on-call's pager, where a
    /// run can see the pages that were delivered.
    pub pages_queue_url: Option<String>,
}

impl Resources {
    /// ARN of the Lambda function a consumer stands for (used in on-failure records).
    pub fn function_arn(&self, function: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{function}",
            self.region, self.account
        )
    }
}

pub async fn setup(aws: &SdkConfig, t: &Topology) -> Result<Resources> {
    let region = aws
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());
    let sqs = aws_sdk_sqs::Client::new(aws);
    let (poison_dlq_url, poison_dlq_arn) = queue(&sqs, &t.poison_dlq).await?;
    // The account comes from a real ARN, so LocalStack's or AWS's works too.
    let account = poison_dlq_arn
        .split(':')
        .nth(4)
        .unwrap_or("123456789012")
        .to_string();
    let (quality_dlq_url, quality_dlq_arn) = queue(&sqs, &t.sre_buffer.dlq).await?;
    let (quality_queue_url, quality_queue_arn) = queue(&sqs, &t.sre_buffer.queue).await?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": quality_dlq_arn,
        "maxReceiveCount": t.sre_buffer.max_receive_count.to_string(),
    });
    sqs.set_queue_attributes()
        .queue_url(&quality_queue_url)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            t.sre_buffer.visibility_timeout_s.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(aws_err("sqs.SetQueueAttributes"))?;

    let kinesis = aws_sdk_kinesis::Client::new(aws);
    let stream_arn = format!(
        "arn:aws:kinesis:{region}:{account}:stream/{}",
        t.stream.name
    );
    stream(&kinesis, &t.stream.name, t.stream.local_shards).await?;
    let mut consumer_arns = BTreeMap::new();
    for (key, c) in &t.consumers {
        let arn = consumer(&kinesis, &stream_arn, &c.efo_consumer).await?;
        consumer_arns.insert(key.clone(), arn);
    }

    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    for spec in [
        &t.tables.features,
        &t.tables.windows,
        &t.tables.alerts,
        &t.tables.sre,
    ] {
        table(&dynamo, spec).await?;
    }

    bucket(&playback_aws::s3_client(aws), &t.lake.bucket, &region).await?;
    let alerts_topic_arn = match aws_sdk_sns::Client::new(aws)
        .create_topic()
        .name(&t.alerts.topic)
        .send()
        .await
    {
        Ok(out) => out.topic_arn,
        Err(e) => {
            tracing::warn!(error = %short(&e), "no alerts topic; alerts are stored only");
            None
        }
    };
    let pages_queue_url = match &alerts_topic_arn {
        Some(topic) => {
            Some(pages_queue(aws, &sqs, topic, &format!("{}-pages", t.alerts.topic)).await?)
        }
        None => None,
    };
    Ok(Resources {
        region,
        account,
        stream_name: t.stream.name.clone(),
        stream_arn,
        consumer_arns,
        features_table: t.tables.features.name.clone(),
        windows_table: t.tables.windows.name.clone(),
        alerts_table: t.tables.alerts.name.clone(),
        sre_table: t.tables.sre.name.clone(),
        quality_queue_url,
        quality_queue_arn,
        quality_dlq_url,
        quality_dlq_arn,
        poison_dlq_url,
        poison_dlq_arn,
        lake_bucket: t.lake.bucket.clone(),
        alerts_topic_arn,
        pages_queue_url,
    })
}

/// A queue subscribed to `topic` with raw delivery (the body is the page),
/// with the policy that lets the topic send to it.
async fn pages_queue(
    aws: &SdkConfig,
    sqs: &aws_sdk_sqs::Client,
    topic: &str,
    name: &str,
) -> Result<String> {
    let (url, arn) = queue(sqs, name).await?;
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "sns.amazonaws.com" },
            "Action": "sqs:SendMessage",
            "Resource": arn,
            "Condition": { "ArnEquals": { "aws:SourceArn": topic } }
        }]
    });
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .map_err(aws_err("sqs.SetQueueAttributes"))?;
    aws_sdk_sns::Client::new(aws)
        .subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(&arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .map_err(aws_err("sns.Subscribe"))?;
    Ok(url)
}

/// CreateQueue is idempotent for the same name and attributes: attributes are set after.
async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<(String, String)> {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(aws_err("sqs.CreateQueue"))?
        .queue_url
        .ok_or_else(|| Error::Payload(format!("CreateQueue {name} returned no URL")))?;
    let arn = queue_arn(sqs, &url).await?;
    Ok((url, arn))
}

pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(aws_err("sqs.GetQueueAttributes"))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| Error::Payload(format!("queue {url} has no QueueArn")))
}

/// Creates the stream if needed and waits until it is ACTIVE.
async fn stream(kinesis: &aws_sdk_kinesis::Client, name: &str, shards: u32) -> Result<()> {
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
const READY_WITHIN: Duration = Duration::from_secs(90);

/// The stream's status from ListStreams' summaries (DescribeStreamSummary's
/// answer from moto has a timestamp the SDK cannot parse); None while the
/// stream is not listed yet.
async fn stream_status(
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
async fn consumer(
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

/// A key's type as the CDK app maps it: "N", else a string.
fn scalar(ty: &Option<String>) -> ScalarAttributeType {
    match ty.as_deref() {
        Some("N") => ScalarAttributeType::N,
        _ => ScalarAttributeType::S,
    }
}

async fn table(dynamo: &aws_sdk_dynamodb::Client, spec: &TableSpec) -> Result<()> {
    let attr = |name: &str, ty: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ty)
            .build()
            .map_err(|e| Error::Config(e.to_string()))
    };
    let key = |name: &str, ty: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(ty)
            .build()
            .map_err(|e| Error::Config(e.to_string()))
    };
    let mut req = dynamo
        .create_table()
        .table_name(&spec.name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(&spec.pk, scalar(&spec.pk_type))?)
        .key_schema(key(&spec.pk, KeyType::Hash)?);
    if let Some(sk) = &spec.sk {
        req = req
            .attribute_definitions(attr(sk, scalar(&spec.sk_type))?)
            .key_schema(key(sk, KeyType::Range)?);
    }
    if let Err(e) = req.send().await {
        if error_code(&e) != Some("ResourceInUseException") {
            return Err(aws_err("dynamodb.CreateTable")(e));
        }
    }
    let active = || async {
        let out = dynamo
            .describe_table()
            .table_name(&spec.name)
            .send()
            .await
            .map_err(aws_err("dynamodb.DescribeTable"))?;
        match out.table.and_then(|t| t.table_status) {
            Some(TableStatus::Active) => Ok(()),
            other => Err(Error::Timeout(format!("table {} ({other:?})", spec.name))),
        }
    };
    active
        .retry(retry::readiness(READY_WITHIN))
        .sleep(tokio::time::sleep)
        .when(|e| matches!(e, Error::Timeout(_)))
        .await?;
    if let Some(ttl) = &spec.ttl {
        let spec_ttl = TimeToLiveSpecification::builder()
            .attribute_name(ttl)
            .enabled(true)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let r = dynamo
            .update_time_to_live()
            .table_name(&spec.name)
            .time_to_live_specification(spec_ttl)
            .send()
            .await;
        // Re-enabling is a ValidationException on AWS ("already enabled").
        if let Err(e) = r {
            if error_code(&e) != Some("ValidationException") {
                return Err(aws_err("dynamodb.UpdateTimeToLive")(e));
            }
        }
    }
    Ok(())
}

async fn bucket(s3: &aws_sdk_s3::Client, name: &str, region: &str) -> Result<()> {
    let mut req = s3.create_bucket().bucket(name);
    if region != "us-east-1" {
        let cfg = aws_sdk_s3::types::CreateBucketConfiguration::builder()
            .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
            .build();
        req = req.create_bucket_configuration(cfg);
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => Ok(()),
        Err(e) => Err(aws_err("s3.CreateBucket")(e)),
    }
}

/// Code and first 200 characters of a service error, for warnings about optional resources.
fn short<E, R>(e: &aws_sdk_sqs::error::SdkError<E, R>) -> String
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    match e.as_service_error() {
        Some(se) => {
            let msg: String = se.message().unwrap_or_default().chars().take(200).collect();
            format!("{}: {msg}", se.code().unwrap_or("error"))
        }
        None => "no answer from the endpoint".to_string(),
    }
}

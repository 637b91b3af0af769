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

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use serde::Serialize;

mod queues;
mod stream;
mod table;

pub use queues::queue_arn;
use queues::{pages_queue, queue};
use stream::{consumer, stream};
use table::table;

use crate::topology::Topology;
use crate::{aws_err, error_code, Result};

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

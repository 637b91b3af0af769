//! SQS queues and the on-call pages queue subscribed to the alerts topic.

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;

use crate::{aws_err, Error, Result};

/// A queue subscribed to `topic` with raw delivery (the body is the page),
/// with the policy that lets the topic send to it.
pub(super) async fn pages_queue(
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
pub(super) async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<(String, String)> {
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

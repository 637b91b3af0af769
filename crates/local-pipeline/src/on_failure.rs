//! Lambda's on-failure destination for stream mappings: when a batch is given
//! up on, a JSON invocation record describing it (not its data) goes to an
//! SQS queue, in the shape of Lambda's own:
//! `{requestContext, responseContext, version, timestamp, KinesisBatchInfo}`.

use aws_sdk_sqs::Client;
use serde_json::{json, Value};

use crate::esm::events::rfc3339;
use crate::esm::StreamRecord;
use crate::function::BoxFuture;
use crate::{aws_err, Result};

/// Where discarded-batch records go (an SQS queue here; a test can capture them).
pub trait Destination: Send + Sync {
    fn send(&self, record: Value) -> BoxFuture<'_, Result<()>>;
}

/// Why the batch was discarded (`requestContext.condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// What the last invocation of the batch returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastResponse {
    /// The function raised an error.
    FunctionError,
    /// The function answered (with batch item failures).
    Answered,
    /// Never invoked (records expired first).
    NotInvoked,
}

/// The invocation record for a discarded Kinesis batch (`records` non-empty, in order).
pub fn kinesis_record(
    function_arn: &str,
    stream_arn: &str,
    condition: Condition,
    approximate_invoke_count: u32,
    last: LastResponse,
    records: &[StreamRecord],
) -> Value {
    let first = records.first();
    let last_rec = records.last();
    let mut response = json!({ "statusCode": 200, "executedVersion": "$LATEST" });
    match last {
        LastResponse::FunctionError => {
            response["functionError"] = "Unhandled".into();
        }
        LastResponse::Answered => {}
        LastResponse::NotInvoked => response = json!({}),
    }
    json!({
        "requestContext": {
            "requestId": request_id(),
            "functionArn": function_arn,
            "condition": condition.as_str(),
            "approximateInvokeCount": approximate_invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": rfc3339(crate::now_ms()),
        "KinesisBatchInfo": {
            "shardId": first.map(|r| r.shard_id.as_str()).unwrap_or_default(),
            "startSequenceNumber": first.map(|r| r.sequence_number.as_str()).unwrap_or_default(),
            "endSequenceNumber": last_rec.map(|r| r.sequence_number.as_str()).unwrap_or_default(),
            "approximateArrivalOfFirstRecord": first.map(|r| rfc3339(r.arrival_ms)),
            "approximateArrivalOfLastRecord": last_rec.map(|r| rfc3339(r.arrival_ms)),
            "batchSize": records.len(),
            "streamArn": stream_arn,
        }
    })
}

/// A random v4-style UUID (Lambda's request ids look like this).
pub fn request_id() -> String {
    let b: [u8; 16] = rand::random();
    let h = |r: std::ops::Range<usize>| b[r].iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        h(0..4),
        h(4..6),
        &h(6..8)[1..],
        8 | (b[8] & 3),
        &h(8..10)[1..],
        h(10..16)
    )
}

/// An SQS queue used as on-failure destination.
#[derive(Debug, Clone)]
pub struct OnFailureQueue {
    pub client: Client,
    pub queue_url: String,
}

impl OnFailureQueue {
    pub async fn send(&self, record: &Value) -> Result<()> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(record.to_string())
            .send()
            .await
            .map_err(aws_err("sqs.SendMessage(on-failure)"))?;
        Ok(())
    }
}

impl Destination for OnFailureQueue {
    fn send(&self, record: Value) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { OnFailureQueue::send(self, &record).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_has_lambdas_shape() {
        let r = |seq: &str, ms| StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: seq.into(),
            partition_key: "k".into(),
            arrival_ms: ms,
            data: vec![],
        };
        let v = kinesis_record(
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            Condition::RetryAttemptsExhausted,
            4,
            LastResponse::FunctionError,
            &[r("9", 1_000), r("10", 2_500)],
        );
        assert_eq!(v["requestContext"]["condition"], "RetryAttemptsExhausted");
        assert_eq!(v["requestContext"]["approximateInvokeCount"], 4);
        assert_eq!(v["responseContext"]["functionError"], "Unhandled");
        let info = &v["KinesisBatchInfo"];
        assert_eq!(info["startSequenceNumber"], "9");
        assert_eq!(info["endSequenceNumber"], "10");
        assert_eq!(info["batchSize"], 2);
        assert_eq!(
            info["approximateArrivalOfLastRecord"],
            "1970-01-01T00:00:02.500Z"
        );
        assert_eq!(request_id().len(), 36);
    }
}

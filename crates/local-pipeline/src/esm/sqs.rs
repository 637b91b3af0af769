//! SQS event-source mapping, as Lambda runs it: long-poll ReceiveMessage,
//! gather up to the batch size or the batching window, invoke with an
//! `SqsEvent`, delete what succeeded. Failed messages are left alone: they
//! become visible again after the visibility timeout, and SQS itself moves
//! them to the queue's DLQ after maxReceiveCount receives.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use aws_sdk_sqs::Client;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::events::sqs_message_attributes;
use super::{ConsumerMetrics, EsmTasks};
use crate::function::Function;
use crate::{aws_err, Result};

pub struct QueueMapping {
    pub consumer: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub region: String,
    pub function: Arc<dyn Function>,
    pub metrics: Arc<ConsumerMetrics>,
    pub batch_size: usize,
    pub batching_window: Duration,
    /// Concurrent pollers (Lambda scales these up to the maximum concurrency).
    pub pollers: usize,
}

pub fn start(sqs: Client, mapping: Arc<QueueMapping>, cancel: CancellationToken) -> EsmTasks {
    let tasks = (0..mapping.pollers.max(1))
        .map(|_| {
            let (c, m, t) = (sqs.clone(), mapping.clone(), cancel.clone());
            tokio::spawn(async move { run_poller(c, m, t).await })
        })
        .collect();
    EsmTasks(tasks)
}

async fn run_poller(sqs: Client, m: Arc<QueueMapping>, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        let batch = match gather(&sqs, &m, &cancel).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(consumer = %m.consumer, error = %e, "receive failed");
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
        };
        if batch.is_empty() {
            continue;
        }
        if let Err(e) = process(&sqs, &m, batch).await {
            tracing::warn!(consumer = %m.consumer, error = %e, "delete failed; messages will be redelivered");
        }
    }
}

/// Receives until the batch is full or the batching window (from the first
/// message) has elapsed.
async fn gather(
    sqs: &Client,
    m: &QueueMapping,
    cancel: &CancellationToken,
) -> Result<Vec<Message>> {
    let mut batch: Vec<Message> = Vec::new();
    let mut first_at: Option<Instant> = None;
    loop {
        let left = first_at.map(|t| m.batching_window.saturating_sub(t.elapsed()));
        if batch.len() >= m.batch_size || left.is_some_and(|l| l.is_zero()) || cancel.is_cancelled()
        {
            return Ok(batch);
        }
        // Long poll of at most 1 s, shorter when the window is about to close.
        let wait = match left {
            Some(l) if l < Duration::from_secs(1) => 0,
            _ => 1,
        };
        let want = (m.batch_size - batch.len()).min(10) as i32;
        let out = sqs
            .receive_message()
            .queue_url(&m.queue_url)
            .max_number_of_messages(want)
            .wait_time_seconds(wait)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(aws_err("sqs.ReceiveMessage"))?;
        let got = out.messages.unwrap_or_default();
        if !got.is_empty() && first_at.is_none() {
            first_at = Some(Instant::now());
        }
        if got.is_empty() {
            if batch.is_empty() {
                return Ok(batch);
            }
            if wait == 0 {
                let pause = left.unwrap_or_default().min(Duration::from_millis(100));
                tokio::time::sleep(pause).await;
            }
        }
        batch.extend(got);
    }
}

/// The `SqsEvent` Lambda would build for these messages.
pub fn sqs_event(messages: &[Message], queue_arn: &str, region: &str) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|msg| {
            let attributes: serde_json::Map<String, Value> = msg
                .attributes
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str().to_string(), Value::from(v.as_str())))
                .collect();
            let mut r = json!({
                "messageId": msg.message_id,
                "receiptHandle": msg.receipt_handle,
                "body": msg.body,
                "attributes": attributes,
                "messageAttributes": msg.message_attributes.as_ref().map(sqs_message_attributes).unwrap_or_else(|| json!({})),
                "md5OfBody": msg.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            });
            if let Some(md5) = &msg.md5_of_message_attributes {
                r["md5OfMessageAttributes"] = md5.clone().into();
            }
            r
        })
        .collect();
    json!({ "Records": records })
}

/// Ids of the messages to leave for a retry; every one of them when the
/// function failed or answered with an identifier that is not in the batch.
pub fn failed_ids(answer: &std::result::Result<Value, String>, batch: &[&str]) -> HashSet<String> {
    let all = || batch.iter().map(|s| s.to_string()).collect();
    let Ok(answer) = answer else {
        return all();
    };
    let items = match answer.get("batchItemFailures") {
        None | Some(Value::Null) => return HashSet::new(),
        Some(Value::Array(items)) => items,
        Some(_) => return all(),
    };
    let mut failed = HashSet::new();
    for item in items {
        match item.get("itemIdentifier").and_then(Value::as_str) {
            Some(id) if batch.contains(&id) => {
                failed.insert(id.to_string());
            }
            _ => return all(),
        }
    }
    failed
}

async fn process(sqs: &Client, m: &QueueMapping, batch: Vec<Message>) -> Result<()> {
    let event = sqs_event(&batch, &m.queue_arn, &m.region);
    let started = Instant::now();
    let answer = m.function.invoke(event).await.map_err(|e| e.to_string());
    let metrics = &m.metrics;
    ConsumerMetrics::add(&metrics.batches, 1);
    metrics.last_invoke_latency_ms.store(
        started.elapsed().as_millis() as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    let ids: Vec<&str> = batch
        .iter()
        .filter_map(|x| x.message_id.as_deref())
        .collect();
    let failed = failed_ids(&answer, &ids);
    if let Err(e) = &answer {
        tracing::warn!(consumer = %m.consumer, error = %e, "function error; the whole batch will be retried");
    }
    if !failed.is_empty() {
        ConsumerMetrics::add(&metrics.retries, failed.len() as u64);
    }
    let done: Vec<&Message> = batch
        .iter()
        .filter(|x| {
            !x.message_id
                .as_deref()
                .is_some_and(|id| failed.contains(id))
        })
        .collect();
    for chunk in done.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, x)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(x.receipt_handle.clone().unwrap_or_default())
                    .build()
                    .ok()
            })
            .collect();
        let out = sqs
            .delete_message_batch()
            .queue_url(&m.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(aws_err("sqs.DeleteMessageBatch"))?;
        let deleted = out.successful.len() as u64;
        ConsumerMetrics::add(&metrics.records, deleted);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_like_lambda() {
        let batch = ["a", "b", "c"];
        let ok = |v: Value| failed_ids(&Ok(v), &batch);
        assert!(ok(json!({})).is_empty());
        assert!(ok(json!({"batchItemFailures": []})).is_empty());
        assert_eq!(
            ok(json!({"batchItemFailures": [{"itemIdentifier": "b"}]})).len(),
            1
        );
        assert_eq!(
            ok(json!({"batchItemFailures": [{"itemIdentifier": "zz"}]})).len(),
            3
        );
        assert_eq!(failed_ids(&Err("boom".into()), &batch).len(), 3);
    }

    #[test]
    fn event_parses_as_lambdas() {
        let msg = Message::builder()
            .message_id("m1")
            .receipt_handle("rh")
            .body("{}")
            .md5_of_body("99914b932bd37a50b983c5e7c90ae93b")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "2")
            .build();
        let v = sqs_event(&[msg], "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1");
        let e: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_value(v).unwrap();
        let r = &e.records[0];
        assert_eq!(r.attributes["ApproximateReceiveCount"], "2");
        assert_eq!(r.event_source.as_deref(), Some("aws:sqs"));
        assert_eq!(r.message_id.as_deref(), Some("m1"));
    }
}

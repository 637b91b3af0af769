//! The playback-quality events to the SRE queue, as producers send them:
//! SendMessageBatch, 10 messages per call, failed entries retried.

use aws_config::BehaviorVersion;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use aws_sdk_sqs::Client;

use super::RetryPolicy;
use super::{classify, is_throttle_code, BatchApi, CallError, Deliverer, DeliveryStats, Outcome};
use crate::error::LoadgenError;

pub const MAX_MESSAGES_PER_CALL: usize = 10;

#[derive(Debug, Clone)]
pub struct SqsApi {
    pub client: Client,
    pub queue_url: String,
}

impl SqsApi {
    pub async fn from_env(queue_url: impl Into<String>) -> Self {
        let conf = aws_config::load_defaults(BehaviorVersion::latest()).await;
        SqsApi {
            client: Client::new(&conf),
            queue_url: queue_url.into(),
        }
    }
}

impl BatchApi for SqsApi {
    type Entry = String;

    async fn send(&self, bodies: &[String]) -> Result<Vec<Outcome>, CallError> {
        let entries = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(b.clone())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CallError {
                message: e.to_string(),
                retryable: false,
                throttled: false,
            })?;
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| classify(&e))?;
        let mut outcomes = vec![Outcome::Ok; bodies.len()];
        for f in out.failed() {
            let Some(slot) = f
                .id()
                .parse::<usize>()
                .ok()
                .and_then(|i| outcomes.get_mut(i))
            else {
                continue;
            };
            let why = format!("{}: {}", f.code(), f.message().unwrap_or_default());
            *slot = if is_throttle_code(f.code()) {
                Outcome::Throttled
            } else if f.sender_fault() {
                Outcome::Rejected(why)
            } else {
                Outcome::Failed(why)
            };
        }
        Ok(outcomes)
    }

    fn error(&self, message: String) -> LoadgenError {
        LoadgenError::Sqs(format!("queue {}: {message}", self.queue_url))
    }
}

/// Buffers quality-event bodies ten at a time.
pub struct QualitySink<A: BatchApi<Entry = String> = SqsApi> {
    deliverer: Deliverer<A>,
    batch: Vec<String>,
}

impl QualitySink<SqsApi> {
    pub async fn from_env(queue_url: &str, policy: RetryPolicy) -> Self {
        QualitySink::new(SqsApi::from_env(queue_url).await, policy)
    }
}

impl<A: BatchApi<Entry = String>> QualitySink<A> {
    pub fn new(api: A, policy: RetryPolicy) -> Self {
        QualitySink {
            deliverer: Deliverer::new(api, policy),
            batch: Vec::with_capacity(MAX_MESSAGES_PER_CALL),
        }
    }

    pub async fn push(&mut self, body: String) -> Result<(), LoadgenError> {
        self.batch.push(body);
        if self.batch.len() >= MAX_MESSAGES_PER_CALL {
            self.flush().await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> Result<(), LoadgenError> {
        let batch = std::mem::take(&mut self.batch);
        self.deliverer.deliver(batch).await.map(drop)
    }

    pub fn stats(&self) -> &DeliveryStats {
        &self.deliverer.stats
    }
}

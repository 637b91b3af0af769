//! Where records go: Kinesis, files, and the SQS quality queue. The batch
//! APIs share one delivery loop: send, keep only the entries that failed,
//! back off (exponential, jittered), try again, up to a bounded number of
//! attempts.

pub mod file;
pub mod kinesis;
pub mod sqs;

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use serde::Serialize;

use crate::error::LoadgenError;

pub use file::{read_records_file, FileRecord, FileSink, KinesisEventFile, WindowMode};
pub use kinesis::{KinesisApi, KinesisEntry, KinesisSink};
pub use sqs::{QualitySink, SqsApi};

/// Verdict on one entry of a batch call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Over the shard's or queue's throughput: retry later.
    Throttled,
    /// Failed for a passing reason (internal error): retry.
    Failed(String),
    /// Refused for good (the sender's fault): not retried, counted undelivered.
    Rejected(String),
}

/// A whole call that failed (no per-entry verdicts).
#[derive(Debug, Clone)]
pub struct CallError {
    pub message: String,
    /// Worth retrying (network, 5xx, throttling) rather than a caller mistake.
    pub retryable: bool,
    pub throttled: bool,
}

/// Classifies a failed AWS call: throttling, server-side and transport
/// failures are retried; the caller's mistakes (no such stream, bad input) are not.
pub fn classify<E>(err: &aws_sdk_kinesis::error::SdkError<E>) -> CallError
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_kinesis::error::SdkError;
    let mut message = error_chain(err);
    let (retryable, throttled) = match err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            message = format!(
                "{code}: {} (HTTP {})",
                se.err().message().unwrap_or_default(),
                se.raw().status().as_u16()
            );
            let throttled = is_throttle_code(code);
            let transient = code.contains("InternalFailure")
                || code.contains("InternalError")
                || code.contains("ServiceUnavailable")
                || se.raw().status().is_server_error();
            (throttled || transient, throttled)
        }
        SdkError::ConstructionFailure(_) => (false, false),
        _ => (true, false),
    };
    CallError {
        message,
        retryable,
        throttled,
    }
}

/// An error and its sources on one line (`a: b: c`).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ").replace('\n', " ")
}

pub(crate) fn is_throttle_code(code: &str) -> bool {
    code.contains("Throttl")
        || code.contains("ThroughputExceeded")
        || code == "LimitExceededException"
}

/// One batch API (PutRecords, SendMessageBatch): a verdict per entry, in order.
pub trait BatchApi {
    type Entry: Send + Sync;
    fn send(
        &self,
        entries: &[Self::Entry],
    ) -> impl Future<Output = Result<Vec<Outcome>, CallError>> + Send;
    fn error(&self, message: String) -> LoadgenError;
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RetryPolicy {
    /// Attempts per entry, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `retry` (1-based): half fixed, half random.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.max_delay);
        let half = exp / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }
}

/// What a sink did, summed over the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryStats {
    pub calls: u64,
    /// Entries accepted.
    pub delivered: u64,
    /// Entry re-sends after a partial failure or a failed call.
    pub retried_entries: u64,
    /// Entries refused for throughput (counted per attempt).
    pub throttled_entries: u64,
    pub failed_calls: u64,
    /// Entries given up on after the last attempt.
    pub undelivered: u64,
}

/// The retry loop around a [`BatchApi`].
pub struct Deliverer<A: BatchApi> {
    pub api: A,
    pub policy: RetryPolicy,
    pub stats: DeliveryStats,
}

impl<A: BatchApi> Deliverer<A> {
    pub fn new(api: A, policy: RetryPolicy) -> Self {
        Deliverer {
            api,
            policy,
            stats: DeliveryStats::default(),
        }
    }

    /// Delivers a batch. Returns the entries still failing after the last
    /// attempt (also counted as undelivered); errors if a call keeps failing.
    pub async fn deliver(
        &mut self,
        mut pending: Vec<A::Entry>,
    ) -> Result<Vec<A::Entry>, LoadgenError> {
        let mut attempt = 1;
        loop {
            if pending.is_empty() {
                return Ok(pending);
            }
            self.stats.calls += 1;
            match self.api.send(&pending).await {
                Ok(outcomes) => {
                    let mut failed = Vec::new();
                    let mut outcomes = outcomes.into_iter();
                    for entry in pending {
                        match outcomes
                            .next()
                            .unwrap_or(Outcome::Failed("no verdict".into()))
                        {
                            Outcome::Ok => self.stats.delivered += 1,
                            Outcome::Throttled => {
                                self.stats.throttled_entries += 1;
                                failed.push(entry);
                            }
                            Outcome::Failed(_) => failed.push(entry),
                            Outcome::Rejected(_) => self.stats.undelivered += 1,
                        }
                    }
                    pending = failed;
                }
                Err(e) => {
                    self.stats.failed_calls += 1;
                    if e.throttled {
                        self.stats.throttled_entries += pending.len() as u64;
                    }
                    if !e.retryable || attempt >= self.policy.max_attempts {
                        self.stats.undelivered += pending.len() as u64;
                        return Err(self.api.error(format!(
                            "{} (attempt {attempt}/{})",
                            e.message, self.policy.max_attempts
                        )));
                    }
                }
            }
            if pending.is_empty() {
                return Ok(pending);
            }
            if attempt >= self.policy.max_attempts {
                self.stats.undelivered += pending.len() as u64;
                return Ok(pending);
            }
            self.stats.retried_entries += pending.len() as u64;
            tokio::time::sleep(self.policy.backoff(attempt)).await;
            attempt += 1;
        }
    }
}

//! Where records go: Kinesis, files, and the SQS SRE queue. The two batch
//! APIs share one delivery loop ([`Deliverer`]: send, keep only the entries
//! that failed, back off by the workspace's retry policy, `playback_aws::retry`,
//! try again, up to a bounded number of attempts) and one background
//! [`Producer`] that buffers through an outage, as a producer library does.

pub mod collector;
pub mod file;
pub mod kinesis;
pub mod producer;
pub mod sqs;

use std::future::Future;
use std::time::Duration;

use backon::BackoffBuilder;
use playback_domain::ports::Retry;
use serde::Serialize;

use crate::error::LoadgenError;

pub use collector::{CollectorApi, CollectorTally, Latency, DEMO_APP};
pub use file::{read_records_file, FileRecord, FileSink, KinesisEventFile, WindowMode};
pub use kinesis::{KinesisApi, KinesisEntry, Outage};
pub use producer::{Producer, ProducerOptions};
pub use sqs::{SqsApi, SrePacker};

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

/// Classifies a failed AWS call by the workspace's rules
/// (`playback_aws::classify`): throttling, server-side and transport failures
/// are retried; the caller's mistakes (no such stream, bad input) are not.
pub fn classify<E>(err: &aws_sdk_kinesis::error::SdkError<E>) -> CallError
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = match err.as_service_error() {
        Some(se) => format!(
            "{}: {} (HTTP {})",
            se.code().unwrap_or_default(),
            se.message().unwrap_or_default(),
            err.raw_response().map_or(0, |r| r.status().as_u16())
        ),
        None => error_chain(err),
    };
    CallError {
        message,
        retryable: playback_aws::classify::classify(err) == Retry::Retriable,
        throttled: err
            .as_service_error()
            .and_then(|se| se.code())
            .is_some_and(is_throttle_code),
    }
}

/// A request the SDK's builder refused (a missing required field): the
/// caller's mistake, not retried.
pub(crate) fn invalid_request(e: impl std::fmt::Display) -> CallError {
    CallError {
        message: e.to_string(),
        retryable: false,
        throttled: false,
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
pub trait BatchApi: Send + Sync + 'static {
    type Entry: Send + Sync + 'static;
    /// Entries one call may carry.
    const MAX_ENTRIES: usize;
    /// Bytes one call may carry, as [`BatchApi::size`] counts them.
    const MAX_BYTES: usize;
    fn size(entry: &Self::Entry) -> usize;
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
    /// The delays before each retry: the workspace's policy with this
    /// producer's own bounds (a producer may wait longer than a Lambda).
    pub fn delays(&self) -> impl Iterator<Item = Duration> {
        playback_aws::retry::policy()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .build()
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
    /// Entries given up on: refused for good, a non-retriable call failure,
    /// or older than the producer's record TTL.
    pub undelivered: u64,
    /// Of those, the entries dropped for their age.
    pub expired: u64,
    /// Most entries waiting in the producer at once.
    pub max_backlog: u64,
    /// Longest an entry waited between `send` and its delivery, ms.
    pub max_wait_ms: u64,
    /// Rounds of the retry policy that ended with entries still failing.
    pub exhausted_rounds: u64,
}

/// The retry loop around a [`BatchApi`].
pub struct Deliverer<A: BatchApi> {
    pub api: A,
    pub policy: RetryPolicy,
    pub stats: DeliveryStats,
    /// The last retryable call failure, for the report.
    pub last_error: Option<String>,
}

impl<A: BatchApi> Deliverer<A> {
    pub fn new(api: A, policy: RetryPolicy) -> Self {
        Deliverer {
            api,
            policy,
            stats: DeliveryStats::default(),
            last_error: None,
        }
    }

    /// Delivers a batch through one round of the retry policy. Returns the
    /// entries still failing for a passing reason after the last attempt
    /// (the caller decides whether to keep them); errors on a call failure
    /// retrying cannot help (those entries are counted undelivered).
    pub async fn deliver(
        &mut self,
        mut pending: Vec<A::Entry>,
    ) -> Result<Vec<A::Entry>, LoadgenError> {
        let mut delays = self.policy.delays();
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
                    if !e.retryable {
                        self.stats.undelivered += pending.len() as u64;
                        return Err(self.api.error(format!(
                            "{} (attempt {attempt}/{})",
                            e.message, self.policy.max_attempts
                        )));
                    }
                    self.last_error = Some(e.message);
                }
            }
            if pending.is_empty() {
                return Ok(pending);
            }
            let Some(delay) = delays.next() else {
                self.stats.exhausted_rounds += 1;
                return Ok(pending);
            };
            self.stats.retried_entries += pending.len() as u64;
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

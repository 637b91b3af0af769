//! session-features: per-viewer features in DynamoDB for the recommender.
//!
//! A batch is folded per viewer (at most one write per viewer per batch) from
//! the stored features; each write is conditioned on the stored stream
//! position, and events at or before it are skipped, so a replayed batch is a
//! no-op. A failed viewer reports the first sequence number of its events, and
//! Lambda retries from there.

use std::collections::{BTreeSet, HashMap};

use playback_domain::qoe::FastHash;

use aws_lambda_events::event::streams::KinesisEventResponse;
use playback_aws::emf::Metrics;
use playback_aws::fail_fast;
use playback_aws::kinesis_batch::{decode_batch, BatchEvent, Failures, KinesisBatch};
use playback_domain::features::save_viewer;
use playback_domain::ports::{Chain, DeadLetters, FeatureStore, PortError, PortResult, Retry};
use playback_domain::{Clock, PlaybackEvent, StreamPosition};

mod entry;

pub use entry::{build, App, AwsApp, Config};

pub const CONSUMER: &str = "session-features";
/// Concurrent DynamoDB writes per batch.
const WRITE_CONCURRENCY: usize = 16;
#[derive(Debug, thiserror::Error)]
pub enum SessionFeaturesError {
    /// Retrying cannot help: the invocation fails as a whole.
    #[error("non-retriable failure; the whole batch fails")]
    NonRetriable(#[source] PortError),
    /// A missing or malformed setting: the function stops before its first event.
    #[error(transparent)]
    Config(playback_aws::AwsError),
    #[error(transparent)]
    Topology(#[from] playback_topology::TopologyError),
    /// The invocation's payload is not a Kinesis event.
    #[error("payload: {0}")]
    Payload(serde_json::Error),
}

pub struct SessionFeatures<F, D> {
    pub store: F,
    pub dead_letters: D,
    /// Where its EMF metrics go (stdout in Lambda).
    pub metrics: Metrics,
}

/// What one batch did, for logs, metrics and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchReport {
    pub events: usize,
    pub dead_letters: usize,
    pub viewers_written: usize,
    pub viewers_failed: usize,
}

impl<F: FeatureStore, D: DeadLetters> SessionFeatures<F, D> {
    /// The batch's answer as before the error classes (callers that only
    /// handle a response): a non-retriable error reports every record failed.
    pub async fn handle(
        &self,
        event: &KinesisBatch,
        clock: Clock,
    ) -> (KinesisEventResponse, BatchReport) {
        match self.try_handle(event, clock).await {
            Ok(done) => done,
            Err(_) => {
                let mut failures = Failures::default();
                (0..event.len()).for_each(|i| failures.record(i));
                (failures.into_response(event), BatchReport::default())
            }
        }
    }

    /// Retriable failures become batch item failures; a non-retriable one is
    /// logged, counted (`NonRetriableErrors`) and fails the invocation.
    pub async fn try_handle(
        &self,
        event: &KinesisBatch,
        clock: Clock,
    ) -> Result<(KinesisEventResponse, BatchReport), SessionFeaturesError> {
        let fatal = |e: PortError| {
            fail_fast::report(&self.metrics, CONSUMER, e.class(), &e);
            SessionFeaturesError::NonRetriable(e)
        };
        let batch = decode_batch(event, CONSUMER, clock);
        let mut failures = Failures::default();
        let mut report = BatchReport {
            events: batch.events.len(),
            dead_letters: batch.dead.len(),
            ..Default::default()
        };
        if !batch.dead.is_empty() {
            match self.dead_letters.send(&batch.dead).await {
                Ok(()) => self.metrics.emit(
                    &[("Consumer", CONSUMER)],
                    &[("PoisonPills", batch.dead.len() as f64, "Count")],
                ),
                Err(e) if !e.is_retriable() => return Err(fatal(e)),
                Err(e) => {
                    tracing::error!(error = %Chain(&e), "dead letters not sent; their records will be retried");
                    batch.dead_records.iter().for_each(|&i| failures.record(i));
                }
            }
        }
        // Hashed, not ordered: a batch holds thousands of events of ~36-byte ids.
        let mut by_viewer: HashMap<&str, Vec<&BatchEvent<'_>>, FastHash> = HashMap::default();
        for e in &batch.events {
            by_viewer
                .entry(e.event.viewer_id.as_ref())
                .or_default()
                .push(e);
        }
        let ids: Vec<String> = by_viewer.keys().map(|k| k.to_string()).collect();
        let stored = match self.store.load(&ids).await {
            Ok(s) => s,
            Err(e) if !e.is_retriable() => return Err(fatal(e)),
            Err(e) => {
                tracing::error!(error = %Chain(&e), "features not loaded; retrying the batch");
                batch.events.iter().for_each(|e| failures.record(e.record));
                report.viewers_failed = ids.len();
                return Ok((failures.into_response(event), report));
            }
        };
        // Chunks of concurrent writes joined in a plain loop: a stream
        // combinator's closure would make this future lose `Send`.
        type Pairs<'b> = Vec<(&'b PlaybackEvent<'b>, &'b StreamPosition)>;
        let viewers: Vec<(&str, Pairs<'_>)> = by_viewer
            .iter()
            .map(|(v, evs)| (*v, evs.iter().map(|e| (&e.event, &e.position)).collect()))
            .collect();
        let mut results: Vec<(&str, PortResult<bool>)> = Vec::with_capacity(viewers.len());
        let fatal_at = |r: &[(&str, PortResult<bool>)]| {
            r.iter()
                .position(|(_, r)| r.as_ref().is_err_and(|e| e.class() == Retry::NonRetriable))
        };
        for chunk in viewers.chunks(WRITE_CONCURRENCY) {
            let mut writes = Vec::with_capacity(chunk.len());
            for (viewer, events) in chunk {
                let base = stored.get(*viewer).cloned();
                writes.push(save_viewer(&self.store, viewer, base, events));
            }
            let done = futures::future::join_all(writes).await;
            results.extend(chunk.iter().map(|(v, _)| *v).zip(done));
            // Writes are conditioned on the stored position: those that
            // landed are skipped when the failed invocation is retried.
            if let Some(i) = fatal_at(&results) {
                let (_, result) = results.swap_remove(i);
                return Err(fatal(result.expect_err("found above")));
            }
        }
        for (viewer, result) in results {
            match result {
                Ok(true) => report.viewers_written += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(viewer, error = %Chain(&e), "viewer not written; retrying from its first event");
                    report.viewers_failed += 1;
                    by_viewer[viewer]
                        .iter()
                        .for_each(|e| failures.record(e.record));
                }
            }
        }
        Ok((failures.into_response(event), report))
    }
}

/// Distinct viewers of a batch (used by benchmarks to check write amplification).
pub fn distinct_viewers(event: &KinesisBatch, clock: Clock) -> usize {
    let batch = decode_batch(event, CONSUMER, clock);
    batch
        .events
        .iter()
        .map(|e| e.event.viewer_id.as_ref())
        .collect::<BTreeSet<_>>()
        .len()
}

#[cfg(test)]
mod tests;

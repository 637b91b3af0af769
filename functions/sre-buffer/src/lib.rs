//! sre-buffer: playback-quality events from SQS into per-minute outage
//! signals and incidents, per (region, device platform, app version).
//!
//! Poison pills go to the poison-pill DLQ with their reason and are
//! acknowledged; a message whose counts could not be stored is reported as a
//! batch item failure, retried by SQS, and redriven to the queue's DLQ after
//! maxReceiveCount. A non-retriable error (permissions, a missing table or
//! queue) fails the whole invocation at once, logged and counted
//! (`NonRetriableErrors`), rather than cycling messages through retries.

use std::collections::{BTreeMap, BTreeSet};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use playback_aws::{emf, fail_fast};
use playback_domain::ports::{Chain, DeadLetter, DeadLetters, PortError, PortResult, SreStore};
use playback_domain::sre::{Incident, SreCounts, SreKey, SreRule};
use playback_domain::{decode_record, Clock};

pub const CONSUMER: &str = "sre-buffer";

#[derive(Debug, thiserror::Error)]
pub enum SreBufferError {
    /// Retrying cannot help: the invocation fails as a whole.
    #[error("non-retriable failure; the whole batch fails")]
    NonRetriable(#[source] PortError),
}

pub struct SreBuffer<S, D> {
    pub store: S,
    pub dead_letters: D,
    pub rule: SreRule,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct BatchReport {
    pub events: usize,
    pub dead_letters: usize,
    pub incidents: Vec<Incident>,
    pub failed_messages: usize,
}

impl<S: SreStore, D: DeadLetters> SreBuffer<S, D> {
    /// The batch's answer as before the error classes (callers that only
    /// handle a response): a non-retriable error reports every message failed.
    pub async fn handle(&self, event: &SqsEvent, clock: Clock) -> (SqsBatchResponse, BatchReport) {
        match self.try_handle(event, clock).await {
            Ok(done) => done,
            Err(_) => {
                let ids = event.records.iter().map(|m| m.message_id.as_deref());
                let report = BatchReport {
                    failed_messages: event.records.len(),
                    ..Default::default()
                };
                (failures_of(ids.map(Option::unwrap_or_default)), report)
            }
        }
    }

    /// Retriable failures become batch item failures; a non-retriable one is
    /// logged, counted and fails the invocation before any further write
    /// (the minute counters are additive: what was added stays added).
    pub async fn try_handle(
        &self,
        event: &SqsEvent,
        clock: Clock,
    ) -> Result<(SqsBatchResponse, BatchReport), SreBufferError> {
        let fatal = |e: PortError| {
            fail_fast::report(CONSUMER, e.class(), &e);
            SreBufferError::NonRetriable(e)
        };
        let mut report = BatchReport::default();
        let mut groups: BTreeMap<SreKey, (SreCounts, BTreeSet<&str>)> = BTreeMap::new();
        let mut dead: Vec<(DeadLetter, &str)> = Vec::new();
        for m in &event.records {
            let id = m.message_id.as_deref().unwrap_or_default();
            let body = m.body.as_deref().unwrap_or_default();
            for d in decode_record(body.as_bytes(), clock) {
                match d.result {
                    Ok(e) => {
                        report.events += 1;
                        let (counts, ids) = groups.entry(SreKey::of(&e)).or_default();
                        counts.add(SreCounts::of(&e));
                        ids.insert(id);
                    }
                    Err(invalid) => {
                        let source = format!("sqs/{id}/{}", d.index);
                        dead.push((DeadLetter::new(CONSUMER, source, d.raw, &invalid), id));
                    }
                }
            }
        }
        let mut failed: BTreeSet<&str> = BTreeSet::new();
        if !dead.is_empty() {
            let letters: Vec<DeadLetter> = dead.iter().map(|(l, _)| l.clone()).collect();
            report.dead_letters = letters.len();
            match self.dead_letters.send(&letters).await {
                Err(e) if !e.is_retriable() => return Err(fatal(e)),
                Err(e) => {
                    tracing::error!(error = %Chain(&e), "dead letters not sent; their messages will be retried");
                    failed.extend(dead.iter().map(|(_, id)| *id));
                }
                Ok(()) => {
                    emf::emit(
                        &[("Consumer", CONSUMER)],
                        &[("PoisonPills", letters.len() as f64, "Count")],
                    );
                }
            }
        }
        for (key, (counts, ids)) in &groups {
            match self.record(key, *counts, clock).await {
                Ok(mut opened) => report.incidents.append(&mut opened),
                Err(e) if !e.is_retriable() => return Err(fatal(e)),
                Err(e) => {
                    tracing::warn!(dims = key.dimensions(), error = %Chain(&e), "signal not stored; messages retried");
                    failed.extend(ids.iter().copied());
                }
            }
        }
        report.failed_messages = failed.len();
        Ok((failures_of(failed.into_iter()), report))
    }

    async fn record(
        &self,
        key: &SreKey,
        counts: SreCounts,
        clock: Clock,
    ) -> PortResult<Vec<Incident>> {
        let totals = self.store.add(key, counts).await?;
        let mut opened = Vec::new();
        for (kind, count, threshold) in self.rule.breaches(&totals) {
            let incident = Incident {
                key: key.clone(),
                kind,
                count,
                threshold,
                opened_at_ms: clock.now_ms,
            };
            if self.store.open_incident(&incident).await? {
                tracing::warn!(dims = key.dimensions(), ?kind, count, "SRE incident opened");
                emf::emit(
                    &[("Region", key.region.as_str())],
                    &[("SreIncidents", 1.0, "Count")],
                );
                opened.push(incident);
            }
        }
        Ok(opened)
    }
}

fn failures_of<'a>(ids: impl Iterator<Item = &'a str>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = ids
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id.to_string();
            f
        })
        .collect();
    response
}

#[cfg(test)]
mod tests;

//! sre-buffer: playback-quality events from SQS into per-minute outage
//! signals and incidents, per (region, device platform, app version).
//!
//! Poison pills go to the poison-pill DLQ with their reason and are
//! acknowledged; a message whose counts could not be stored is reported as a
//! batch item failure, retried by SQS, and redriven to the queue's DLQ after
//! maxReceiveCount.

use std::collections::{BTreeMap, BTreeSet};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use playback_aws::emf;
use playback_domain::ports::{DeadLetter, DeadLetters, PortResult, SreStore};
use playback_domain::sre::{Incident, SreCounts, SreKey, SreRule};
use playback_domain::{decode_record, Clock};

pub const CONSUMER: &str = "sre-buffer";

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
    pub async fn handle(&self, event: &SqsEvent, clock: Clock) -> (SqsBatchResponse, BatchReport) {
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
            if let Err(e) = self.dead_letters.send(&letters).await {
                tracing::error!(error = %e, "dead letters not sent; their messages will be retried");
                failed.extend(dead.iter().map(|(_, id)| *id));
            } else {
                emf::emit(
                    &[("Consumer", CONSUMER)],
                    &[("PoisonPills", letters.len() as f64, "Count")],
                );
            }
        }
        for (key, (counts, ids)) in &groups {
            match self.record(key, *counts, clock).await {
                Ok(mut opened) => report.incidents.append(&mut opened),
                Err(e) => {
                    tracing::warn!(dims = key.dimensions(), error = %e, "signal not stored; messages retried");
                    failed.extend(ids.iter().copied());
                }
            }
        }
        report.failed_messages = failed.len();
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failed
            .into_iter()
            .map(|id| {
                let mut f = BatchItemFailure::default();
                f.item_identifier = id.to_string();
                f
            })
            .collect();
        (response, report)
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

#[cfg(test)]
mod tests;

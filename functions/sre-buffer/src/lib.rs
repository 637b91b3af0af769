//! sre-buffer: playback-quality events from SQS into per-minute outage
//! signals (rates against the slice's own baseline, `playback_domain::sre`)
//! and incidents with a lifecycle, per (region, device platform, app version).
//!
//! Per slice-minute of a batch: add its counts (DynamoDB ADD; an SQS
//! redelivery adds them again, as before: counts can run high, never low),
//! read the baseline and the slice's incidents, judge, and apply what
//! `sre::incident::step` decides by conditional writes. Up to 16 slices are
//! stored at once, each slice's minutes in order. An incident pages
//! once: `notified` is set after the publish, so a crash in between pages
//! again on a later batch instead of never. Resolution needs the slice to
//! send events; a slice that goes silent stays open until it does.
//!
//! Poison pills go to the poison-pill DLQ with their reason and are
//! acknowledged; a message whose counts could not be stored is reported as a
//! batch item failure, retried by SQS, and redriven to the queue's DLQ after
//! maxReceiveCount. A non-retriable error (permissions, a missing table or
//! queue) fails the whole invocation at once, logged and counted
//! (`NonRetriableErrors`), rather than cycling messages through retries.

use std::collections::{BTreeMap, BTreeSet};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use playback_aws::emf::Metrics;
use playback_aws::fail_fast;
use playback_domain::ports::{
    Chain, DeadLetter, DeadLetters, IncidentPager, PortError, PortResult, SreStore,
};
use playback_domain::sre::incident::{step, Action, Incident};
use playback_domain::sre::{Signal, SreCounts, SreKey, SreRule};
use playback_domain::{decode_record, Clock};

mod entry;

pub use entry::{build, App, AwsApp, Config};

pub const CONSUMER: &str = "sre-buffer";
/// Playback attempts a batch brought, per function: the alarm that says SRE
/// is blind (no denominators, so nothing can page) watches it.
pub const ATTEMPTS_SEEN_METRIC: &str = "SreAttemptsSeen";

/// The EMF document of a batch's [`ATTEMPTS_SEEN_METRIC`] (dimension
/// `Function` = [`CONSUMER`]), as the alarm expects it.
pub fn attempts_seen_document(ts_ms: i64, attempts: u64) -> serde_json::Value {
    playback_aws::emf::document(
        ts_ms,
        &[("Function", CONSUMER)],
        &[(ATTEMPTS_SEEN_METRIC, attempts as f64, "Count")],
    )
}

#[derive(Debug, thiserror::Error)]
pub enum SreBufferError {
    /// Retrying cannot help: the invocation fails as a whole.
    #[error("non-retriable failure; the whole batch fails")]
    NonRetriable(#[source] PortError),
    /// A missing or malformed setting: the function stops before its first event.
    #[error(transparent)]
    Config(playback_aws::AwsError),
    #[error("SRE_RULE: {0}")]
    Rule(serde_json::Error),
    #[error(transparent)]
    Topology(#[from] playback_topology::TopologyError),
    /// The invocation's payload is not an SQS event.
    #[error("payload: {0}")]
    Payload(serde_json::Error),
}

/// Slices stored at once in a batch (each an update and two queries per minute).
const SLICE_CONCURRENCY: usize = 16;

/// A slice-minute of a batch: its key, its counts, the messages it came from.
type Minute<'a> = (&'a SreKey, SreCounts, &'a BTreeSet<&'a str>);

pub struct SreBuffer<S, D, P> {
    pub store: S,
    pub dead_letters: D,
    pub pager: P,
    pub rule: SreRule,
    /// Where its EMF metrics go (stdout in Lambda).
    pub metrics: Metrics,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct BatchReport {
    pub events: usize,
    pub dead_letters: usize,
    /// Incidents opened by this batch.
    pub incidents: Vec<Incident>,
    pub resolved: Vec<Incident>,
    pub pages: usize,
    pub failed_messages: usize,
}

impl<S: SreStore, D: DeadLetters, P: IncidentPager> SreBuffer<S, D, P> {
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
            fail_fast::report(&self.metrics, CONSUMER, e.class(), &e);
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
                    self.metrics.emit(
                        &[("Consumer", CONSUMER)],
                        &[("PoisonPills", letters.len() as f64, "Count")],
                    );
                }
            }
        }
        let attempts: u64 = groups.values().map(|(c, _)| c.attempts).sum();
        self.metrics.emit(
            &[("Function", CONSUMER)],
            &[(ATTEMPTS_SEEN_METRIC, attempts as f64, "Count")],
        );
        // A slice's minutes in order (they share its incidents), slices side
        // by side; chunks joined in a plain loop (a stream combinator's
        // closure would make this future lose `Send`).
        let mut slices: BTreeMap<String, Vec<Minute<'_>>> = BTreeMap::new();
        for (key, (counts, ids)) in &groups {
            slices
                .entry(key.dimensions())
                .or_default()
                .push((key, *counts, ids));
        }
        let slices: Vec<Vec<Minute<'_>>> = slices.into_values().collect();
        for chunk in slices.chunks(SLICE_CONCURRENCY) {
            let runs = chunk.iter().map(|m| self.record_slice(m, clock));
            for (minutes, (part, errors)) in chunk.iter().zip(futures::future::join_all(runs).await)
            {
                report.incidents.extend(part.incidents);
                report.resolved.extend(part.resolved);
                report.pages += part.pages;
                for (i, e) in errors {
                    let (key, _, ids) = minutes[i];
                    if !e.is_retriable() {
                        return Err(fatal(e));
                    }
                    tracing::warn!(dims = key.dimensions(), error = %Chain(&e), "signal not stored; messages retried");
                    failed.extend(ids.iter().copied());
                }
            }
        }
        report.failed_messages = failed.len();
        Ok((failures_of(failed.into_iter()), report))
    }

    /// One slice's minutes in order: what they opened, resolved and paged,
    /// and the minutes that failed (a non-retriable failure stops the slice).
    async fn record_slice(
        &self,
        minutes: &[Minute<'_>],
        clock: Clock,
    ) -> (BatchReport, Vec<(usize, PortError)>) {
        let mut part = BatchReport::default();
        let mut errors = Vec::new();
        for (i, (key, counts, _)) in minutes.iter().enumerate() {
            if let Err(e) = self.record(key, *counts, clock, &mut part).await {
                let stop = !e.is_retriable();
                errors.push((i, e));
                if stop {
                    break;
                }
            }
        }
        (part, errors)
    }

    async fn record(
        &self,
        key: &SreKey,
        counts: SreCounts,
        clock: Clock,
        report: &mut BatchReport,
    ) -> PortResult<()> {
        let totals = self.store.add(key, counts).await?;
        let baseline = self.store.baseline(key, self.rule.baseline_minutes).await?;
        let signals = self.rule.judge(&totals, &baseline);
        emit_signals(&self.metrics, key, &signals);
        let current = self.store.incidents(key).await?;
        for signal in &signals {
            let now = current.iter().find(|i| i.kind == signal.kind);
            match step(now, key, signal, &self.rule, clock.now_ms) {
                Action::Open(i) => {
                    if self.store.open_incident(&i).await? {
                        tracing::warn!(
                            dims = key.dimensions(),
                            kind = i.kind.as_str(),
                            rate = signal.rate,
                            "SRE incident opened"
                        );
                        self.metrics.emit(
                            &[("Region", key.region.as_str())],
                            &[("SreIncidents", 1.0, "Count")],
                        );
                        self.page_once(i.clone(), report).await?;
                        report.incidents.push(i);
                    }
                }
                Action::Update(i) => {
                    self.store.update_incident(&i).await?;
                    self.page_once(i, report).await?;
                }
                Action::Resolve(i) => {
                    if self.store.update_incident(&i).await? {
                        tracing::info!(
                            dims = key.dimensions(),
                            kind = i.kind.as_str(),
                            "SRE incident resolved"
                        );
                        report.resolved.push(i);
                    }
                }
                // An open incident whose page was lost (crash after the write).
                Action::Nothing => match now {
                    Some(i) if i.is_open() && !i.notified => {
                        self.page_once(i.clone(), report).await?
                    }
                    _ => {}
                },
            }
        }
        Ok(())
    }

    /// Pages unless already paged, then marks it paged.
    async fn page_once(&self, mut i: Incident, report: &mut BatchReport) -> PortResult<()> {
        if i.notified {
            return Ok(());
        }
        self.pager.page(&i).await?;
        report.pages += 1;
        i.notified = true;
        self.store.update_incident(&i).await?;
        Ok(())
    }
}

/// One EMF document per slice-minute: rates and samples for the dashboard.
/// Cardinality: one metric series per region x platform x app version that
/// sends events (a few hundred with a handful of live builds); unknown
/// versions collapse to `unknown` in `SreKey::of`, so a flood of distinct
/// junk versions would still create series: the contract's validation is the
/// guard, and old builds age out as they stop sending.
fn emit_signals(metrics: &Metrics, key: &SreKey, signals: &[Signal]) {
    let dims = [
        ("Region", key.region.as_str()),
        ("DevicePlatform", key.device_platform.as_str()),
        ("AppVersion", key.app_version.as_str()),
    ];
    let mut values: Vec<(&str, f64, &str)> = Vec::new();
    for s in signals {
        use playback_domain::sre::IncidentKind::*;
        let (rate, sample) = match s.kind {
            PlaybackFailures => ("PlaybackFailureRate", ("PlaybackAttempts", "Count")),
            VideoStartFailures => ("VideoStartFailureRate", ("", "")),
            RebufferStarts => ("RebufferStartsPerSessionMinute", ("SessionMinutes", "None")),
        };
        values.push((rate, s.rate, "None"));
        if !sample.0.is_empty() {
            values.push((sample.0, s.sample, sample.1));
        }
    }
    metrics.emit(&dims, &values);
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

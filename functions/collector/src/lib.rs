//! collector: the ingest edge. Players `POST /v1/events` over HTTPS with an
//! app key; each event is validated by the domain's own code, enriched with
//! the server's receive time and the app id, packed into NDJSON Kinesis
//! records keyed by viewer_id, and the SRE path's events also go to the SRE
//! queue, even when the stream write fails. README.md is the player contract.
//!
//! The core is one function, [`Collector::handle`], on plain `http` types:
//! the Lambda adapter ([`lambda`]) and a long-lived server both call it.

use std::time::Duration;

use backon::ExponentialBuilder;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use playback_aws::emf::Metrics;
use playback_domain::event::{DEFAULT_MAX_FUTURE_SKEW_MS, MAX_EVENT_BYTES};
use playback_domain::ports::{Chain, DeadLetter, DeadLetters, PortResult};
use playback_domain::{Clock, InvalidEvent, PlaybackEvent, Reason};
use serde::Serialize;

pub mod auth;
pub mod body;
pub mod dynamo_keys;
pub mod entry;
pub mod lambda;
#[cfg(feature = "server")]
pub mod linger;
pub mod memory;
pub mod ports;
pub mod records;
mod reply;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod throttle;

#[cfg(feature = "server")]
pub use entry::build_lingering;
pub use entry::{build, AwsCollector, Config, ConfigError, KinesisStream, SqsSreQueue};
use ports::{AppLimit, EntryOutcome, KeyStore, SreQueue, StreamRecord, StreamSink};
pub use records::{enriched_line, pack, sre_bodies, validate};
pub(crate) use reply::error;
use reply::{status, throttled, unavailable, with_cors};

pub const CONSUMER: &str = "collector";
pub const PATH: &str = "/v1/events";
/// Seconds a player waits before re-sending after a 503.
pub const RETRY_AFTER_SECS: u64 = 2;
/// An SRE queue message body: one SQS billing chunk.
pub const MAX_SRE_BODY_BYTES: usize = 64 * 1024;

/// The service, as a warm Lambda or a long-lived server keeps it.
pub struct Collector<K, S, Q, D> {
    pub keys: K,
    pub stream: S,
    pub sre: Q,
    pub dead_letters: D,
    pub metrics: Metrics,
    /// Retries of partial PutRecords / SendMessageBatch failures (bounded).
    pub retry: ExponentialBuilder,
    /// The contract's future-time rule, applied with the server's clock.
    pub max_future_skew_ms: i64,
    /// Requests per app (the long-lived host's `throttle`); none on Lambda.
    pub app_limit: Option<std::sync::Arc<dyn AppLimit>>,
}

/// One event's verdict in the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventResult {
    pub index: usize,
    pub event_id: Option<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Accepted,
    Rejected,
}

/// The body of a 200 or a 503.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub accepted: usize,
    pub rejected: usize,
    /// Every accepted event is durably in the stream.
    pub written: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub results: Vec<EventResult>,
}

impl<K, S, Q, D> Collector<K, S, Q, D>
where
    K: KeyStore,
    S: StreamSink,
    Q: SreQueue,
    D: DeadLetters,
{
    /// The collector on its ports, with the workspace's retry policy and the
    /// contract's future-time rule.
    pub fn new(keys: K, stream: S, sre: Q, dead_letters: D, metrics: Metrics) -> Self {
        Collector {
            keys,
            stream,
            sre,
            dead_letters,
            metrics,
            retry: playback_aws::retry::policy(),
            max_future_skew_ms: DEFAULT_MAX_FUTURE_SKEW_MS,
            app_limit: None,
        }
    }

    /// One HTTP request, received now.
    pub async fn handle(&self, req: Request<Bytes>) -> Response<String> {
        self.handle_at(req, Clock::now().now_ms).await
    }

    /// [`Collector::handle`] with the receive time given (tests).
    pub async fn handle_at(&self, req: Request<Bytes>, received_ms: i64) -> Response<String> {
        if req.method() == Method::OPTIONS {
            return with_cors(
                Response::builder().status(StatusCode::NO_CONTENT),
                String::new(),
            );
        }
        if req.uri().path() != PATH {
            return error(StatusCode::NOT_FOUND, &format!("no route; POST {PATH}"));
        }
        if req.method() != Method::POST {
            return error(StatusCode::METHOD_NOT_ALLOWED, &format!("POST {PATH} only"));
        }
        let app_id = match self.authenticate(&req).await {
            Ok(app_id) => app_id,
            Err(refused) => return refused,
        };
        if let Some(limit) = &self.app_limit {
            if let Err(wait) = limit.admit(&app_id) {
                return throttled(&app_id, &limit.describe(), wait);
            }
        }
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
        let decoded = match body::decode(header(header::CONTENT_ENCODING), req.body()) {
            Ok(decoded) => decoded,
            Err(r) => return error(status(r.status), &r.reason),
        };
        let events = body::format_of(header(header::CONTENT_TYPE), &decoded)
            .and_then(|format| body::split(format, &decoded));
        match events {
            Ok(events) => self.ingest(&app_id, &events, received_ms).await,
            Err(r) => error(status(r.status), &r.reason),
        }
    }

    /// The app id of a valid credential, or the 401 (503 if the key store
    /// cannot answer).
    async fn authenticate(&self, req: &Request<Bytes>) -> Result<String, Response<String>> {
        let unauthorized = |why: &str| error(StatusCode::UNAUTHORIZED, why);
        let Some(value) = req.headers().get(header::AUTHORIZATION) else {
            return Err(unauthorized("missing Authorization header"));
        };
        let value = value
            .to_str()
            .map_err(|_| unauthorized("Authorization header is not ASCII"))?;
        let cred = auth::parse_header(value).map_err(unauthorized)?;
        match self.keys.key_hash(cred.app_id, cred.kid).await {
            Ok(Some(stored)) if auth::key_matches(cred.key, &stored) => Ok(cred.app_id.to_string()),
            Ok(Some(_)) => Err(unauthorized("bad key for this app and kid")),
            Ok(None) => Err(unauthorized("unknown app or kid")),
            Err(e) => {
                tracing::error!(error = %Chain(&e), "key store failed");
                Err(unavailable("key store unavailable"))
            }
        }
    }

    /// Validates, enriches, dead-letters, packs and writes one batch.
    async fn ingest(&self, app_id: &str, raw: &[&str], received_ms: i64) -> Response<String> {
        let clock = Clock {
            now_ms: received_ms,
            max_future_skew_ms: self.max_future_skew_ms,
        };
        let mut results = Vec::with_capacity(raw.len());
        let mut accepted: Vec<(PlaybackEvent<'_>, String)> = Vec::with_capacity(raw.len());
        let mut dead = Vec::new();
        let mut skew = Skew::default();
        for (index, line) in raw.iter().enumerate() {
            // The enriched line must still pass the consumers' size rule.
            let verdict = validate(line, clock).and_then(|e| {
                let enriched = enriched_line(&e, app_id, received_ms);
                if enriched.len() > MAX_EVENT_BYTES {
                    let reason = Reason::Oversized {
                        size: enriched.len(),
                        limit: MAX_EVENT_BYTES,
                    };
                    return Err(InvalidEvent::new(reason, Some(e.event_id.to_string())));
                }
                Ok((e, enriched))
            });
            match verdict {
                Ok((e, enriched)) => {
                    skew.add(e.event_time_ms - received_ms);
                    results.push(EventResult {
                        index,
                        event_id: Some(e.event_id.to_string()),
                        status: Status::Accepted,
                        reason: None,
                        detail: None,
                    });
                    accepted.push((e, enriched));
                }
                Err(invalid) => {
                    if let Reason::EventTimeInFuture { event_time_ms, .. } = invalid.reason {
                        skew.add(event_time_ms - received_ms);
                        skew.future += 1;
                    }
                    let source = format!("{CONSUMER}/{app_id}/{received_ms}/{index}");
                    dead.push(DeadLetter::new(CONSUMER, source, line.as_bytes(), &invalid));
                    results.push(EventResult {
                        index,
                        event_id: invalid.event_id,
                        status: Status::Rejected,
                        reason: Some(invalid.reason.code()),
                        detail: Some(invalid.reason.to_string()),
                    });
                }
            }
        }
        let records = pack(&accepted);
        let sre_bodies = sre_bodies(&accepted);
        // The SRE queue is written whatever the stream does, so SRE keeps
        // seeing quality events through a stream outage.
        let (stream, sre, dlq) = tokio::join!(
            self.write_stream(records),
            self.write_sre(sre_bodies),
            self.dead_letter(&dead),
        );
        let failures = [
            ("stream", &stream),
            ("sre_queue", &sre),
            ("dead_letters", &dlq),
        ];
        for (what, r) in failures {
            if let Err(e) = r {
                tracing::error!(port = what, error = %Chain(e), "write failed");
            }
        }
        self.emit(
            app_id,
            accepted.len(),
            dead.len(),
            &skew,
            &stream,
            &sre,
            &dlq,
        );
        let answer = Answer {
            accepted: accepted.len(),
            rejected: dead.len(),
            written: stream.is_ok(),
            error: stream.as_ref().err().map(|e| {
                format!("events not durably written ({e}); retry with the same event_ids")
            }),
            results,
        };
        let body = serde_json::to_string(&answer).expect("serialisable answer");
        let builder = Response::builder().header(header::CONTENT_TYPE, "application/json");
        match stream {
            Ok(()) => with_cors(builder.status(StatusCode::OK), body),
            Err(_) => with_cors(
                builder
                    .status(StatusCode::SERVICE_UNAVAILABLE)
                    .header(header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()),
                body,
            ),
        }
    }

    /// PutRecords; only the failed records are sent again, by the bounded policy.
    async fn write_stream(&self, records: Vec<StreamRecord>) -> PortResult<()> {
        let stream = &self.stream;
        playback_aws::retry::until_processed(
            "kinesis.put_records",
            "records",
            records,
            self.retry,
            |batch: Vec<StreamRecord>| async move {
                let outcomes = stream.put_records(&batch).await?;
                Ok(failed_only(batch, outcomes))
            },
        )
        .await
    }

    /// SendMessageBatch, at most `Q::MAX_ENTRIES` bodies a call.
    async fn write_sre(&self, bodies: Vec<String>) -> PortResult<()> {
        let sre = &self.sre;
        for chunk in bodies.chunks(Q::MAX_ENTRIES) {
            playback_aws::retry::until_processed(
                "sqs.send_message_batch",
                "messages",
                chunk.to_vec(),
                self.retry,
                |batch: Vec<String>| async move {
                    let outcomes = sre.send_batch(&batch).await?;
                    Ok(failed_only(batch, outcomes))
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn dead_letter(&self, dead: &[DeadLetter]) -> PortResult<()> {
        if dead.is_empty() {
            return Ok(());
        }
        self.dead_letters.send(dead).await
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        app_id: &str,
        accepted: usize,
        rejected: usize,
        skew: &Skew,
        stream: &PortResult<()>,
        sre: &PortResult<()>,
        dlq: &PortResult<()>,
    ) {
        let failed = |r: &PortResult<()>| if r.is_err() { 1.0 } else { 0.0 };
        self.metrics.emit(
            &[("Function", CONSUMER), ("App", app_id)],
            &[
                ("EventsAccepted", accepted as f64, "Count"),
                ("EventsRejected", rejected as f64, "Count"),
                ("EventsFromTheFuture", skew.future as f64, "Count"),
                // event_time minus receive time: the most ahead and the most behind.
                ("ClockLeadMaxMs", skew.lead_ms as f64, "Milliseconds"),
                ("ClockLagMaxMs", skew.lag_ms as f64, "Milliseconds"),
                ("StreamWriteFailures", failed(stream), "Count"),
                ("SreQueueWriteFailures", failed(sre), "Count"),
                ("DeadLetterWriteFailures", failed(dlq), "Count"),
            ],
        );
    }
}

/// How far the batch's clocks are from the server's.
#[derive(Debug, Default)]
struct Skew {
    lead_ms: i64,
    lag_ms: i64,
    future: usize,
}

impl Skew {
    fn add(&mut self, ahead_ms: i64) {
        self.lead_ms = self.lead_ms.max(ahead_ms);
        self.lag_ms = self.lag_ms.max(-ahead_ms);
    }
}

fn failed_only<T>(batch: Vec<T>, outcomes: Vec<EntryOutcome>) -> Vec<T> {
    let mut outcomes = outcomes.into_iter();
    batch
        .into_iter()
        .filter(|_| !matches!(outcomes.next(), Some(EntryOutcome::Written)))
        .collect()
}

/// A fast retry policy for tests: the same bounds, millisecond delays.
pub fn fast_retry() -> ExponentialBuilder {
    playback_aws::retry::policy()
        .with_min_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(4))
}

#[cfg(test)]
mod tests;

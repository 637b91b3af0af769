//! Players POSTing to the collector (functions/collector) instead of writing
//! Kinesis and SQS themselves: each record the generator packs for one
//! viewer is one player request, an NDJSON body of that viewer's 1-2 events.
//! The player SDK contract (functions/collector/README.md): a 200 means every
//! accepted event is durable; a 503 or a failed connection is retried with
//! the same body (the same event_ids); any other 4xx is the sender's fault.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use super::{BatchApi, CallError, KinesisEntry, Outcome};
use crate::error::LoadgenError;

/// Requests in flight at once per delivery round: a fleet of players, each
/// waiting up to the collector's linger (1 s on a long-lived host).
pub const MAX_CONCURRENT_REQUESTS: usize = 1024;

/// The demo app's key (crates/local-pipeline serves the collector with it).
pub const DEMO_APP: (&str, &str, &str) = ("demo", "k1", "local-demo-key");

/// What the runs' requests saw, for the report.
#[derive(Debug, Default)]
pub struct CollectorTally {
    pub requests: AtomicU64,
    pub accepted: AtomicU64,
    pub rejected: AtomicU64,
    /// Answers that were not 200 (503s, throttles, 4xx).
    pub refused: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
}

/// Percentiles of the request latency, microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    pub p50_us: u32,
    pub p99_us: u32,
    pub max_us: u32,
}

/// `p50 1.2 ms, p99 3.4 ms, max 5.6 ms`: every report prints it so.
impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |us: u32| f64::from(us) / 1e3;
        write!(
            f,
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms(self.p50_us),
            ms(self.p99_us),
            ms(self.max_us)
        )
    }
}

impl CollectorTally {
    fn record(&self, us: u32) {
        self.latencies_us
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(us);
    }

    pub fn latency(&self) -> Latency {
        let mut v = self
            .latencies_us
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if v.is_empty() {
            return Latency::default();
        }
        v.sort_unstable();
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Latency {
            p50_us: at(0.50),
            p99_us: at(0.99),
            max_us: at(1.0),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    accepted: u64,
    rejected: u64,
}

/// `POST <url>` with the app's key.
#[derive(Clone)]
pub struct CollectorApi {
    client: Client<HttpConnector, Full<Bytes>>,
    url: http::Uri,
    authorization: String,
    pub tally: Arc<CollectorTally>,
}

impl CollectorApi {
    /// `url` is the collector's `/v1/events` (plain http: a local collector).
    pub fn new(url: &str, app: (&str, &str, &str)) -> Result<Self, LoadgenError> {
        let url: http::Uri = url
            .parse()
            .map_err(|e| LoadgenError::Collector(format!("--collector-url {url:?}: {e}")))?;
        if url.scheme_str() != Some("http") {
            return Err(LoadgenError::Collector(format!(
                "--collector-url {url}: only http:// (a collector on this machine) is supported"
            )));
        }
        Ok(CollectorApi {
            client: Client::builder(TokioExecutor::new()).build_http(),
            url,
            authorization: format!("Playback app={}, kid={}, key={}", app.0, app.1, app.2),
            tally: Arc::default(),
        })
    }

    async fn post(&self, body: Bytes) -> Outcome {
        let req = http::Request::post(self.url.clone())
            .header("content-type", "application/x-ndjson")
            .header("authorization", &self.authorization)
            .body(Full::new(body));
        let req = match req {
            Ok(r) => r,
            Err(e) => return Outcome::Rejected(e.to_string()),
        };
        let t0 = Instant::now();
        let resp = match self.client.request(req).await {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("connect: {e}")),
        };
        let status = resp.status();
        let body = match resp.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return Outcome::Failed(format!("read: {e}")),
        };
        let t = &self.tally;
        t.record(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
        t.requests.fetch_add(1, Ordering::Relaxed);
        if status == http::StatusCode::OK {
            if let Ok(a) = serde_json::from_slice::<Answer>(&body) {
                t.accepted.fetch_add(a.accepted, Ordering::Relaxed);
                t.rejected.fetch_add(a.rejected, Ordering::Relaxed);
            }
            return Outcome::Ok;
        }
        t.refused.fetch_add(1, Ordering::Relaxed);
        let text = String::from_utf8_lossy(&body).into_owned();
        match status.as_u16() {
            429 => Outcome::Throttled,
            s if s >= 500 => Outcome::Failed(format!("HTTP {s}: {text}")),
            s => Outcome::Rejected(format!("HTTP {s}: {text}")),
        }
    }
}

impl BatchApi for CollectorApi {
    type Entry = KinesisEntry;
    const MAX_ENTRIES: usize = MAX_CONCURRENT_REQUESTS;
    const MAX_BYTES: usize = usize::MAX;

    fn size(entry: &KinesisEntry) -> usize {
        entry.data.len()
    }

    /// One request per entry, all at once.
    async fn send(&self, entries: &[KinesisEntry]) -> Result<Vec<Outcome>, CallError> {
        let posts = entries
            .iter()
            .map(|e| self.post(Bytes::from(e.data.clone())));
        Ok(futures::future::join_all(posts).await)
    }

    fn error(&self, message: String) -> LoadgenError {
        LoadgenError::Collector(format!("{}: {message}", self.url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_http_url_is_taken() {
        assert!(CollectorApi::new("http://127.0.0.1:8080/v1/events", DEMO_APP).is_ok());
        let e = CollectorApi::new("https://edge.example.com/v1/events", DEMO_APP).err();
        assert!(e.is_some_and(|e| e.to_string().contains("only http://")));
        assert!(CollectorApi::new("not a url", DEMO_APP).is_err());
    }

    #[test]
    fn latency_percentiles_come_from_the_recorded_requests() {
        let t = CollectorTally::default();
        assert_eq!(t.latency(), Latency::default());
        for us in 1..=100 {
            t.record(us);
        }
        let l = t.latency();
        assert_eq!((l.p50_us, l.p99_us, l.max_us), (51, 99, 100));
    }
}

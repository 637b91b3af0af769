//! Outcome tests of the collector on its in-memory twins: what reaches the
//! stream, the SRE queue and the DLQ, and what the player is told.

use std::io::Write;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use playback_aws::emf::Metrics;
use playback_domain::memory::MemoryDeadLetters;
use playback_domain::{decode_record, Clock};
use serde_json::Value;

use crate::auth::header_value;
use crate::memory::{MemoryKeyStore, MemorySreQueue, MemoryStream};
use crate::{fast_retry, Collector, PATH};

pub(super) type Twin = Collector<MemoryKeyStore, MemoryStream, MemorySreQueue, MemoryDeadLetters>;

/// 2026-11-23T10:00:05Z, five seconds after the events' time.
pub(super) const NOW: i64 = 1_795_428_005_000;

pub(super) fn collector() -> Twin {
    let keys = MemoryKeyStore::default()
        .with_key("tv", "k1", "old-key")
        .with_key("tv", "k2", "new-key");
    let mut c = Collector::new(
        keys,
        MemoryStream::default(),
        MemorySreQueue::default(),
        MemoryDeadLetters::default(),
        Metrics::memory(),
    );
    c.retry = fast_retry();
    c
}

pub(super) fn event(id: &str, kind: &str, viewer: &str) -> String {
    format!(
        r#"{{"event_id":"{id}","event_type":"{kind}","event_time":"2026-11-23T10:00:00.000Z","viewer_id":"{viewer}","session_id":"s","title_id":"t","region":"eu","device_platform":"tv","app_version":"1.0","watched_ms":10}}"#
    )
}

pub(super) fn heartbeats(n: usize) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| event(&format!("e{i}"), "heartbeat", "v1"))
        .collect();
    format!("[{}]", events.join(","))
}

pub(super) fn request(
    auth: Option<&str>,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Request<Bytes> {
    let mut b = Request::post(PATH).header("content-type", content_type);
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(body.into()).expect("valid request")
}

pub(super) fn signed(body: impl Into<Bytes>) -> Request<Bytes> {
    let auth = header_value("tv", "k2", "new-key");
    request(Some(&auth), "application/json", body)
}

pub(super) fn json(r: &Response<String>) -> Value {
    serde_json::from_str(r.body()).expect("JSON body")
}

/// Every event_id in the stream, in order, each record decoded by the
/// consumers' own code (so the enriched lines still pass the contract).
pub(super) fn stream_ids(c: &Twin) -> Vec<String> {
    let mut ids = Vec::new();
    for r in c.stream.written() {
        for d in decode_record(&r.data, Clock::at(NOW)) {
            let e = d.result.expect("the stream holds only valid events");
            assert_eq!(r.partition_key, e.viewer_id, "partition key = viewer_id");
            ids.push(e.event_id.to_string());
        }
    }
    ids
}

pub(super) fn nothing_written(c: &Twin) {
    assert_eq!(c.stream.call_count(), 0);
    assert!(c.sre.sent().is_empty());
    assert!(c.dead_letters.letters.lock().expect("lock").is_empty());
}

pub(super) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("in memory");
    enc.finish().expect("in memory")
}

mod adapters;
#[cfg(feature = "server")]
mod linger;
mod requests;
#[cfg(feature = "server")]
mod server;
mod writes;

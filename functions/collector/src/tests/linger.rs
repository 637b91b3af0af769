//! Packing across viewers and requests (`linger`): fewer, fuller records,
//! a viewer's events under one key, each request told its own verdict.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::linger::{
    bucket_key, Linger, LingerConfig, LingeringSreQueue, LingeringStream, ToSreQueue, ToStream,
};

type Lingering = Collector<
    MemoryKeyStore,
    LingeringStream<MemoryStream>,
    LingeringSreQueue<MemorySreQueue>,
    MemoryDeadLetters,
>;

const CFG: LingerConfig = LingerConfig {
    linger: Duration::from_millis(300),
    keys: 4,
};

fn lingering() -> (Arc<Lingering>, Arc<MemoryStream>, Arc<MemorySreQueue>) {
    let stream = Arc::new(MemoryStream::default());
    let sre = Arc::new(MemorySreQueue::default());
    let keys = MemoryKeyStore::default().with_key("tv", "k2", "new-key");
    let mut c = Collector::new(
        keys,
        Linger::spawn(ToStream(stream.clone()), CFG),
        Linger::spawn(ToSreQueue(sre.clone()), CFG),
        MemoryDeadLetters::default(),
        Metrics::memory(),
    );
    c.retry = fast_retry();
    (Arc::new(c), stream, sre)
}

/// One player's request: `n` heartbeats of `viewer`.
fn player(viewer: &str, n: usize) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| event(&format!("{viewer}-e{i}"), "heartbeat", viewer))
        .collect();
    format!("[{}]", events.join(","))
}

/// Sends one request per viewer at once; every answer's status.
async fn concurrently(c: &Arc<Lingering>, viewers: &[String], n: usize) -> Vec<StatusCode> {
    let tasks: Vec<_> = viewers
        .iter()
        .map(|v| {
            let (c, body) = (c.clone(), player(v, n));
            tokio::spawn(async move { c.handle_at(signed(body), NOW).await.status() })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("joined"));
    }
    out
}

/// viewer -> its event ids in stream order, checking each viewer has one key.
fn by_viewer(stream: &MemoryStream) -> BTreeMap<String, Vec<String>> {
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in stream.written() {
        for d in decode_record(&r.data, Clock::at(NOW)) {
            let e = d.result.expect("the stream holds only valid events");
            assert_eq!(r.partition_key, bucket_key(&e.viewer_id, CFG.keys));
            ids.entry(e.viewer_id.to_string())
                .or_default()
                .push(e.event_id.to_string());
        }
    }
    ids
}

#[tokio::test]
async fn concurrent_requests_share_records_and_one_put_records_call() {
    let (c, stream, sre) = lingering();
    let viewers: Vec<String> = (0..20).map(|v| format!("v{v}")).collect();
    let statuses = concurrently(&c, &viewers, 2).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(
        stream.call_count(),
        1,
        "one flush for the lingering requests"
    );
    assert_eq!(
        sre.calls.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "one SendMessageBatch"
    );
    let sre_lines: usize = sre.sent().iter().map(|b| b.lines().count()).sum();
    assert_eq!(
        (sre.sent().len(), sre_lines),
        (1, 40),
        "40 heartbeats in one body"
    );
    let records = stream.written();
    assert!(
        records.len() <= CFG.keys as usize,
        "{} records",
        records.len()
    );
    let ids = by_viewer(&stream);
    assert_eq!(ids.len(), 20);
    for (v, got) in ids {
        assert_eq!(
            got,
            [format!("{v}-e0"), format!("{v}-e1")],
            "in order, once"
        );
    }
}

#[tokio::test]
async fn a_full_record_starts_another_under_the_same_key() {
    let (c, stream, _) = lingering();
    // ~8 KB of one viewer's events: more than one 5 KB record.
    let statuses = concurrently(&c, &["v1".to_string()], 20).await;
    assert_eq!(statuses, [StatusCode::OK]);
    let records = stream.written();
    assert!(records.len() >= 2);
    assert!(records
        .iter()
        .all(|r| r.data.len() <= playback_domain::event::MAX_PACK_BYTES));
    let want: Vec<String> = (0..20).map(|i| format!("v1-e{i}")).collect();
    assert_eq!(by_viewer(&stream)["v1"], want);
}

#[tokio::test]
async fn a_failed_merged_record_is_retried_for_its_requests_only() {
    let (c, stream, _) = lingering();
    stream.fail_next(vec![0]);
    let viewers: Vec<String> = (0..12).map(|v| format!("v{v}")).collect();
    let statuses = concurrently(&c, &viewers, 1).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(
        stream.call_count(),
        2,
        "the flush, then the retry of one record"
    );
    let ids = by_viewer(&stream);
    assert_eq!(ids.len(), 12);
    assert!(
        ids.values().all(|got| got.len() == 1),
        "each event once: {ids:?}"
    );
}

#[tokio::test]
async fn a_stream_left_failing_is_a_503_for_every_waiting_request() {
    let (c, stream, _) = lingering();
    stream
        .down
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let viewers: Vec<String> = (0..3).map(|v| format!("v{v}")).collect();
    let statuses = concurrently(&c, &viewers, 1).await;
    assert_eq!(statuses, [StatusCode::SERVICE_UNAVAILABLE; 3]);
    assert!(stream.written().is_empty());
}

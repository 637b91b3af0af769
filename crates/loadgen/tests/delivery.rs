//! Delivery without a network: the retry loop resends only what failed, the
//! background producer batches within the call limits, buffers through an
//! outage and delivers everything once the stream is back, gives up at the
//! record TTL, and stops on a failure retrying cannot help.
// Test code: a failed unwrap is the test failing, with its location.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loadgen::sinks::{
    BatchApi, CallError, Deliverer, KinesisEntry, Outage, Outcome, Producer, ProducerOptions,
    RetryPolicy, SrePacker,
};
use loadgen::{KinesisOutage, LoadgenError};

/// Fails each partition key's first `failures[pk]` attempts, fails whole calls
/// while `down`; logs every call that got through.
#[derive(Default, Clone)]
struct FlakyApi {
    failures: Arc<Mutex<HashMap<String, u32>>>,
    calls: Arc<Mutex<Vec<Vec<String>>>>,
    call_errors: Arc<Mutex<u32>>,
    down: Arc<AtomicBool>,
    fatal: Arc<AtomicBool>,
}

impl BatchApi for FlakyApi {
    type Entry = KinesisEntry;
    const MAX_ENTRIES: usize = 500;
    const MAX_BYTES: usize = 5 * 1024 * 1024;

    fn size(e: &KinesisEntry) -> usize {
        e.size()
    }

    async fn send(&self, entries: &[KinesisEntry]) -> Result<Vec<Outcome>, CallError> {
        let fail = |message: &str, retryable| {
            Err(CallError {
                message: message.into(),
                retryable,
                throttled: false,
            })
        };
        if self.fatal.load(Ordering::SeqCst) {
            return fail("ResourceNotFoundException: no such stream", false);
        }
        if self.down.load(Ordering::SeqCst) {
            return fail("dispatch failure: connection refused", true);
        }
        {
            let mut errs = self.call_errors.lock().unwrap();
            if *errs > 0 {
                *errs -= 1;
                return fail("connection reset", true);
            }
        }
        self.calls
            .lock()
            .unwrap()
            .push(entries.iter().map(|e| e.partition_key.clone()).collect());
        let mut failures = self.failures.lock().unwrap();
        Ok(entries
            .iter()
            .map(|e| match failures.get_mut(&e.partition_key) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    if e.partition_key.starts_with('t') {
                        Outcome::Throttled
                    } else {
                        Outcome::Failed("InternalFailure".into())
                    }
                }
                _ => Outcome::Ok,
            })
            .collect())
    }

    fn error(&self, message: String) -> LoadgenError {
        LoadgenError::Kinesis(message)
    }
}

fn fast(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
    }
}

fn opts(max_attempts: u32) -> ProducerOptions {
    ProducerOptions {
        policy: fast(max_attempts),
        linger: Duration::from_millis(5),
        record_ttl: Duration::from_secs(60),
    }
}

fn entry(pk: &str) -> KinesisEntry {
    sized(pk, 2)
}

fn sized(pk: &str, bytes: usize) -> KinesisEntry {
    KinesisEntry {
        partition_key: pk.into(),
        data: vec![b'x'; bytes],
    }
}

#[tokio::test]
async fn partial_failures_retry_only_the_failed_entries() {
    let api = FlakyApi::default();
    api.failures
        .lock()
        .unwrap()
        .extend([("t1".to_string(), 2), ("x2".to_string(), 1)]);
    let mut d = Deliverer::new(api, fast(5));
    let left = d
        .deliver(["a", "t1", "b", "x2"].map(entry).to_vec())
        .await
        .unwrap();
    assert!(left.is_empty());
    let calls = d.api.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        vec![vec!["a", "t1", "b", "x2"], vec!["t1", "x2"], vec!["t1"]]
    );
    let s = &d.stats;
    assert_eq!(
        (s.calls, s.delivered, s.retried_entries, s.throttled_entries),
        (3, 4, 3, 2)
    );
    assert_eq!(s.undelivered, 0);
}

#[tokio::test]
async fn a_round_is_bounded_and_hands_back_what_still_fails() {
    let api = FlakyApi::default();
    api.failures.lock().unwrap().insert("x".into(), 100);
    *api.call_errors.lock().unwrap() = 1;
    let mut d = Deliverer::new(api, fast(3));
    let left = d.deliver(vec![entry("a"), entry("x")]).await.unwrap();
    assert_eq!(left, vec![entry("x")]);
    let s = &d.stats;
    assert_eq!((s.failed_calls, s.delivered, s.calls), (1, 1, 3));
    assert_eq!(
        (s.exhausted_rounds, s.undelivered),
        (1, 0),
        "the caller decides"
    );

    let api = FlakyApi::default();
    api.fatal.store(true, Ordering::SeqCst);
    let mut d = Deliverer::new(api, fast(5));
    let err = d.deliver(vec![entry("a")]).await.unwrap_err().to_string();
    assert!(
        err.contains("no such stream") && err.contains("1/5"),
        "{err}"
    );
    assert_eq!((d.stats.calls, d.stats.undelivered), (1, 1));
}

#[tokio::test]
async fn the_producer_batches_within_the_call_limits() {
    let api = FlakyApi::default();
    let p = Producer::spawn(api.clone(), opts(3));
    for i in 0..1_200 {
        p.send(sized(&format!("v{i}"), 100));
    }
    for i in 0..12 {
        p.send(sized(&format!("m{i}"), 1_000_000));
    }
    let s = p.finish().await.unwrap();
    assert_eq!((s.delivered, s.undelivered), (1_212, 0));
    let calls = api.calls.lock().unwrap().clone();
    assert!(calls.iter().all(|c| c.len() <= 500), "500 records per call");
    for c in &calls {
        let bytes: usize = c
            .iter()
            .map(|pk| pk.len() + if pk.starts_with('m') { 1_000_000 } else { 100 })
            .sum();
        assert!(bytes <= 5 * 1024 * 1024, "{bytes} bytes in one call");
    }
    let sent: Vec<&String> = calls.iter().flatten().collect();
    assert_eq!(sent.len(), 1_212, "each record once, in order");
    assert!(sent.windows(2).all(|w| w[0] != w[1]));
    assert!(
        calls.len() <= 7,
        "batches are filled: {} calls",
        calls.len()
    );
}

#[tokio::test]
async fn the_producer_buffers_through_an_outage_and_loses_nothing() {
    let api = FlakyApi::default();
    api.down.store(true, Ordering::SeqCst);
    let p = Producer::spawn(api.clone(), opts(2));
    for i in 0..300 {
        p.send(entry(&format!("v{i:03}")));
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(p.backlog(), 300, "nothing got through while down");
    assert!(api.calls.lock().unwrap().is_empty());
    assert!(!p.failed(), "an outage is not a reason to stop");
    api.down.store(false, Ordering::SeqCst);
    let s = p.finish().await.unwrap();
    assert_eq!((s.delivered, s.undelivered, s.expired), (300, 0, 0));
    assert!(s.exhausted_rounds >= 1 && s.failed_calls >= 2, "{s:?}");
    assert_eq!(s.max_backlog, 300);
    assert!(s.max_wait_ms >= 50, "{s:?}");
    let sent: Vec<String> = api.calls.lock().unwrap().concat();
    let expected: Vec<String> = (0..300).map(|i| format!("v{i:03}")).collect();
    assert_eq!(sent, expected, "each record once, in the order sent");
}

#[tokio::test]
async fn records_past_their_ttl_are_given_up_and_counted() {
    let api = FlakyApi::default();
    api.down.store(true, Ordering::SeqCst);
    let p = Producer::spawn(
        api,
        ProducerOptions {
            record_ttl: Duration::from_millis(30),
            ..opts(2)
        },
    );
    for i in 0..10 {
        p.send(entry(&format!("v{i}")));
    }
    let s = p.finish().await.unwrap();
    assert_eq!((s.delivered, s.undelivered, s.expired), (0, 10, 10));
}

#[tokio::test]
async fn a_failure_retrying_cannot_help_stops_the_producer() {
    let api = FlakyApi::default();
    api.fatal.store(true, Ordering::SeqCst);
    let p = Producer::spawn(api, opts(5));
    p.send(entry("a"));
    for _ in 0..100 {
        if p.failed() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(p.failed());
    p.send(entry("b"));
    let err = p.finish().await.unwrap_err().to_string();
    assert!(err.contains("no such stream"), "{err}");
}

#[tokio::test]
async fn the_outage_window_routes_calls_to_the_refusing_side() {
    let up = FlakyApi::default();
    let down = FlakyApi::default();
    down.down.store(true, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let outage = Outage {
        up: up.clone(),
        down,
        window: "0.05:0.1".parse::<KinesisOutage>().unwrap(),
        started,
        refused_calls: Default::default(),
    };
    assert!(outage.send(&[entry("before")]).await.is_ok());
    tokio::time::sleep(Duration::from_millis(60)).await;
    let err = outage.send(&[entry("during")]).await.unwrap_err();
    assert!(err.retryable, "an outage is retried");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(outage.send(&[entry("after")]).await.is_ok());
    assert_eq!(outage.refused_calls.load(Ordering::SeqCst), 1);
    let got: Vec<String> = up.calls.lock().unwrap().concat();
    assert_eq!(got, ["before", "after"]);
}

#[test]
fn the_packer_keeps_bodies_within_a_billing_chunk_and_the_event_cap() {
    let line = vec![b'x'; 300];
    let mut p = SrePacker::default();
    let mut bodies: Vec<String> = (0..1_000).filter_map(|_| p.push(&line)).collect();
    bodies.extend(p.take());
    assert!(p.take().is_none());
    assert!(bodies.iter().all(|b| b.len() <= 64 * 1024));
    let lines: usize = bodies.iter().map(|b| b.split('\n').count()).sum();
    assert_eq!(lines, 1_000);
    assert_eq!(bodies[0].split('\n').count(), 64 * 1024 / 301);

    let mut p = SrePacker::default();
    let tiny: Vec<String> = (0..1_200).filter_map(|_| p.push(b"{}")).collect();
    assert_eq!(tiny.len(), 2);
    assert!(
        tiny.iter().all(|b| b.split('\n').count() == 500),
        "the record cap"
    );
}

#[test]
fn backoff_grows_is_capped_and_bounded() {
    let p = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
    };
    let d: Vec<Duration> = p.delays().collect();
    assert_eq!(d.len(), 9, "a delay before each retry");
    // Each delay is its exponential step plus a jitter of up to itself.
    let ms = |v: u64| Duration::from_millis(v);
    assert!(d[0] + ms(1) >= ms(100) && d[0] <= ms(201), "{:?}", d[0]);
    assert!(d[2] + ms(1) >= ms(400) && d[2] <= ms(801), "{:?}", d[2]);
    assert!(d.iter().all(|x| *x <= ms(2_001)), "{d:?}");
}

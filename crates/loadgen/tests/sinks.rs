//! Sinks without a network: files round-trip, the Lambda event parses as
//! aws_lambda_events' types, and the delivery loop retries only what failed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisTimeWindowEvent};
use loadgen::sinks::file::{read_records_file, sequence_number};
use loadgen::sinks::kinesis::KinesisEntry;
use loadgen::sinks::{
    BatchApi, CallError, Deliverer, FileSink, KinesisEventFile, KinesisSink, Outcome, RetryPolicy,
    WindowMode,
};
use loadgen::{generate, LoadgenError, Record, ScenarioConfig};
use playback_domain::{decode_record, Clock, StreamPosition};

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("loadgen-{}-{name}", std::process::id()))
}

fn small() -> loadgen::Generated {
    generate(&ScenarioConfig {
        viewers: 100,
        titles: 10,
        rate: 20.0,
        duration_s: Some(60.0),
        bad_firmware: Some("*:0.05".parse().unwrap()),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn file_sink_round_trips_records() {
    let g = small();
    let path = tmp("records.jsonl");
    let mut sink = FileSink::create(&path).unwrap();
    for r in &g.records {
        sink.write(r).unwrap();
    }
    sink.finish().unwrap();
    let back = read_records_file(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let expected: Vec<_> = g
        .records
        .iter()
        .map(|r| (r.partition_key.clone(), r.data.clone()))
        .collect();
    assert_eq!(back, expected);
}

#[test]
fn kinesis_event_file_is_a_lambda_kinesis_event() {
    let g = generate(&ScenarioConfig {
        events: Some(10_000),
        duration_s: None,
        pack_bytes: 0,
        bad_firmware: Some("*:0.02".parse().unwrap()),
        ..Default::default()
    })
    .unwrap();
    let path = tmp("event.json");
    let mut f = KinesisEventFile::create(&path, "playback-events", "us-east-1", None).unwrap();
    for r in &g.records {
        f.write(r).unwrap();
    }
    assert_eq!(f.finish().unwrap(), 10_000);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let ev: KinesisEvent = serde_json::from_str(&text).unwrap();
    assert_eq!(ev.records.len(), 10_000);
    let clock = Clock::at(g.manifest.summary.last_emit_ms.unwrap() + 60_000);
    let mut malformed = 0;
    let mut last: Option<StreamPosition> = None;
    for (rec, orig) in ev.records.iter().zip(&g.records) {
        assert_eq!(rec.kinesis.data.0, orig.data);
        assert_eq!(rec.kinesis.partition_key, orig.partition_key);
        let seq = &rec.kinesis.sequence_number;
        assert_eq!(
            rec.event_id.as_deref(),
            Some(format!("shardId-000000000000:{seq}").as_str())
        );
        assert_eq!(
            rec.kinesis.approximate_arrival_timestamp.timestamp_millis(),
            orig.emit_ms / 1_000 * 1_000
        );
        let pos = StreamPosition::new(seq, 0).unwrap();
        assert!(last.as_ref().is_none_or(|l| *l < pos));
        last = Some(pos);
        malformed += decode_record(&rec.kinesis.data.0, clock)
            .iter()
            .filter(|d| d.result.is_err())
            .count();
    }
    assert!((199..=201).contains(&malformed), "{malformed}");
    assert_eq!(sequence_number(0).len(), 56);
}

#[test]
fn kinesis_event_file_can_carry_a_tumbling_window() {
    let g = small();
    let path = tmp("window.json");
    let mut f = KinesisEventFile::create(&path, "s", "eu-west-1", Some(WindowMode::Final))
        .unwrap()
        .with_window_ms(20_000);
    for r in g.records.iter().take(50) {
        f.write(r).unwrap();
    }
    f.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let ev: KinesisTimeWindowEvent = serde_json::from_str(&text).unwrap();
    let props = &ev.time_window_properties;
    assert!(props.is_final_invoke_for_window);
    assert_eq!((props.window.end - props.window.start).num_seconds(), 20);
    assert_eq!(ev.kinesis_event.records.len(), 50);
    assert_eq!(
        props.event_source_arn.as_deref(),
        Some("arn:aws:kinesis:eu-west-1:123456789012:stream/s")
    );
}

/// Fails each partition key's first `failures[pk]` attempts; logs every call.
#[derive(Default)]
struct FlakyApi {
    failures: Mutex<HashMap<String, u32>>,
    calls: Mutex<Vec<Vec<String>>>,
    call_errors: Mutex<u32>,
}

impl BatchApi for FlakyApi {
    type Entry = KinesisEntry;

    async fn send(&self, entries: &[KinesisEntry]) -> Result<Vec<Outcome>, CallError> {
        {
            let mut errs = self.call_errors.lock().unwrap();
            if *errs > 0 {
                *errs -= 1;
                return Err(CallError {
                    message: "connection reset".into(),
                    retryable: true,
                    throttled: false,
                });
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

fn entry(pk: &str) -> KinesisEntry {
    KinesisEntry {
        partition_key: pk.into(),
        data: b"{}".to_vec(),
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
        (
            s.calls,
            s.delivered,
            s.retried_entries,
            s.throttled_entries,
            s.undelivered
        ),
        (3, 4, 3, 2, 0)
    );
}

#[tokio::test]
async fn attempts_are_bounded_and_call_errors_retried() {
    let api = FlakyApi::default();
    api.failures.lock().unwrap().insert("x".into(), 100);
    *api.call_errors.lock().unwrap() = 1;
    let mut d = Deliverer::new(api, fast(3));
    let left = d.deliver(vec![entry("a"), entry("x")]).await.unwrap();
    assert_eq!(left, vec![entry("x")]);
    assert_eq!(
        (d.stats.failed_calls, d.stats.delivered, d.stats.undelivered),
        (1, 1, 1)
    );

    let api = FlakyApi::default();
    *api.call_errors.lock().unwrap() = 5;
    let mut d = Deliverer::new(api, fast(2));
    let err = d.deliver(vec![entry("a")]).await.unwrap_err().to_string();
    assert!(
        err.contains("connection reset") && err.contains("2/2"),
        "{err}"
    );
}

#[tokio::test]
async fn kinesis_sink_batches_by_count_and_bytes() {
    let mut sink = KinesisSink::new(FlakyApi::default(), fast(3));
    let rec = |i: usize, size: usize| Record {
        index: i as u64,
        partition_key: format!("v{i}"),
        data: vec![b'x'; size],
        emit_ms: 0,
        duplicate_of: None,
    };
    for i in 0..1_200 {
        sink.push(&rec(i, 100)).await.unwrap();
    }
    sink.flush().await.unwrap();
    for i in 0..12 {
        sink.push(&rec(i, 1_000_000)).await.unwrap();
    }
    sink.flush().await.unwrap();
    assert_eq!(sink.stats().delivered, 1_212);
    assert_eq!(sink.stats().calls, 6);
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

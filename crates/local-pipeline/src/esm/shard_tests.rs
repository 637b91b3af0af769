//! The shard state machine against a fake function and destination: retries,
//! bisection, on-failure records and tumbling-window state, without AWS.

use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::function::{from_fn, BoxFuture, FunctionError};

#[derive(Default)]
struct Captured(Mutex<Vec<Value>>);

impl Destination for Captured {
    fn send(&self, record: Value) -> BoxFuture<'_, crate::Result<()>> {
        self.0.lock().unwrap().push(record);
        Box::pin(async { Ok(()) })
    }
}

// Every test runs with moto's small integers, AWS's 56-digit numbers and the
// API's 129-digit maximum: record n's sequence number is PREFIX then n.
const PREFIXES: [&str; 3] = [
    "",
    "49590338271490256608559692538361571095921575989136",
    "123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123",
];

thread_local! {
    static PREFIX: std::cell::Cell<&'static str> = const { std::cell::Cell::new("") };
}

fn seq(n: u64) -> String {
    match PREFIX.get() {
        "" => n.to_string(),
        p => format!("{p}{n:06}"),
    }
}

fn num(seq: &str) -> u64 {
    let digits = if PREFIX.get().is_empty() { 0 } else { 6 };
    seq[seq.len() - digits.min(seq.len())..]
        .parse()
        .or_else(|_| seq.parse())
        .unwrap()
}

/// Runs a test body once per sequence-number width.
async fn each_width<F: std::future::Future<Output = ()>>(body: impl Fn() -> F) {
    for p in PREFIXES {
        PREFIX.set(p);
        assert!(matches!(seq(1).len(), 1 | 56 | 129));
        body().await;
    }
}

fn rec(n: u64, arrival_ms: i64) -> StreamRecord {
    StreamRecord {
        shard_id: "shardId-000000000000".into(),
        sequence_number: seq(n),
        partition_key: "k".into(),
        arrival_ms,
        data: n.to_string().into_bytes(),
    }
}

fn mapping(function: Arc<dyn Function>, dest: Arc<Captured>) -> StreamMapping {
    StreamMapping {
        consumer: "c".into(),
        source: KinesisSource {
            region: "us-east-1".into(),
            event_source_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            invoke_identity_arn: "arn:aws:iam::123456789012:role/r".into(),
        },
        stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
        function,
        on_failure: Some(dest),
        checkpoints: Checkpoints::default(),
        metrics: Arc::new(ConsumerMetrics::default()),
        batch_size: 8,
        batching_window: Duration::ZERO,
        tumbling_window: None,
        max_retry_attempts: Some(2),
        max_record_age: None,
        bisect_on_error: false,
        retry_backoff: Duration::ZERO,
        window_grace: Duration::ZERO,
    }
}

fn seqs(event: &Value) -> Vec<u64> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| num(r["kinesis"]["sequenceNumber"].as_str().unwrap()))
        .collect()
}

async fn run(shard: &mut ShardState, m: &StreamMapping, tick: Tick) {
    for _ in 0..200 {
        if !shard.step(m, tick).await {
            return;
        }
    }
    panic!("no quiescence");
}

const TICK: Tick = Tick {
    caught_up: true,
    closing: false,
    may_open: true,
};

#[tokio::test]
async fn a_reported_failure_is_retried_then_discarded_and_the_shard_moves_on() {
    each_width(a_reported_failure_is_retried_then_discarded_and_the_shard_moves_on_once).await;
}

async fn a_reported_failure_is_retried_then_discarded_and_the_shard_moves_on_once() {
    let seen = Arc::new(Mutex::new(Vec::<Vec<u64>>::new()));
    let s = seen.clone();
    let f = from_fn(move |event: Value| {
        let batch = seqs(&event);
        s.lock().unwrap().push(batch.clone());
        async move {
            let failures: Vec<Value> = batch
                .iter()
                .filter(|&&n| n == 3)
                .map(|&n| json!({"itemIdentifier": seq(n)}))
                .collect();
            Ok(json!({ "batchItemFailures": failures }))
        }
    });
    let dest = Arc::new(Captured::default());
    let m = mapping(f, dest.clone());
    let mut shard = ShardState::new("shardId-000000000000");
    shard.push((1..=5).map(|n| rec(n, 1_000)).collect());
    run(&mut shard, &m, TICK).await;
    // First try, then two retries from record 3; then the rest is discarded.
    assert_eq!(
        *seen.lock().unwrap(),
        vec![vec![1, 2, 3, 4, 5], vec![3, 4, 5], vec![3, 4, 5]]
    );
    let sent = dest.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(sent[0]["KinesisBatchInfo"]["startSequenceNumber"], seq(3));
    assert_eq!(sent[0]["KinesisBatchInfo"]["batchSize"], 3);
    assert_eq!(m.checkpoints.get("c", "shardId-000000000000"), Some(seq(5)));

    shard.push(vec![rec(6, 1_000)]);
    run(&mut shard, &m, TICK).await;
    assert_eq!(seen.lock().unwrap().last().unwrap(), &vec![6]);
    assert_eq!(m.checkpoints.get("c", "shardId-000000000000"), Some(seq(6)));
}

#[tokio::test]
async fn bisection_isolates_a_record_that_makes_the_function_fail() {
    each_width(bisection_isolates_a_record_that_makes_the_function_fail_once).await;
}

async fn bisection_isolates_a_record_that_makes_the_function_fail_once() {
    let ok = Arc::new(Mutex::new(Vec::<u64>::new()));
    let o = ok.clone();
    let f = from_fn(move |event: Value| {
        let batch = seqs(&event);
        let o = o.clone();
        async move {
            if batch.contains(&6) {
                return Err(FunctionError::new("Boom", "record 6"));
            }
            o.lock().unwrap().extend(batch);
            Ok(Value::Null)
        }
    });
    let dest = Arc::new(Captured::default());
    let mut m = mapping(f, dest.clone());
    m.bisect_on_error = true;
    let mut shard = ShardState::new("shardId-000000000000");
    shard.push((1..=8).map(|n| rec(n, 1_000)).collect());
    run(&mut shard, &m, TICK).await;
    assert_eq!(*ok.lock().unwrap(), vec![1, 2, 3, 4, 5, 7, 8]);
    let sent = dest.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["KinesisBatchInfo"]["startSequenceNumber"], seq(6));
    assert_eq!(sent[0]["KinesisBatchInfo"]["batchSize"], 1);
    assert_eq!(sent[0]["responseContext"]["functionError"], "Unhandled");
    assert_eq!(m.checkpoints.get("c", "shardId-000000000000"), Some(seq(8)));
}

#[tokio::test]
async fn tumbling_windows_carry_state_and_finish_once() {
    each_width(tumbling_windows_carry_state_and_finish_once_once).await;
}

async fn tumbling_windows_carry_state_and_finish_once_once() {
    let finals = Arc::new(Mutex::new(Vec::<(i64, u64, bool)>::new()));
    let fin = finals.clone();
    let f = from_fn(move |event: Value| {
        let fin = fin.clone();
        async move {
            let n = event["Records"].as_array().unwrap().len() as u64;
            let before: u64 = event["state"]["n"].as_str().unwrap_or("0").parse().unwrap();
            let start =
                chrono::DateTime::parse_from_rfc3339(event["window"]["start"].as_str().unwrap())
                    .unwrap()
                    .timestamp_millis();
            if event["isFinalInvokeForWindow"].as_bool().unwrap() {
                let early = event["isWindowTerminatedEarly"].as_bool().unwrap();
                fin.lock().unwrap().push((start, before + n, early));
                return Ok(json!({ "state": {} }));
            }
            Ok(json!({ "state": { "n": (before + n).to_string() } }))
        }
    });
    let mut m = mapping(f, Arc::new(Captured::default()));
    m.batch_size = 2;
    m.tumbling_window = Some(Duration::from_secs(10));
    let mut shard = ShardState::new("shardId-000000000000");
    // Five records in [10 s, 20 s), two in [20 s, 30 s).
    let arrivals = [10_000, 11_000, 12_000, 13_000, 19_999, 20_000, 25_000];
    shard.push(
        arrivals
            .iter()
            .enumerate()
            .map(|(i, &a)| rec(i as u64 + 1, a))
            .collect(),
    );
    let live = Tick {
        caught_up: false,
        ..TICK
    };
    run(&mut shard, &m, live).await;
    assert_eq!(*finals.lock().unwrap(), vec![(10_000, 5, false)]);
    assert!(shard.has_open_window());
    // Shutdown: the second window gets its final invocation with its records.
    let closing = Tick {
        caught_up: true,
        closing: true,
        may_open: false,
    };
    run(&mut shard, &m, closing).await;
    let finals = finals.lock().unwrap();
    assert_eq!(finals.len(), 2);
    assert_eq!((finals[1].0, finals[1].1), (20_000, 2));
    assert!(!shard.has_open_window());
    assert_eq!(m.metrics.snapshot().windows_flushed, 2);
}

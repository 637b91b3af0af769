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

type Twin = Collector<MemoryKeyStore, MemoryStream, MemorySreQueue, MemoryDeadLetters>;

/// 2026-11-23T10:00:05Z, five seconds after the events' time.
const NOW: i64 = 1_795_428_005_000;

fn collector() -> Twin {
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

fn event(id: &str, kind: &str, viewer: &str) -> String {
    format!(
        r#"{{"event_id":"{id}","event_type":"{kind}","event_time":"2026-11-23T10:00:00.000Z","viewer_id":"{viewer}","session_id":"s","title_id":"t","region":"eu","device_platform":"tv","app_version":"1.0","watched_ms":10}}"#
    )
}

fn heartbeats(n: usize) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| event(&format!("e{i}"), "heartbeat", "v1"))
        .collect();
    format!("[{}]", events.join(","))
}

fn request(auth: Option<&str>, content_type: &str, body: impl Into<Bytes>) -> Request<Bytes> {
    let mut b = Request::post(PATH).header("content-type", content_type);
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(body.into()).expect("valid request")
}

fn signed(body: impl Into<Bytes>) -> Request<Bytes> {
    let auth = header_value("tv", "k2", "new-key");
    request(Some(&auth), "application/json", body)
}

fn json(r: &Response<String>) -> Value {
    serde_json::from_str(r.body()).expect("JSON body")
}

/// Every event_id in the stream, in order, each record decoded by the
/// consumers' own code (so the enriched lines still pass the contract).
fn stream_ids(c: &Twin) -> Vec<String> {
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

fn nothing_written(c: &Twin) {
    assert_eq!(c.stream.call_count(), 0);
    assert!(c.sre.sent().is_empty());
    assert!(c.dead_letters.letters.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_missing_bad_or_unknown_credential_is_a_401_and_writes_nothing() {
    let c = collector();
    let body = heartbeats(2);
    let cases = [
        (None, "missing Authorization header"),
        (Some("Bearer abc".to_string()), "Authorization must be"),
        (Some(header_value("tv", "k2", "old-key")), "bad key"),
        (
            Some(header_value("tv", "k3", "new-key")),
            "unknown app or kid",
        ),
        (
            Some(header_value("radio", "k1", "old-key")),
            "unknown app or kid",
        ),
    ];
    for (auth, why) in cases {
        let r = c
            .handle_at(
                request(auth.as_deref(), "application/json", body.clone()),
                NOW,
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let reason = json(&r)["error"].as_str().expect("reason").to_string();
        assert!(
            reason.starts_with(why) && !reason.contains('\n'),
            "{reason}"
        );
    }
    nothing_written(&c);
}

#[tokio::test]
async fn both_kids_of_a_rotation_are_accepted_until_the_old_one_is_retired() {
    let c = collector();
    let old = header_value("tv", "k1", "old-key");
    let r = c
        .handle_at(request(Some(&old), "application/json", heartbeats(1)), NOW)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    c.keys.remove("tv", "k1");
    let r = c
        .handle_at(request(Some(&old), "application/json", heartbeats(1)), NOW)
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c.handle_at(signed(heartbeats(1)), NOW).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_oversize_body_or_501_events_is_a_413_and_writes_nothing() {
    let c = collector();
    let r = c.handle_at(signed(heartbeats(501)), NOW).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        json(&r)["error"],
        "501 events exceed the 500-event limit per request"
    );
    let big = format!("[{}]", " ".repeat(crate::body::MAX_DECODED_BYTES));
    let r = c.handle_at(signed(big), NOW).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A gzip bomb: small on the wire, over the limit once inflated.
    let bomb = gzip(&vec![b' '; 2 * crate::body::MAX_DECODED_BYTES]);
    let mut req = signed(bomb);
    req.headers_mut()
        .insert("content-encoding", "gzip".parse().expect("header"));
    let r = c.handle_at(req, NOW).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body());
    // 500 events is within the limit.
    let r = c.handle_at(signed(heartbeats(500)), NOW).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(stream_ids(&c).len(), 500);
}

#[tokio::test]
async fn an_unusable_body_is_a_400_and_writes_nothing() {
    let c = collector();
    for body in ["{not json", "[]", "", "[1,2"] {
        let r = c.handle_at(signed(body), NOW).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body:?}");
    }
    nothing_written(&c);
}

#[tokio::test]
async fn a_mixed_batch_gets_per_event_verdicts_and_the_rejects_reach_the_dlq() {
    let c = collector();
    let future =
        event("e-future", "heartbeat", "v1").replace("2026-11-23T10:00", "2026-11-23T11:00");
    let body = format!(
        "{}\n{}\n{}\n{}\n",
        event("e1", "heartbeat", "v1"),
        r#"{"event_id":"e-bad","event_type":"warp","event_time":"2026-11-23T10:00:00Z"}"#,
        future,
        "not json at all",
    );
    let r = c
        .handle_at(
            request(
                Some(&header_value("tv", "k2", "new-key")),
                "application/x-ndjson",
                body,
            ),
            NOW,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let a = json(&r);
    assert_eq!(
        (a["accepted"].as_u64(), a["rejected"].as_u64()),
        (Some(1), Some(3))
    );
    let verdicts: Vec<(Value, Value, Value)> = a["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|v| {
            (
                v["event_id"].clone(),
                v["status"].clone(),
                v["reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("e1".into(), "accepted".into(), Value::Null),
            (
                "e-bad".into(),
                "rejected".into(),
                "unknown_event_type".into()
            ),
            (
                "e-future".into(),
                "rejected".into(),
                "event_time_in_future".into()
            ),
            (Value::Null, "rejected".into(), "malformed_json".into()),
        ]
    );
    let letters = c.dead_letters.letters.lock().expect("lock").clone();
    let reasons: Vec<(&str, Option<&str>)> = letters
        .iter()
        .map(|l| (l.reason_code.as_str(), l.event_id.as_deref()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("unknown_event_type", Some("e-bad")),
            ("event_time_in_future", Some("e-future")),
            ("malformed_json", None),
        ]
    );
    assert!(letters
        .iter()
        .all(|l| l.consumer == "collector" && l.payload.is_some()));
    assert_eq!(stream_ids(&c), ["e1"]);
    // The skew is measured: the future event is an hour ahead of the server.
    let doc = &c.metrics.documents()[0];
    assert_eq!(doc["ClockLeadMaxMs"], 3_600_000.0 - 5_000.0);
    assert_eq!(doc["ClockLagMaxMs"], 5_000.0);
    assert_eq!(doc["EventsFromTheFuture"], 1.0);
}

#[tokio::test]
async fn accepted_events_carry_the_server_time_and_app_id_not_the_clients() {
    let c = collector();
    let lying = event("e1", "heartbeat", "v1").replace(
        '}',
        r#","app_id":"evil","collector_time":"2000-01-01T00:00:00.000Z"}"#,
    );
    let r = c.handle_at(signed(format!("[{lying}]")), NOW).await;
    assert_eq!(r.status(), StatusCode::OK);
    let data = c.stream.written()[0].data.clone();
    let line: Value = serde_json::from_slice(&data).expect("one JSON line");
    assert_eq!(line["app_id"], "tv");
    assert_eq!(line["collector_time"], "2026-11-23T10:00:05.000Z");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("in memory");
    enc.finish().expect("in memory")
}

#[tokio::test]
async fn a_gzip_body_is_accepted() {
    let c = collector();
    let mut req = signed(gzip(heartbeats(3).as_bytes()));
    req.headers_mut()
        .insert("content-encoding", "gzip".parse().expect("header"));
    let r = c.handle_at(req, NOW).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.body());
    assert_eq!(stream_ids(&c), ["e0", "e1", "e2"]);
}

#[tokio::test]
async fn records_are_packed_per_viewer_within_5_kb() {
    let c = collector();
    let events: Vec<String> = (0..60)
        .map(|i| {
            event(
                &format!("e{i}"),
                "heartbeat",
                if i % 2 == 0 { "va" } else { "vb" },
            )
        })
        .collect();
    let r = c
        .handle_at(signed(format!("[{}]", events.join(","))), NOW)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let records = c.stream.written();
    assert!(records
        .iter()
        .all(|r| r.data.len() <= playback_domain::event::MAX_PACK_BYTES));
    assert!(records.len() < 60 / 5, "packed: {} records", records.len());
    // Each viewer's events keep their order.
    let ids = stream_ids(&c);
    let va: Vec<&String> = ids
        .iter()
        .filter(|id| id[1..].parse::<u32>().expect("n") % 2 == 0)
        .collect();
    let mut sorted = va.clone();
    sorted.sort_by_key(|id| id[1..].parse::<u32>().expect("n"));
    assert_eq!(va, sorted);
    assert_eq!(ids.len(), 60);
}

#[tokio::test]
async fn a_partial_put_records_failure_is_retried_and_each_event_lands_once() {
    let c = collector();
    let events: Vec<String> = (0..40)
        .map(|i| event(&format!("e{i}"), "heartbeat", &format!("v{}", i % 4)))
        .collect();
    // Four viewers: four records; the first call fails two, the second one.
    c.stream.fail_next(vec![0, 2]);
    c.stream.fail_next(vec![1]);
    let r = c
        .handle_at(signed(format!("[{}]", events.join(","))), NOW)
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.body());
    assert_eq!(c.stream.call_count(), 3);
    let mut ids = stream_ids(&c);
    ids.sort();
    let mut want: Vec<String> = (0..40).map(|i| format!("e{i}")).collect();
    want.sort();
    assert_eq!(ids, want, "every accepted event exactly once");
}

#[tokio::test]
async fn retries_are_bounded_and_a_stream_left_failing_is_a_503() {
    let c = collector();
    for _ in 0..10 {
        c.stream.fail_next(vec![0]);
    }
    let r = c.handle_at(signed(heartbeats(2)), NOW).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(c.stream.call_count(), playback_aws::retry::MAX_RETRIES + 1);
}

#[tokio::test]
async fn stream_down_quality_events_still_reach_the_sre_queue_and_the_answer_is_503() {
    let c = collector();
    c.stream.down.store(true, Ordering::Relaxed);
    let body = format!(
        "[{},{},{}]",
        event("q1", "rebuffer_start", "v1"),
        event("p1", "pause", "v1"),
        event("q2", "error", "v1"),
    );
    let r = c.handle_at(signed(body), NOW).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "2");
    let a = json(&r);
    assert_eq!(a["written"], false);
    assert!(a["error"]
        .as_str()
        .expect("error")
        .contains("retry with the same event_ids"));
    assert!(c.stream.written().is_empty());
    // The SRE path (quality events, not the pause) saw them all the same.
    let sre: Vec<String> = c
        .sre
        .sent()
        .iter()
        .flat_map(|b| decode_record(b.as_bytes(), Clock::at(NOW)))
        .map(|d| d.result.expect("valid").event_id.to_string())
        .collect();
    assert_eq!(sre, ["q1", "q2"]);
    assert_eq!(c.metrics.documents()[0]["StreamWriteFailures"], 1.0);
}

#[tokio::test]
async fn the_same_request_twice_writes_the_same_event_ids() {
    let c = collector();
    let body = heartbeats(3);
    for _ in 0..2 {
        assert_eq!(
            c.handle_at(signed(body.clone()), NOW).await.status(),
            StatusCode::OK
        );
    }
    let ids = stream_ids(&c);
    assert_eq!(
        ids,
        ["e0", "e1", "e2", "e0", "e1", "e2"],
        "downstream dedupes by these"
    );
    let records = c.stream.written();
    assert_eq!(
        records[0], records[1],
        "a retry is byte-identical (same receive time)"
    );
}

#[tokio::test]
async fn the_lambda_adapter_hands_the_request_to_the_core() {
    let c = collector();
    let mut req =
        lambda_http::Request::new(lambda_http::Body::Binary(gzip(heartbeats(2).as_bytes())));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = PATH.parse().expect("uri");
    let h = req.headers_mut();
    h.insert(
        "authorization",
        header_value("tv", "k2", "new-key").parse().expect("header"),
    );
    h.insert("content-encoding", "gzip".parse().expect("header"));
    h.insert("content-type", "application/json".parse().expect("header"));
    let r = crate::lambda::respond(&c, req).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(stream_ids(&c), ["e0", "e1"]);
}

#[test]
fn collector_keys_are_read_as_hashes() {
    let hash = hex::encode(crate::auth::hash_key("new-key"));
    let keys = crate::entry::parse_keys(&format!(
        r#"[{{"app_id":"tv","kid":"k2","sha256":"{hash}"}}]"#
    ))
    .expect("valid");
    assert_eq!(keys[0].2, crate::auth::hash_key("new-key"));
    assert!(crate::entry::parse_keys(r#"[{"app_id":"tv","kid":"k2","sha256":"zz"}]"#).is_err());
}

#[tokio::test]
async fn an_event_the_enrichment_would_push_over_8_kib_is_rejected_at_the_edge() {
    let c = collector();
    // Just under the consumers' 8 KiB as sent; over it once enriched.
    let pad = "x".repeat(playback_domain::event::MAX_EVENT_BYTES - 250);
    let fat = event("e-fat", "heartbeat", "v1")
        .replace(r#""title_id":"t""#, &format!(r#""title_id":"{pad}""#));
    assert!(fat.len() < playback_domain::event::MAX_EVENT_BYTES);
    let body = format!("[{fat},{}]", event("e1", "heartbeat", "v1"));
    let r = c.handle_at(signed(body), NOW).await;
    assert_eq!(r.status(), StatusCode::OK);
    let a = json(&r);
    assert_eq!(a["results"][0]["reason"], "oversized");
    assert_eq!(a["results"][0]["event_id"], "e-fat");
    assert_eq!(
        stream_ids(&c),
        ["e1"],
        "the stream never holds a line consumers refuse"
    );
}

#[tokio::test]
async fn a_key_store_outage_is_a_503_not_a_401() {
    let c = collector();
    c.keys.down.store(true, Ordering::Relaxed);
    let r = c.handle_at(signed(heartbeats(1)), NOW).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "2");
    nothing_written(&c);
}

#[tokio::test]
async fn a_dlq_outage_does_not_fail_the_accepted_events() {
    let c = collector();
    c.dead_letters
        .faults
        .fail_key("collector/tv/1795428005000/1");
    let body = format!("[{},{{}}]", event("e1", "heartbeat", "v1"));
    let r = c.handle_at(signed(body), NOW).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(stream_ids(&c), ["e1"]);
    assert_eq!(c.metrics.documents()[0]["DeadLetterWriteFailures"], 1.0);
}

#[tokio::test]
async fn cors_preflight_and_other_routes() {
    let c = collector();
    let pre = Request::options(PATH).body(Bytes::new()).expect("request");
    let r = c.handle_at(pre, NOW).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let get = Request::get(PATH).body(Bytes::new()).expect("request");
    assert_eq!(
        c.handle_at(get, NOW).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let other = Request::post("/v2/events")
        .body(Bytes::new())
        .expect("request");
    assert_eq!(
        c.handle_at(other, NOW).await.status(),
        StatusCode::NOT_FOUND
    );
    nothing_written(&c);
}

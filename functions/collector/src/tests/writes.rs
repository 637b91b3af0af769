//! What reaches the stream, the SRE queue and the DLQ, under faults.

use super::*;

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

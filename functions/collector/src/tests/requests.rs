//! What the player is told: credentials, limits, per-event verdicts.

use super::*;

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

//! The local ingest edge: players' HTTP requests through the collector's
//! real host and adapters into the emulator's stream, SRE queue and DLQ, and
//! a player's retry counted once by the consumers.

use std::collections::BTreeMap;

use collector::linger::LingerConfig;
use local_pipeline::collector::LocalCollectorOptions;
use local_pipeline::topology::SESSION_FEATURES;
use local_pipeline::{Pipeline, PipelineOptions};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

const KEY: (&str, &str, &str) = ("tv", "k1", "test-key");
const LINGER: LingerConfig = LingerConfig {
    linger: std::time::Duration::from_millis(100),
    keys: 16,
};

fn options(put_failure_rate: f64) -> LocalCollectorOptions<'static> {
    LocalCollectorOptions {
        key: KEY,
        linger: LINGER,
        put_failure_rate,
    }
}

/// POSTs `body` to the collector; (status, JSON answer).
async fn post(url: &str, auth: Option<&str>, body: &str) -> (u16, Value) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let auth = auth.map_or(String::new(), |a| format!("authorization: {a}\r\n"));
    let req = format!(
        "POST /{path} HTTP/1.1\r\nhost: {host}\r\n{auth}content-type: application/x-ndjson\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let (_, json) = out.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(json).unwrap())
}

/// Every event line in the stream, checking each sits under its viewer's key bucket.
async fn stream_lines(aws: &aws_config::SdkConfig, stream: &str) -> Vec<Value> {
    let k = aws_sdk_kinesis::Client::new(aws);
    let mut lines = Vec::new();
    for r in testkit::inspect::stream_records(&k, stream).await.unwrap() {
        for l in r.data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let line: Value = serde_json::from_slice(l).unwrap();
            let viewer = line["viewer_id"].as_str().unwrap();
            assert_eq!(
                r.partition_key,
                collector::linger::bucket_key(viewer, LINGER.keys)
            );
            lines.push(line);
        }
    }
    lines
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn posted_events_reach_every_sink_and_a_retried_request_counts_once() {
    let aws = emulator("collector_edge").await;
    let t = topology("edge");
    let r = setup(&aws, &t).await;
    let edge = local_pipeline::collector::start(&aws, &r, options(0.0))
        .await
        .unwrap();

    let events: Vec<String> = (0..3)
        .map(|n| event(&format!("e-{n}"), "heartbeat", "viewer-1", "s-1", "title-1").to_string())
        .chain(["{\"event_id\":\"bad\"}".to_string()])
        .collect();
    let body = events.join("\n");
    let (status, answer) = post(&edge.url, None, &body).await;
    assert_eq!(status, 401, "{answer}");
    let auth = collector::auth::header_value(KEY.0, KEY.1, KEY.2);
    // The player's first try and its retry, byte for byte.
    for _ in 0..2 {
        let (status, answer) = post(&edge.url, Some(&auth), &body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            (answer["accepted"].as_u64(), answer["rejected"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(answer["results"][3]["status"], "rejected");
    }
    let lines = stream_lines(&aws, &r.stream_name).await;
    assert_eq!(lines.len(), 6, "both copies are in the stream");
    assert!(lines
        .iter()
        .all(|l| l["app_id"] == KEY.0 && l["collector_time"].is_string()));
    assert_eq!(
        edge.written.events_per_record(),
        3.0,
        "one record per viewer per request"
    );
    let sre = drain(&aws, &r.quality_queue_url).await;
    assert!(!sre.is_empty(), "heartbeats feed the SRE queue");
    let dead = eventually("the rejected event's dead letters", 30, || async {
        let d = drain(&aws, &r.poison_dlq_url).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    let letter: Value = serde_json::from_str(&dead[0]).unwrap();
    assert_eq!(letter["consumer"], collector::CONSUMER);
    edge.shutdown().await;

    // Downstream, the retry's event_ids are recognised: 3 events applied, not 6.
    let opts = PipelineOptions {
        only: vec![SESSION_FEATURES.into()],
        ..PipelineOptions::default()
    };
    let handle = Pipeline::start_with(&aws, &t, &r, opts).await.unwrap();
    let applied = eventually("viewer-1's features", 60, || async {
        let items = scan(&aws, &r.features_table).await;
        let f: BTreeMap<String, String> = items
            .iter()
            .map(|i| {
                let n = i.get("events_applied").and_then(|v| v.as_n().ok()).cloned();
                (
                    i["viewer_id"].as_s().unwrap().clone(),
                    n.unwrap_or_default(),
                )
            })
            .collect();
        let done = handle.metrics()[SESSION_FEATURES].records >= 2;
        (done && !f.is_empty()).then_some(f)
    })
    .await;
    handle.shutdown().await;
    assert_eq!(
        applied,
        BTreeMap::from([("viewer-1".to_string(), "3".to_string())])
    );
    teardown(&aws, &r).await;
}

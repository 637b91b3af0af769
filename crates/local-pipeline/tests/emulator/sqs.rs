use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use local_pipeline::function::from_fn;
use local_pipeline::runner::SRE_BUFFER;
use local_pipeline::{Pipeline, PipelineOptions};
use serde_json::{json, Value};

use crate::common::*;

async fn send(aws: &aws_config::SdkConfig, url: &str, body: &str) {
    aws_sdk_sqs::Client::new(aws)
        .send_message()
        .queue_url(url)
        .message_body(body)
        .send()
        .await
        .expect("SendMessage");
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn a_message_that_always_fails_is_redriven_to_the_dlq_after_max_receive_count() {
    let aws = emulator("sqs_redrive").await;
    let mut t = topology("sqsdlq");
    t.sre_buffer.visibility_timeout_s = 1;
    t.sre_buffer.max_receive_count = 2;
    // Lambda's rule: the visibility timeout must exceed batching window + run time.
    t.sre_buffer.batching_window_s = 0;
    let r = setup(&aws, &t).await;
    let deliveries = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let d = deliveries.clone();
    let f = from_fn(move |event: Value| {
        let d = d.clone();
        async move {
            let mut failures = Vec::new();
            for m in event["Records"].as_array().unwrap() {
                assert_eq!(m["eventSource"], "aws:sqs");
                assert!(m["attributes"]["ApproximateReceiveCount"].is_string());
                let body = m["body"].as_str().unwrap().to_string();
                d.lock().unwrap().push((
                    body.clone(),
                    m["attributes"]["ApproximateReceiveCount"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                ));
                if body == "always-fails" {
                    failures.push(json!({ "itemIdentifier": m["messageId"] }));
                }
            }
            Ok(json!({ "batchItemFailures": failures }))
        }
    });
    send(&aws, &r.quality_queue_url, "always-fails").await;
    send(&aws, &r.quality_queue_url, "fine").await;
    let opts = PipelineOptions {
        only: vec![SRE_BUFFER.into()],
        functions: BTreeMap::from([(SRE_BUFFER.to_string(), f)]),
        ..PipelineOptions::default()
    };
    let handle = Pipeline::start_with(&aws, &t, &r, opts).await.unwrap();
    let dead = eventually("the failing message in the DLQ", 60, || async {
        let bodies = drain(&aws, &r.quality_dlq_url).await;
        (!bodies.is_empty()).then_some(bodies)
    })
    .await;
    handle.shutdown().await;
    assert_eq!(dead, vec!["always-fails".to_string()]);
    let deliveries = deliveries.lock().unwrap().clone();
    let failing: Vec<&String> = deliveries
        .iter()
        .filter(|(b, _)| b == "always-fails")
        .map(|(_, c)| c)
        .collect();
    assert_eq!(
        failing,
        vec!["1", "2"],
        "received maxReceiveCount times, then redriven by SQS"
    );
    assert_eq!(
        deliveries.iter().filter(|(b, _)| b == "fine").count(),
        1,
        "deleted after success"
    );
    assert_eq!(visible(&aws, &r.quality_queue_url).await, 0);
    teardown(&aws, &r).await;
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn the_sre_buffer_handler_stores_signals_from_the_queue() {
    let aws = emulator("sqs_sre").await;
    let t = topology("sre");
    let r = setup(&aws, &t).await;
    let e = event("e-sre-1", "error", "viewer-1", "s-1", "title-1");
    send(&aws, &r.quality_queue_url, &e.to_string()).await;
    send(&aws, &r.quality_queue_url, "{ broken").await;
    let opts = PipelineOptions {
        only: vec![SRE_BUFFER.into()],
        ..PipelineOptions::default()
    };
    let handle = Pipeline::start_with(&aws, &t, &r, opts).await.unwrap();
    eventually("an SRE signal item", 60, || async {
        (!scan(&aws, &r.sre_table).await.is_empty()).then_some(())
    })
    .await;
    let letters = eventually("the poison pill", 30, || async {
        let b = drain(&aws, &r.poison_dlq_url).await;
        (!b.is_empty()).then_some(b)
    })
    .await;
    assert!(letters[0].contains("sre-buffer"));
    eventually("both messages deleted", 30, || async {
        (visible(&aws, &r.quality_queue_url).await == 0).then_some(())
    })
    .await;
    handle.shutdown().await;
    teardown(&aws, &r).await;
}

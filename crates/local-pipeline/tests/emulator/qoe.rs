use local_pipeline::topology::QOE_ALERTS;
use local_pipeline::{Pipeline, PipelineOptions};

use crate::common::*;

#[tokio::test]
async fn a_rebuffering_breach_raises_one_alert_when_the_window_closes() {
    let Some(aws) = emulator("qoe").await else {
        return;
    };
    let t = topology("qoe");
    let r = setup(&aws, &t).await;
    // Six sessions, 20 s watched and 5 s stalled each: ratio 0.2, above the threshold.
    let records: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| {
            let e = event(
                &format!("q-{i}"),
                "heartbeat",
                &format!("viewer-{i}"),
                &format!("s-{i}"),
                "title-q",
            );
            // One partition key: one shard, so one partial per window.
            ("qoe-key".to_string(), e.to_string().into_bytes())
        })
        .collect();
    put(&aws, &r.stream_name, &records).await;
    let opts = PipelineOptions {
        only: vec![QOE_ALERTS.into()],
        ..PipelineOptions::default()
    };
    let handle = Pipeline::start_with(&aws, &t, &r, opts).await.unwrap();
    let width = t.consumer(QOE_ALERTS).unwrap().tumbling_window_s.unwrap();
    let alerts = eventually("an alert item", 30 + 2 * width, || async {
        let items = scan(&aws, &r.alerts_table).await;
        (!items.is_empty()).then_some(items)
    })
    .await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["title_region"].as_s().unwrap(), "title-q#eu-west");
    let windows = scan(&aws, &r.windows_table).await;
    assert_eq!(windows.len(), 1, "one window item for title x region");
    // The item is written inside the final invocation; the counters follow it.
    let m = eventually("the flush counted", 10, || async {
        let m = handle.metrics()[QOE_ALERTS].clone();
        (m.windows_flushed >= 1 && m.alerts >= 1).then_some(m)
    })
    .await;
    assert_eq!(m.alerts, 1);
    handle.shutdown().await;
}

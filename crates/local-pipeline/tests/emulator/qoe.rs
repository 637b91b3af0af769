use local_pipeline::topology::QOE_ALERTS;
use local_pipeline::{Pipeline, PipelineOptions};

use crate::common::*;

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn a_rebuffering_breach_raises_one_alert_when_the_window_closes() {
    let aws = emulator("qoe").await;
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
    assert_eq!(windows.len(), 1, "one window item for the one shard");
    // The item is written inside the final invocation; the counters follow it.
    let m = eventually("the flush counted", 10, || async {
        let m = handle.metrics()[QOE_ALERTS].clone();
        (m.windows_flushed >= 1 && m.alerts >= 1).then_some(m)
    })
    .await;
    assert_eq!(m.alerts, 1);
    handle.shutdown().await;
    teardown(&aws, &r).await;
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn window_items_combine_shards_split_large_ones_and_replace_on_retry() {
    use playback_aws::windows_store::{DynamoWindowStore, CHUNK_BYTES};
    use playback_domain::ports::WindowStore;
    use playback_domain::qoe::{PartialWindow, Window};

    let aws = emulator("qoe-windows").await;
    let t = topology("qoe-windows");
    let r = setup(&aws, &t).await;
    let store = DynamoWindowStore::new(aws_sdk_dynamodb::Client::new(&aws), &r.windows_table);
    let window = Window {
        start_ms: 1_795_428_000_000,
        end_ms: 1_795_428_010_000,
    };
    let p = |watched: u64| PartialWindow {
        watched_ms: watched,
        stalled_ms: watched / 10,
        events: 2,
        sessions: [1, 2].into_iter().collect(),
        viewers: [1].into_iter().collect(),
    };
    // Shard A sees so many groups that its blob takes two items.
    let names: Vec<String> = (0..15_000).map(|i| format!("title-{i:05}")).collect();
    let partials: Vec<PartialWindow> = (0..15_000).map(|i| p(1_000 + i)).collect();
    let a: Vec<(&str, &str, &PartialWindow)> = names
        .iter()
        .zip(&partials)
        .map(|(t, p)| (t.as_str(), "eu", p))
        .collect();
    let totals = store.flush_shard(window, "shardId-a", &a).await.unwrap();
    assert_eq!(totals.len(), 15_000);
    assert_eq!((totals[7].watched_ms, totals[7].shards_flushed), (1_007, 1));
    // Shard B shares one group with A; flushing it twice counts it once.
    let b_partial = p(500);
    let b = [
        ("title-00007", "eu", &b_partial),
        ("title-b", "eu", &b_partial),
    ];
    store.flush_shard(window, "shardId-b", &b).await.unwrap();
    let again = store.flush_shard(window, "shardId-b", &b).await.unwrap();
    assert_eq!(
        (
            again[0].watched_ms,
            again[0].sessions,
            again[0].shards_flushed
        ),
        (1_507, 4, 2)
    );
    assert_eq!((again[1].watched_ms, again[1].shards_flushed), (500, 1));
    let items = scan(&aws, &r.windows_table).await;
    assert_eq!(items.len(), 3, "two chunks for shard A, one for B");
    assert!(items
        .iter()
        .all(|i| i["groups"].as_b().unwrap().as_ref().len() <= CHUNK_BYTES));
    teardown(&aws, &r).await;
}

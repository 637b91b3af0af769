use local_pipeline::runner::{lake_sink, LAKE};
use local_pipeline::{Pipeline, PipelineOptions};

use crate::common::*;

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn the_lake_landing_reads_the_stream_and_flushes_at_shutdown() {
    let aws = emulator("lake").await;
    let mut t = topology("lake");
    // A long buffer interval: only the shutdown flush can deliver in time.
    t.lake.buffer_s = 900;
    let r = setup(&aws, &t).await;
    let records: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| {
            let e = event(
                &format!("l-{i}"),
                "heartbeat",
                &format!("viewer-{i}"),
                "s",
                "title-l",
            );
            (format!("viewer-{i}"), e.to_string().into_bytes())
        })
        .collect();
    put(&aws, &r.stream_name, &records).await;
    let opts = PipelineOptions {
        only: vec![LAKE.into()],
        lake_sink: lake_sink(&aws, &t, &r).await,
        ..PipelineOptions::default()
    };
    assert!(opts.lake_sink.is_some());
    let handle = Pipeline::start_with(&aws, &t, &r, opts).await.unwrap();
    eventually("4 records read by the landing", 30, || async {
        (handle.metrics()[LAKE].records >= 4).then_some(())
    })
    .await;
    let s3 = playback_aws::s3_client(&aws);
    let objects = |prefix: String| {
        let s3 = s3.clone();
        let bucket = r.lake_bucket.clone();
        async move {
            s3.list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .send()
                .await
                .unwrap()
                .contents
                .unwrap_or_default()
                .into_iter()
                .filter_map(|o| o.key)
                .collect::<Vec<_>>()
        }
    };
    assert!(
        objects(t.lake.prefix.clone()).await.is_empty(),
        "still buffered"
    );
    handle.shutdown().await;
    let keys = objects(t.lake.prefix.clone()).await;
    assert!(!keys.is_empty(), "shutdown flushed the buffers");
    assert!(keys.iter().all(|k| k.ends_with(".parquet")), "{keys:?}");
    teardown(&aws, &r).await;
}

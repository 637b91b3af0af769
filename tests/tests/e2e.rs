//! End to end, against the emulator at AWS_ENDPOINT_URL (moto via `make test`,
//! or LocalStack): PutRecords of a generated scenario into the stream, the
//! local pipeline runs every path, then each path's output is checked against
//! the generator's own record of what it sent. An emulator test
//! (`#[ignore = "emulator: run via make test"]`), run by `make test`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{ensure, Result};
use integration_tests::{require_emulator, wait_drained};
use loadgen::{BadFirmware, Incident, Manifest, ScenarioConfig};
use local_pipeline::runner::LAKE;
use local_pipeline::topology::{QOE_ALERTS, SESSION_FEATURES};
use local_pipeline::{Pipeline, PipelineOptions};
use testkit::inspect;

/// Per viewer, watched ms over distinct valid event ids: what features must hold.
fn expected_lifetime_watched(m: &Manifest) -> BTreeMap<String, u64> {
    let mut seen = BTreeSet::new();
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for l in m.lines.iter().filter(|l| l.valid) {
        let total = out.entry(l.viewer_id.clone()).or_default();
        if seen.insert(l.event_id.clone()) {
            *total += l.watched_ms.unwrap_or(0).max(0) as u64;
        }
    }
    out
}

async fn features_snapshot(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<BTreeMap<String, String>> {
    Ok(inspect::scan(dynamo, table)
        .await?
        .into_iter()
        .map(|item| {
            let id = playback_aws::dynamo::get_s(&item, "viewer_id").unwrap_or_default();
            let f = playback_aws::features_store::from_item(&item).expect("valid features item");
            (id, format!("{f:?}"))
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "emulator: run via make test"]
async fn stream_to_features_alerts_dead_letters_and_parquet() -> Result<()> {
    require_emulator("stream_to_features_alerts_dead_letters_and_parquet");
    let integration_tests::Local {
        aws,
        topology,
        resources,
        pipeline,
    } = integration_tests::start_local("e2e").await?;

    let incident = Incident {
        title_id: "t0001".into(),
        region: "us-east".into(),
        start_s: 10.0,
        duration_s: 20.0,
        stall_fraction: 0.4,
    };
    let cfg = ScenarioConfig {
        seed: 11,
        viewers: 400,
        titles: 15,
        rate: 100.0,
        start_time_ms: chrono::Utc::now().timestamp_millis(),
        duration_s: Some(40.0),
        pack_linger_s: 1.0,
        incident: Some(incident.clone()),
        bad_firmware: Some(BadFirmware {
            app_version: "*".into(),
            rate: 0.03,
        }),
        retry_rate: 0.02,
        late_rate: 0.01,
        ..Default::default()
    };
    let (_, manifest) = integration_tests::play(&resources, cfg, None).await?;
    let kinesis = aws_sdk_kinesis::Client::new(&aws);
    let (ends, in_stream) = inspect::stream_ends(&kinesis, &resources.stream_name).await?;
    ensure!(
        in_stream as u64 == manifest.summary.records,
        "the stream holds {in_stream} records, the manifest {}",
        manifest.summary.records
    );
    let s3 = playback_aws::s3_client(&aws);
    let valid_lines = manifest.lines.iter().filter(|l| l.valid).count();
    // Done = every consumer checkpointed the last record of every shard and
    // the lake holds a row per valid line; shutdown then gives open windows
    // their final invocation and flushes the lake buffers.
    wait_drained(
        &pipeline,
        &[QOE_ALERTS, SESSION_FEATURES, LAKE],
        &ends,
        Some((
            &s3,
            &resources.lake_bucket,
            &topology.lake.prefix,
            valid_lines,
        )),
        Duration::from_secs(180),
    )
    .await?;
    pipeline.shutdown().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);

    // Session features: every viewer, each distinct event counted once.
    let expected = expected_lifetime_watched(&manifest);
    let items = inspect::scan(&dynamo, &resources.features_table).await?;
    let got: BTreeMap<String, u64> = items
        .iter()
        .map(|i| {
            let f = playback_aws::features_store::from_item(i).unwrap();
            (f.viewer_id, f.lifetime_watched_ms)
        })
        .collect();
    assert_eq!(
        got.len(),
        expected.len(),
        "one features item per viewer with valid events"
    );
    assert_eq!(
        got, expected,
        "lifetime watched ms = distinct valid events per viewer"
    );

    // The lake: every valid line as a Parquet row, every distinct event present.
    let files = inspect::lake_files(&s3, &resources.lake_bucket, &topology.lake.prefix).await?;
    let rows: Vec<_> = files.iter().flat_map(|f| f.rows.iter()).collect();
    assert_eq!(rows.len(), valid_lines, "one lake row per valid line sent");
    let landed: BTreeSet<&str> = rows.iter().map(|r| r.event_id.as_str()).collect();
    assert_eq!(landed, manifest.distinct_valid_event_ids());

    // QoE alerts: only on the incident, in the windows its stalled heartbeats
    // arrived in (Lambda windows by arrival time), at most one per window.
    let alerts = inspect::alerts(&dynamo, &resources.alerts_table).await?;
    assert!(!alerts.is_empty(), "the incident raised an alert");
    let (inc_start, inc_end) = manifest.incident_interval_ms().unwrap();
    let ms = |t: &str| playback_domain::event::parse_rfc3339_ms(t).unwrap();
    let arrivals: Vec<i64> = rows
        .iter()
        .filter(|r| r.title_id == "t0001" && r.region == "us-east" && r.stalled_ms.unwrap_or(0) > 0)
        .filter(|r| (inc_start..inc_end).contains(&ms(&r.event_time)))
        .map(|r| ms(&r.ingest_time))
        .collect();
    let (first, last) = (
        *arrivals.iter().min().unwrap(),
        *arrivals.iter().max().unwrap(),
    );
    for a in &alerts {
        assert_eq!(
            (a.title_id.as_str(), a.region.as_str()),
            ("t0001", "us-east"),
            "{a:?}"
        );
        assert!(
            a.window_end_ms > first && a.window_start_ms <= last,
            "{a:?} outside [{first}, {last}]"
        );
        assert!(a.ratio >= topology.alerts.baseline_ratio + topology.alerts.margin);
    }

    // Poison pills: every malformed event, once per stream consumer, with a reason.
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let letters =
        inspect::dead_letters(&inspect::drain_queue(&sqs, &resources.poison_dlq_url).await?);
    let malformed = manifest.malformed_lines() as usize;
    assert!(malformed > 0);
    for consumer in ["qoe-alerts", "session-features"] {
        let mine: Vec<_> = letters.iter().filter(|l| l.consumer == consumer).collect();
        assert_eq!(
            mine.len(),
            malformed,
            "{consumer}: every malformed event in the DLQ"
        );
        assert!(mine
            .iter()
            .all(|l| !l.reason.is_empty() && !l.reason_code.is_empty()));
    }

    // Replay: the whole stream again through session-features changes nothing.
    let before = features_snapshot(&dynamo, &resources.features_table).await?;
    let replay = PipelineOptions {
        only: vec![SESSION_FEATURES.to_string()],
        ..Default::default()
    };
    let again = Pipeline::start_with(&aws, &topology, &resources, replay).await?;
    wait_drained(
        &again,
        &[SESSION_FEATURES],
        &ends,
        None,
        Duration::from_secs(120),
    )
    .await?;
    again.shutdown().await;
    assert_eq!(
        features_snapshot(&dynamo, &resources.features_table).await?,
        before
    );
    local_pipeline::teardown(&aws, &resources).await?;
    Ok(())
}

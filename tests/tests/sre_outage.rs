//! SRE never goes blind: a bad release ships while the stream refuses every
//! PutRecords. The quality queue still carries the slice's failures, so
//! sre-buffer opens the slice's incident within 60 s of its first failing
//! event, while Kinesis is still down; the producer buffers through the
//! outage, and once the stream is back every valid event reaches the lake.
//! Nothing else opens. An emulator test (`#[ignore = "emulator: run via make
//! test"]`), run by `make test`.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use integration_tests::{require_emulator, wait_drained};
use loadgen::{BadRelease, KinesisOutage, ScenarioConfig};
use local_pipeline::runner::LAKE;
use local_pipeline::topology::{QOE_ALERTS, SESSION_FEATURES};
use testkit::inspect;

// The stream is down from +8 s for 70 s and the release fails from +12 s, so
// an incident opened within the 60 s bound is necessarily opened while the
// stream refuses writes: the check does not hinge on how fast a loaded
// machine runs the pipeline, only on the 60 s promise itself.
const OUTAGE: &str = "8:70";
const RELEASE: &str = "5.2.0:tv:eu-west:12:45:0.6";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "emulator: run via make test"]
async fn a_bad_release_during_a_stream_outage_pages_and_nothing_is_lost() -> Result<()> {
    require_emulator("a_bad_release_during_a_stream_outage_pages_and_nothing_is_lost");
    let integration_tests::Local {
        aws,
        topology,
        resources,
        pipeline,
    } = integration_tests::start_local("outage").await?;

    let release: BadRelease = RELEASE.parse()?;
    let outage: KinesisOutage = OUTAGE.parse()?;
    let cfg = ScenarioConfig {
        seed: 7,
        viewers: 600,
        titles: 30,
        rate: 80.0,
        start_time_ms: chrono::Utc::now().timestamp_millis(),
        duration_s: Some(70.0),
        pack_linger_s: 2.0,
        bad_release: Some(release.clone()),
        ..Default::default()
    };
    let run_start_ms = chrono::Utc::now().timestamp_millis();
    let outage_ms = |s: f64| run_start_ms + (s * 1_000.0) as i64;
    let (down_from, down_until) = (
        outage_ms(outage.start_s),
        outage_ms(outage.start_s + outage.duration_s),
    );
    let (report, manifest) = integration_tests::play(&resources, cfg, Some(outage)).await?;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);

    // The producer really met an outage, and buffered through it.
    let k = report.kinesis.clone().context("kinesis stats")?;
    eprintln!(
        "producer: {k:?}; refused calls {:?}",
        report.outage_refused_calls
    );
    ensure!(
        report.outage_refused_calls.unwrap_or(0) > 0,
        "no call was refused"
    );
    ensure!(k.undelivered == 0, "records given up: {k:?}");
    ensure!(
        k.max_wait_ms >= 20_000,
        "nothing waited out the outage: {k:?}"
    );

    // The incident: the release's slice, within 60 s of its first failure,
    // opened while the stream was refusing writes.
    let first = manifest
        .bad_release_first_failure_ms()
        .context("no failing event")?;
    let incidents = inspect::incidents(&dynamo, &resources.sre_table).await?;
    let slice = format!(
        "{}#{}#{}",
        release.region, release.device_platform, release.app_version
    );
    let opened = incidents
        .iter()
        .filter(|i| i.key.dimensions() == slice)
        .map(|i| i.opened_at_ms)
        .min()
        .with_context(|| format!("no incident on {slice}: {incidents:#?}"))?;
    eprintln!(
        "first failure +{:.1} s, incident +{:.1} s (detection {:.1} s); stream down +{:.1}..+{:.1} s",
        (first - run_start_ms) as f64 / 1e3,
        (opened - run_start_ms) as f64 / 1e3,
        (opened - first) as f64 / 1e3,
        (down_from - run_start_ms) as f64 / 1e3,
        (down_until - run_start_ms) as f64 / 1e3,
    );
    ensure!(
        opened - first <= 60_000,
        "detected {} ms after the first failure",
        opened - first
    );
    ensure!(
        (down_from..down_until).contains(&opened),
        "opened at {opened}, not while the stream was down [{down_from}, {down_until})"
    );
    let elsewhere: Vec<_> = incidents
        .iter()
        .filter(|i| i.key.dimensions() != slice)
        .collect();
    ensure!(elsewhere.is_empty(), "false incidents: {elsewhere:#?}");

    // Once the stream is back, nothing is lost: the stream holds every record
    // and the lake every valid event.
    let kinesis = aws_sdk_kinesis::Client::new(&aws);
    let (ends, in_stream) = inspect::stream_ends(&kinesis, &resources.stream_name).await?;
    ensure!(
        in_stream as u64 == manifest.summary.records,
        "the stream holds {in_stream} records, the manifest {}",
        manifest.summary.records
    );
    let s3 = playback_aws::s3_client(&aws);
    let valid = manifest.lines.iter().filter(|l| l.valid).count();
    let lake = Some((
        &s3,
        resources.lake_bucket.as_str(),
        topology.lake.prefix.as_str(),
        valid,
    ));
    wait_drained(
        &pipeline,
        &[QOE_ALERTS, SESSION_FEATURES, LAKE],
        &ends,
        lake,
        Duration::from_secs(180),
    )
    .await?;
    pipeline.shutdown().await;
    let files = inspect::lake_files(&s3, &resources.lake_bucket, &topology.lake.prefix).await?;
    let landed: std::collections::BTreeSet<&str> = files
        .iter()
        .flat_map(|f| f.rows.iter().map(|r| r.event_id.as_str()))
        .collect();
    ensure!(
        landed == manifest.distinct_valid_event_ids(),
        "lake rows != valid events"
    );
    local_pipeline::teardown(&aws, &resources).await?;
    Ok(())
}

//! What the end-to-end tests (tests/) share: the emulator guard and the
//! wait until every path has read the whole stream.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use local_pipeline::runner::PipelineHandle;
use local_pipeline::{setup, LocalOverrides, Pipeline, PipelineOptions, Resources, Topology};
use playback_domain::StreamPosition;
use testkit::inspect;

/// A whole local pipeline on the emulator under a fresh `prefix`: the AWS
/// config, the topology, what setup created, and every path running (the
/// lake's Firehose landing included).
pub struct Local {
    pub aws: aws_config::SdkConfig,
    pub topology: Topology,
    pub resources: Resources,
    pub pipeline: PipelineHandle,
}

/// Plays `cfg` paced into the stream and the SRE queue, one PutRecords call
/// in flight with up to a second of records (as a producer library batches),
/// `outage` refusing the stream for a while; returns the run and its manifest.
pub async fn play(
    r: &Resources,
    cfg: loadgen::ScenarioConfig,
    outage: Option<loadgen::KinesisOutage>,
) -> Result<(loadgen::runner::RunReport, loadgen::Manifest)> {
    let dir = std::env::temp_dir().join(format!("play-{}-{}", r.stream_name, std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let manifest_path = dir.join("manifest.json");
    let outputs = loadgen::runner::Outputs {
        stream: Some(r.stream_name.clone()),
        manifest: Some(manifest_path.clone()),
        quality_queue_url: Some(r.quality_queue_url.clone()),
        ..Default::default()
    };
    let opts = loadgen::runner::RunOptions {
        progress: false,
        max_batch_delay: Duration::from_secs(1),
        kinesis_outage: outage,
        ..Default::default()
    };
    let report = loadgen::runner::run(cfg, outputs, opts).await?;
    let manifest = loadgen::Manifest::read_from(&manifest_path)?;
    std::fs::remove_dir_all(&dir).ok();
    Ok((report, manifest))
}

pub async fn start_local(prefix: &str) -> Result<Local> {
    let aws = playback_aws::load_aws_config().await;
    let topology = Topology::load_default()?
        .prefixed(&local_pipeline::topology::unique_prefix(prefix))
        .with_overrides(&LocalOverrides::quick());
    let resources = setup(&aws, &topology).await?;
    let options = PipelineOptions {
        lake_sink: local_pipeline::runner::lake_sink(&aws, &topology, &resources).await,
        ..Default::default()
    };
    let pipeline = Pipeline::start_with(&aws, &topology, &resources, options).await?;
    Ok(Local {
        aws,
        topology,
        resources,
        pipeline,
    })
}

/// Run on purpose without an emulator, the test fails and says why.
pub fn require_emulator(test: &str) {
    if std::env::var("AWS_ENDPOINT_URL").map_or(true, |v| v.is_empty()) {
        panic!(
            "{test}: AWS_ENDPOINT_URL is not set. This is an emulator test: run it with \
             `make test`, or `scripts/with-emulator.sh cargo test -p integration-tests -- --ignored`"
        );
    }
}

/// `seq` is at or past `end`, compared as the numbers they are (decimal
/// strings of up to 129 digits: never parsed into an integer).
pub fn reached(seq: &str, end: &str) -> bool {
    matches!(
        (StreamPosition::new(seq, 0), StreamPosition::new(end, 0)),
        (Some(a), Some(b)) if a >= b
    )
}

#[cfg(test)]
#[test]
fn sequence_numbers_compare_as_numbers() {
    let aws = "49590338271490256608559692538361571095921575989136588800";
    let next = "49590338271490256608559692538361571095921575989136588801";
    assert!(reached(next, aws) && reached(aws, aws) && !reached(aws, next));
    assert!(reached("10", "9") && !reached("9", "10"));
    assert!(reached(&"1".repeat(129), aws) && !reached(aws, &"1".repeat(129)));
    assert!(!reached("", aws) && !reached("12a", "1"));
}

/// Waits until every consumer's checkpoint reached the stream's last
/// sequence number on every shard and, if given, the lake holds at least
/// `rows` rows; fails with what is still missing at the deadline.
pub async fn wait_drained(
    pipeline: &PipelineHandle,
    consumers: &[&str],
    ends: &BTreeMap<String, String>,
    lake: Option<(&aws_sdk_s3::Client, &str, &str, usize)>,
    timeout: Duration,
) -> Result<()> {
    let started = Instant::now();
    loop {
        let mut missing = Vec::new();
        for consumer in consumers {
            for (shard, end) in ends {
                match pipeline.checkpoints().get(consumer, shard) {
                    Some(seq) if reached(&seq, end) => {}
                    got => missing.push(format!(
                        "{consumer} on {shard}: checkpoint {}, last record {end}",
                        got.as_deref().unwrap_or("none")
                    )),
                }
            }
        }
        if let (true, Some((s3, bucket, prefix, want))) = (missing.is_empty(), lake) {
            let files = inspect::lake_files(s3, bucket, prefix).await?;
            let rows: usize = files.iter().map(|f| f.rows.len()).sum();
            if rows < want {
                missing.push(format!("lake: {rows} rows of {want} valid lines sent"));
            }
        }
        if missing.is_empty() {
            eprintln!("drained in {:.1} s", started.elapsed().as_secs_f64());
            return Ok(());
        }
        if started.elapsed() >= timeout {
            bail!(
                "not drained after {timeout:?}; missing: {}",
                missing.join("; ")
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

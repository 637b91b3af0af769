//! `make demo`: the whole pipeline on this machine. Creates the resources on
//! the emulator, runs the local pipeline, plays a scenario with a rebuffering
//! incident, a bad firmware build and a bad release, then shows what each
//! path produced.

use demo::report;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use loadgen::{BadFirmware, BadRelease, Incident, ScenarioConfig};
use local_pipeline::{setup, LocalOverrides, Pipeline, PipelineOptions, Topology};

#[derive(Parser, Debug)]
#[command(
    name = "playback-demo",
    about = "Run the playback pipeline locally with an injected incident"
)]
struct Args {
    /// How long the load runs, seconds
    #[arg(long, default_value_t = 90.0)]
    duration_s: f64,
    /// Target events per second
    #[arg(long, default_value_t = 80.0)]
    rate: f64,
    #[arg(long, default_value_t = 600)]
    viewers: u32,
    #[arg(long, default_value_t = 30)]
    titles: u32,
    /// title:region:start_s:duration_s:stall_fraction
    #[arg(long, default_value = "t0001:us-east:30:40:0.3")]
    incident: Incident,
    /// app_version:rate of malformed events from a bad build
    #[arg(long, default_value = "5.4.0-beta:0.2")]
    bad_firmware: BadFirmware,
    /// version:platform:region:start_s:duration_s:failure_rate of a build
    /// that fails to play (the SRE path's incident)
    #[arg(long, default_value = "5.2.0:tv:eu-west:20:50:0.6")]
    bad_release: BadRelease,
    #[arg(long, default_value_t = 0.01)]
    retry_rate: f64,
    #[arg(long, default_value_t = 0.005)]
    late_rate: f64,
    /// Where the chart, manifest and reports go
    #[arg(long, default_value = "out/demo")]
    out_dir: PathBuf,
    /// Keep the emulator's resources for inspection (their names are printed)
    /// instead of deleting them at the end.
    #[arg(long)]
    keep: bool,
    /// Players write Kinesis and SQS themselves, as before the ingest edge,
    /// instead of POSTing to the local collector.
    #[arg(long)]
    direct: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into()),
        )
        .init();
    let args = Args::parse();
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let aws = playback_aws::load_aws_config().await;

    let overrides = LocalOverrides {
        firehose_buffer_s: Some(10),
        visibility_timeout_s: Some(5),
        ..Default::default()
    };
    let topology = Topology::load_default()?
        .prefixed(&local_pipeline::topology::unique_prefix("demo"))
        .with_overrides(&overrides);
    println!(
        "==> creating resources on {}",
        std::env::var("AWS_ENDPOINT_URL").unwrap_or_default()
    );
    let resources = setup(&aws, &topology).await?;
    let options = PipelineOptions {
        lake_sink: local_pipeline::runner::lake_sink(&aws, &topology, &resources).await,
        ..Default::default()
    };
    let pipeline = Pipeline::start_with(&aws, &topology, &resources, options).await?;

    let cfg = ScenarioConfig {
        seed: 7,
        viewers: args.viewers,
        titles: args.titles,
        rate: args.rate,
        start_time_ms: chrono::Utc::now().timestamp_millis(),
        duration_s: Some(args.duration_s),
        pack_linger_s: 2.0,
        incident: Some(args.incident.clone()),
        bad_firmware: Some(args.bad_firmware.clone()),
        bad_release: Some(args.bad_release.clone()),
        retry_rate: args.retry_rate,
        late_rate: args.late_rate,
        ..Default::default()
    };
    let manifest_path = args.out_dir.join("manifest.json");
    println!(
        "==> playing {:.0} s at {:.0} events/s: incident on {} / {} from +{:.0} s for {:.0} s, bad build {} ({:.0} % malformed)",
        args.duration_s, args.rate, args.incident.title_id, args.incident.region, args.incident.start_s,
        args.incident.duration_s, args.bad_firmware.app_version, args.bad_firmware.rate * 100.0
    );
    let b = &args.bad_release;
    println!(
        "    bad release {} on {} in {} from +{:.0} s for {:.0} s: {:.0} % of starts fail",
        b.app_version,
        b.device_platform,
        b.region,
        b.start_s,
        b.duration_s,
        b.failure_rate * 100.0
    );
    let edge = if args.direct {
        None
    } else {
        let c = local_pipeline::collector::start(
            &aws,
            &resources,
            local_pipeline::collector::LocalCollectorOptions {
                key: loadgen::sinks::DEMO_APP,
                // Eight key buckets per shard: an even spread, and each bucket
                // still gathers several players in a linger at the demo's rate.
                linger: local_pipeline::collector::LingerConfig {
                    keys: u64::from(topology.stream.local_shards) * 8,
                    ..Default::default()
                },
                put_failure_rate: 0.0,
            },
        )
        .await?;
        println!("    players -> POST {} (the collector's HTTP host)", c.url);
        Some(c)
    };
    let outputs = match &edge {
        Some(c) => loadgen::runner::Outputs {
            collector_url: Some(c.url.clone()),
            manifest: Some(manifest_path.clone()),
            ..Default::default()
        },
        None => loadgen::runner::Outputs {
            stream: Some(resources.stream_name.clone()),
            manifest: Some(manifest_path.clone()),
            quality_queue_url: Some(resources.quality_queue_url.clone()),
            ..Default::default()
        },
    };
    // One PutRecords call in flight: batching up to a second of records keeps
    // the producer ahead of the emulator, as a real producer library does.
    let opts = loadgen::runner::RunOptions {
        progress: false,
        max_batch_delay: Duration::from_secs(1),
        ..Default::default()
    };
    // The title catalogue the sessions play (playback.titles), beside the events.
    let catalogue_key = format!("{}part-0.parquet", topology.lake.catalogue_prefix);
    playback_aws::s3_client(&aws)
        .put_object()
        .bucket(&resources.lake_bucket)
        .key(&catalogue_key)
        .body(loadgen::catalogue::parquet(&cfg)?.into())
        .send()
        .await
        .with_context(|| format!("upload s3://{}/{catalogue_key}", resources.lake_bucket))?;
    println!(
        "    catalogue: {} titles -> s3://{}/{catalogue_key}",
        cfg.titles, resources.lake_bucket
    );
    let load = tokio::spawn(loadgen::runner::run(cfg, outputs, opts));
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    while !load.is_finished() {
        tokio::time::sleep(Duration::from_secs(5)).await;
        report::status_line(&dynamo, &resources, &pipeline).await;
    }
    let run = load.await??;
    println!(
        "==> load done: {} records, {} lines in {:.1} s; draining the pipeline",
        run.summary.records,
        run.summary.lines,
        run.elapsed.as_secs_f64()
    );
    if let (Some(c), Some(edge)) = (&run.collector, &edge) {
        println!(
            "    collector: {}; latency {}; {:.2} events per Kinesis record",
            c.answers(),
            c.latency,
            edge.written.events_per_record()
        );
    }
    if let Some(c) = edge {
        c.shutdown().await;
    }
    let quiet = Duration::from_secs(
        topology
            .consumer("qoe-alerts")?
            .tumbling_window_s
            .unwrap_or(10)
            + 3,
    );
    report::wait_drained(&pipeline, quiet, Duration::from_secs(90)).await;
    pipeline.shutdown().await;

    let manifest = loadgen::Manifest::read_from(&manifest_path)?;
    let shown = report::show(
        &aws,
        &topology,
        &resources,
        &manifest,
        &args.incident,
        &args.out_dir,
        !args.direct,
    )
    .await;
    // Everything shown was read already (and written to out_dir): a
    // long-lived emulator (LocalStack) would otherwise keep a stream,
    // tables and queues per run, failed runs included.
    if args.keep {
        println!(
            "==> resources kept (--keep):\n{}",
            serde_json::to_string_pretty(&resources)?
        );
    } else {
        local_pipeline::teardown(&aws, &resources).await?;
    }
    if !shown? {
        anyhow::bail!("the demo's checks failed (see above)");
    }
    Ok(())
}

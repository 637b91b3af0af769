//! playback-local: set up the pipeline's resources on an emulator, run the
//! whole pipeline locally, or redrive a dead-letter queue.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use local_pipeline::redrive::{self, RedriveOptions, Target};
use local_pipeline::{
    LocalOverrides, MetricsSnapshot, Pipeline, PipelineOptions, StartingPosition, Topology,
};

#[derive(Parser)]
#[command(
    name = "playback-local",
    version,
    about = "The playback pipeline on a local AWS emulator (AWS_ENDPOINT_URL)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct TopologyArgs {
    /// infra/pipeline.json to use (default: the repository's).
    #[arg(long)]
    topology: Option<PathBuf>,
    /// Prefix for every resource name (isolates runs).
    #[arg(long, default_value = "")]
    prefix: String,
    /// Keep pipeline.json's windows and timeouts instead of the quick local ones.
    #[arg(long)]
    as_deployed: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Create every resource of the topology and print them.
    Setup(TopologyArgs),
    /// Set up, then run all consumers until Ctrl-C.
    Run {
        #[command(flatten)]
        t: TopologyArgs,
        /// Where consumers without a checkpoint start: trim-horizon or latest.
        #[arg(long, default_value = "trim-horizon")]
        from: String,
        /// Seconds between status lines.
        #[arg(long, default_value_t = 5)]
        status_every: u64,
        /// Keep checkpoints and open windows in this directory, so a killed
        /// runner resumes where it stopped (Lambda keeps them in the service).
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Move messages from a DLQ back to their queue, or re-put dead letters into the stream.
    Redrive {
        /// The DLQ (name or URL).
        #[arg(long)]
        from: String,
        /// The queue to move messages to (name or URL).
        #[arg(
            long,
            conflicts_with = "to_stream",
            required_unless_present = "to_stream"
        )]
        to: Option<String>,
        /// Re-put the original payload of each dead letter into this Kinesis stream.
        #[arg(long)]
        to_stream: Option<String>,
        /// Move at most this many messages.
        #[arg(long)]
        max: Option<usize>,
        /// Count what would move; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or("invalid arguments");
            eprintln!("{line} (see playback-local --help)");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,local_pipeline=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Err(e) = rt.block_on(run(cli)) {
        eprintln!("playback-local: {e:#}");
        std::process::exit(1);
    }
}

fn topology(a: &TopologyArgs) -> anyhow::Result<Topology> {
    let t = match &a.topology {
        Some(p) => Topology::load(p)?,
        None => Topology::load_default()?,
    };
    let t = t.prefixed(&a.prefix);
    Ok(if a.as_deployed {
        t
    } else {
        t.with_overrides(&LocalOverrides::quick())
    })
}

fn require_endpoint() -> anyhow::Result<()> {
    if std::env::var("AWS_ENDPOINT_URL").map_or(true, |v| v.is_empty()) {
        bail!(
            "AWS_ENDPOINT_URL is not set: point it at the emulator (scripts/with-emulator.sh does)"
        );
    }
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    require_endpoint()?;
    let aws = playback_aws::load_aws_config().await;
    match cli.command {
        Command::Setup(a) => {
            let r = local_pipeline::setup(&aws, &topology(&a)?).await?;
            println!("{}", serde_json::to_string_pretty(&r)?);
        }
        Command::Run {
            t,
            from,
            status_every,
            state_dir,
        } => {
            let starting_position = match from.as_str() {
                "trim-horizon" => StartingPosition::TrimHorizon,
                "latest" => StartingPosition::Latest,
                other => bail!("--from must be trim-horizon or latest, not {other:?}"),
            };
            let topo = topology(&t)?;
            let r = local_pipeline::setup(&aws, &topo).await?;
            eprintln!(
                "resources ready: stream {}, queue {}",
                r.stream_name, r.quality_queue_url
            );
            let checkpoints = match &state_dir {
                Some(dir) => local_pipeline::Checkpoints::durable(dir)?,
                None => local_pipeline::Checkpoints::default(),
            };
            let opts = PipelineOptions {
                starting_position,
                checkpoints,
                lake_sink: local_pipeline::runner::lake_sink(&aws, &topo, &r).await,
                ..PipelineOptions::default()
            };
            let handle = Pipeline::start_with(&aws, &topo, &r, opts).await?;
            let mut every = tokio::time::interval(Duration::from_secs(status_every.max(1)));
            let mut last = (Instant::now(), handle.metrics());
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => break,
                    _ = every.tick() => {
                        let now = (Instant::now(), handle.metrics());
                        eprintln!("{}", status_line(&last, &now));
                        last = now;
                    }
                }
            }
            eprintln!("stopping: finishing invocations, closing windows, flushing the lake");
            handle.shutdown().await;
        }
        Command::Redrive {
            from,
            to,
            to_stream,
            max,
            dry_run,
        } => {
            let sqs = aws_sdk_sqs::Client::new(&aws);
            let from_url = redrive::queue_url(&sqs, &from).await.context("--from")?;
            let opts = RedriveOptions {
                max,
                dry_run,
                visibility_s: 30,
            };
            let kinesis = aws_sdk_kinesis::Client::new(&aws);
            let report = match (to, to_stream) {
                (Some(to), None) => {
                    let to_url = redrive::queue_url(&sqs, &to).await.context("--to")?;
                    redrive::redrive(&sqs, &from_url, Target::Queue(&to_url), opts).await?
                }
                (None, Some(stream)) => {
                    redrive::redrive(&sqs, &from_url, Target::Stream(&kinesis, &stream), opts)
                        .await?
                }
                _ => bail!("give exactly one of --to or --to-stream"),
            };
            println!(
                "{}received {}, moved {}, records put {}, deleted {}, skipped {}, errors {}",
                if dry_run { "dry run: " } else { "" },
                report.received,
                report.moved,
                report.records_put,
                report.deleted,
                report.skipped,
                report.errors
            );
            if report.errors > 0 {
                bail!("{} messages could not be redriven", report.errors);
            }
        }
    }
    Ok(())
}

type Sample = (Instant, BTreeMap<String, MetricsSnapshot>);

fn status_line(before: &Sample, now: &Sample) -> String {
    let secs = now.0.duration_since(before.0).as_secs_f64().max(0.001);
    now.1
        .iter()
        .map(|(name, m)| {
            let prev = before.1.get(name).map_or(0, |p| p.records);
            let rate = (m.records.saturating_sub(prev)) as f64 / secs;
            format!(
                "{name}: {rate:.0} rec/s age {}ms retries {} failed {} windows {} alerts {}",
                m.iterator_age_ms, m.retries, m.failures, m.windows_flushed, m.alerts
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

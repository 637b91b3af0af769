//! The local runner as `playback-local run --state-dir` runs it (the quick
//! local topology, durable checkpoints), as its own binary so the chaos test
//! can start and SIGKILL it by path. Stops cleanly on SIGINT.

use anyhow::{Context, Result};
use local_pipeline::{Checkpoints, Pipeline, PipelineOptions};

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,local_pipeline=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        let i = args.iter().position(|a| a == name)?;
        args.get(i + 1).cloned()
    };
    let prefix = arg("--prefix").context("--prefix PREFIX is required")?;
    let state = arg("--state-dir").context("--state-dir DIR is required")?;
    let aws = playback_aws::load_aws_config().await;
    let t = demo::chaos::topology(&prefix)?;
    let r = local_pipeline::setup(&aws, &t).await?;
    let opts = PipelineOptions {
        checkpoints: Checkpoints::durable(std::path::Path::new(&state))?,
        lake_sink: local_pipeline::runner::lake_sink(&aws, &t, &r).await,
        ..Default::default()
    };
    let handle = Pipeline::start_with(&aws, &t, &r, opts).await?;
    tokio::signal::ctrl_c().await?;
    eprintln!("stopping: finishing invocations, closing windows, flushing the lake");
    handle.shutdown().await;
    Ok(())
}

//! `playback-loadgen`: see the crate README for flags and examples.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use loadgen::cli::Cli;
use loadgen::runner;
use playback_domain::event::DEFAULT_MAX_FUTURE_SKEW_MS;

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let scenario = cli.scenario()?;
    if let Some(path) = &cli.catalogue_out {
        let n = loadgen::catalogue::write(&scenario, path)?;
        eprintln!("playback-loadgen: {n} titles -> {}", path.display());
        if cli.stream.is_none()
            && cli.out_file.is_none()
            && cli.kinesis_event_file.is_none()
            && cli.manifest.is_none()
        {
            return Ok(true);
        }
    }
    let outputs = cli.outputs()?;
    let opts = cli.run_options()?;
    let now = chrono::Utc::now().timestamp_millis();
    if let Some(end) = scenario.end_ms() {
        if !opts.pace && end > now + DEFAULT_MAX_FUTURE_SKEW_MS && outputs.stream.is_some() {
            eprintln!(
                "playback-loadgen: warning: unpaced run reaches {} s past now; consumers will refuse those events as from the future (use an earlier --start-time)",
                (end - now) / 1_000
            );
        }
    }
    let report = runner::run(scenario, outputs, opts)
        .await
        .context("run failed")?;
    print!("{report}");
    let undelivered = report.undelivered();
    if undelivered > 0 {
        eprintln!("playback-loadgen: {undelivered} records/messages could not be delivered");
    }
    Ok(undelivered == 0 && !report.interrupted)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("playback-loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("playback-loadgen: {e:#}");
            ExitCode::from(2)
        }
    }
}

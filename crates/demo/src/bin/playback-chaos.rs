//! `make chaos`: kills and restarts the local runner while the demo's
//! scenario plays, then checks that nothing was lost or counted twice.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "playback-chaos",
    about = "Fault-injection run of the local pipeline"
)]
struct Args {
    /// SIGKILLs of the runner (at least 5: one during a window flush, one during a lake landing)
    #[arg(long, default_value_t = 8)]
    kills: usize,
    /// How long the load runs, seconds
    #[arg(long, default_value_t = 90.0)]
    duration_s: f64,
    #[arg(long, default_value_t = 80.0)]
    rate: f64,
    #[arg(long, default_value_t = 600)]
    viewers: u32,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    #[arg(long, default_value = "out/chaos")]
    out_dir: PathBuf,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let runner = std::env::current_exe()?
        .parent()
        .context("binary directory")?
        .join("chaos-runner");
    if !runner.exists() {
        bail!(
            "{} is missing: `cargo build -p demo --bins` first (make chaos does)",
            runner.display()
        );
    }
    let cfg = demo::chaos::ChaosConfig {
        runner,
        kills: args.kills,
        duration_s: args.duration_s,
        rate: args.rate,
        viewers: args.viewers,
        seed: args.seed,
        out_dir: args.out_dir,
    };
    println!(
        "==> chaos: {} kills while {:.0} s of load play at {:.0} events/s",
        cfg.kills, cfg.duration_s, cfg.rate
    );
    let aws = playback_aws::load_aws_config().await;
    let report = demo::chaos::run(&aws, &cfg).await?;
    report.print();
    let failures = report.failures();
    for f in &failures {
        println!("    FAIL {f}");
    }
    if !failures.is_empty() {
        bail!("the chaos run broke {} promises", failures.len());
    }
    println!(
        "    ok   lost 0, double counted 0, every malformed event in the DLQ once per consumer"
    );
    Ok(())
}

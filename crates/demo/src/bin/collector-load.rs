//! `make load-collector`: the local collector under load (127.0.0.1 only),
//! PutRecords partially failing, every valid event checked in the stream.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;
use demo::collector_load::{run, LoadConfig};

#[derive(Parser, Debug)]
#[command(
    name = "collector-load",
    about = "Bounded load test of the local collector"
)]
struct Args {
    /// Valid events the players send, as fast as the collector answers
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Simulated events per second (players watching at once ~ rate x 10 s)
    #[arg(long, default_value_t = 5_000.0)]
    rate: f64,
    #[arg(long, default_value_t = 50_000)]
    viewers: u32,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Share of PutRecords entries the fault double refuses
    #[arg(long, default_value_t = 0.05)]
    put_failure_rate: f64,
    /// The collector's linger (PACK_LINGER_MS)
    #[arg(long, default_value_t = 1000)]
    linger_ms: u64,
    #[arg(long, default_value = "out/load-collector")]
    out_dir: PathBuf,
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    if !(0.0..1.0).contains(&a.put_failure_rate) {
        bail!(
            "--put-failure-rate must be in [0, 1) (got {})",
            a.put_failure_rate
        );
    }
    let cfg = LoadConfig {
        events: a.events,
        rate: a.rate,
        viewers: a.viewers,
        seed: a.seed,
        put_failure_rate: a.put_failure_rate,
        linger: Duration::from_millis(a.linger_ms),
        out_dir: a.out_dir,
    };
    println!(
        "==> load: {} events from {} players to the local collector (linger {} ms), {:.0} % of PutRecords entries refused",
        cfg.events,
        cfg.viewers,
        a.linger_ms,
        cfg.put_failure_rate * 100.0
    );
    let aws = playback_aws::load_aws_config().await;
    let report = run(&aws, &cfg).await?;
    report.print();
    let failures = report.failures();
    for f in &failures {
        println!("    FAIL {f}");
    }
    if !failures.is_empty() {
        bail!("the load test broke {} promises", failures.len());
    }
    println!("    ok   every valid event is in the stream; nothing lost under partial PutRecords failures");
    Ok(())
}

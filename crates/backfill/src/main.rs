//! playback-backfill: replays lake Parquet through the session-features and
//! QoE domain code. See crates/backfill/README.md.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use backfill::source::{self, Loaded};
use backfill::windows::{default_rule, write_windows_csv};
use backfill::{fold_viewers, recompute_windows, rows_to_events, write_features};
use clap::Parser;
use playback_aws::features_store::DynamoFeatureStore;
use playback_topology::{Topology, QOE_ALERTS};

#[derive(Parser, Debug)]
#[command(
    name = "playback-backfill",
    about = "Replay lake Parquet through the session-features and QoE domain code"
)]
struct Cli {
    /// Lake location on S3 (endpoint from AWS_ENDPOINT_URL), e.g. s3://bucket/events/
    #[arg(long, value_name = "S3_URL", conflicts_with = "from_dir")]
    from_lake: Option<String>,
    /// A local directory of .parquet files (searched recursively)
    #[arg(long, value_name = "DIR")]
    from_dir: Option<PathBuf>,
    /// First ingest day (dt partition), YYYY-MM-DD
    #[arg(long, value_name = "YYYY-MM-DD")]
    dt_from: Option<String>,
    /// Last ingest day (dt partition), YYYY-MM-DD, included
    #[arg(long, value_name = "YYYY-MM-DD")]
    dt_to: Option<String>,
    /// Write the features into this DynamoDB table (the stream's adapter)
    #[arg(long, value_name = "TABLE")]
    features_table: Option<String>,
    /// Dump the features as JSON lines
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write the recomputed QoE windows as CSV
    #[arg(long, value_name = "FILE")]
    windows_out: Option<PathBuf>,
    /// Tumbling window length (seconds, by arrival time; default: qoe-alerts' in pipeline.json)
    #[arg(long, default_value_t = default_window_s(), value_name = "SECONDS")]
    window_s: u32,
}

/// qoe-alerts' tumbling window in the compiled-in topology.
fn default_window_s() -> u32 {
    let c = &Topology::deployed().consumers[QOE_ALERTS];
    let s = c
        .tumbling_window_s
        .expect("validated on load: qoe-alerts has a tumbling window");
    u32::try_from(s).unwrap_or(u32::MAX)
}

/// Parses the command line; misuse is one line on stderr and exit code 2.
fn cli() -> Cli {
    match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.trim_start_matches("error: ");
            eprintln!("playback-backfill: {first} (see --help)");
            std::process::exit(2);
        }
    }
}

fn usage(msg: impl std::fmt::Display) -> ! {
    eprintln!("playback-backfill: {msg} (see --help)");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let cli = cli();
    if cli.from_lake.is_none() && cli.from_dir.is_none() {
        usage("give --from-lake s3://bucket/prefix or --from-dir DIR");
    }
    if cli.features_table.is_none() && cli.out.is_none() && cli.windows_out.is_none() {
        usage("give at least one output: --features-table, --out or --windows-out");
    }
    if cli.window_s == 0 {
        usage("--window-s must be at least 1");
    }
    let days = match (&cli.dt_from, &cli.dt_to) {
        (Some(f), Some(t)) => {
            let range = source::parse_day(f)
                .and_then(|f| source::parse_day(t).and_then(|t| source::days(f, t)));
            match range {
                Ok(d) => Some(d),
                Err(e) => usage(e),
            }
        }
        (None, None) if cli.from_lake.is_none() => None,
        (None, None) => usage("--from-lake needs --dt-from and --dt-to"),
        _ => usage("give both --dt-from and --dt-to"),
    };
    if let Some(url) = &cli.from_lake {
        if let Err(e) = source::parse_s3_url(url) {
            usage(e);
        }
    }
    if let Err(e) = run(cli, days).await {
        eprintln!("playback-backfill: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli, days: Option<Vec<chrono::NaiveDate>>) -> Result<()> {
    let started = Instant::now();
    let aws = match (&cli.from_lake, &cli.features_table) {
        (None, None) => None,
        _ => Some(playback_aws::load_aws_config().await),
    };
    let loaded: Loaded = match (&cli.from_lake, &cli.from_dir) {
        (Some(url), _) => {
            let (bucket, prefix) = source::parse_s3_url(url)?;
            let s3 = playback_aws::s3_client(aws.as_ref().expect("loaded above"));
            let store = lake::S3Store::new(s3, bucket);
            let days = days.as_deref().expect("checked in main");
            source::read_s3(&store, &prefix, days).await?
        }
        (None, Some(dir)) => source::read_dir(dir, days.as_deref())?,
        (None, None) => bail!("no source"),
    };
    let events = rows_to_events(&loaded.rows)?;
    eprintln!(
        "read {} rows from {} files: {} events in stream order",
        loaded.rows.len(),
        loaded.files.len(),
        events.len()
    );
    if let Some(table) = &cli.features_table {
        let client = aws_sdk_dynamodb::Client::new(aws.as_ref().expect("loaded above"));
        let store =
            DynamoFeatureStore::new(client, table, Topology::deployed().features.ttl_secs());
        let r = write_features(&store, &events)
            .await
            .with_context(|| format!("features into {table}"))?;
        eprintln!(
            "{table}: {} viewers, {} written, {} already up to date",
            r.viewers, r.written, r.unchanged
        );
    }
    if let Some(path) = &cli.out {
        let features = fold_viewers(&events);
        let mut w = create(path)?;
        for f in features.values() {
            serde_json::to_writer(&mut w, f)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        eprintln!("{}: {} viewers", path.display(), features.len());
    }
    if let Some(path) = &cli.windows_out {
        let rows = recompute_windows(&events, i64::from(cli.window_s) * 1000, &default_rule());
        let mut w = create(path)?;
        write_windows_csv(&rows, &mut w)?;
        w.flush()?;
        let alerts = rows.iter().filter(|r| r.alert).count();
        eprintln!(
            "{}: {} title x region windows, {alerts} breaching the alert rule",
            path.display(),
            rows.len()
        );
    }
    eprintln!("done in {:.2}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn create(path: &std::path::Path) -> Result<std::io::BufWriter<std::fs::File>> {
    let f = std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
    Ok(std::io::BufWriter::new(f))
}

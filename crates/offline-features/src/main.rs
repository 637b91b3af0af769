//! offline-features: the batch half of the recommender's features on a local
//! lake (`make features`). See crates/offline-features/README.md.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use offline_features::publish::{publish, Budget};
use offline_features::runs::{self, Manifest};
use offline_features::training;
use playback_aws::features_store::DynamoFeatureStore;
use playback_domain::catalogue::Catalogue;
use playback_topology::Topology;

#[derive(Parser, Debug)]
#[command(
    name = "offline-features",
    about = "Long-horizon runs into the online store; point-in-time training data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Publish the run at --as-of-ms (its Parquet under
    /// features/long_horizon/as_of=<ms>/) into the features table, then write
    /// its manifest: from then on it is history for training.
    Publish {
        #[arg(long, value_name = "DIR")]
        lake_dir: PathBuf,
        #[arg(long, value_name = "EPOCH_MS")]
        as_of_ms: i64,
        /// When the run reached the store (default: now)
        #[arg(long, value_name = "EPOCH_MS")]
        published_ms: Option<i64>,
        /// DynamoDB table (endpoint from AWS_ENDPOINT_URL)
        #[arg(long, value_name = "TABLE")]
        features_table: String,
        #[arg(long, default_value_t = Budget::default().writes_per_s)]
        writes_per_s: f64,
        #[arg(long, default_value_t = Budget::default().concurrency)]
        concurrency: usize,
    },
    /// Point-in-time training rows from an export of the canonical table,
    /// written as features/training_examples/dt=<day>/part-0.parquet (each day replaced whole).
    Training {
        #[arg(long, value_name = "DIR")]
        lake_dir: PathBuf,
        /// Parquet export of playback.events_canonical (lake_query.py --copy-to)
        #[arg(long, value_name = "FILE")]
        export: PathBuf,
        /// Only these days (YYYY-MM-DD); default every day with a label
        #[arg(long = "day", value_name = "YYYY-MM-DD")]
        days: Vec<String>,
    },
}

fn read(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("read {}", path.display()))
}

async fn run(cli: Cli) -> Result<()> {
    let started = Instant::now();
    match cli.command {
        Command::Publish {
            lake_dir,
            as_of_ms,
            published_ms,
            features_table,
            writes_per_s,
            concurrency,
        } => {
            let rows = runs::read_run_dir(&lake_dir, as_of_ms)?;
            let aws = playback_aws::load_aws_config().await;
            let store = DynamoFeatureStore::new(
                aws_sdk_dynamodb::Client::new(&aws),
                &features_table,
                Topology::deployed().features.ttl_secs(),
            );
            let published_ms =
                published_ms.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
            let budget = Budget {
                writes_per_s,
                concurrency,
                ..Budget::default()
            };
            let r = publish(&store, &rows, published_ms, budget)
                .await
                .with_context(|| format!("publish into {features_table}"))?;
            runs::write_manifest(
                &lake_dir,
                &Manifest {
                    as_of_ms,
                    published_ms,
                    viewers: rows.len(),
                    written: r.written,
                    stale: r.stale,
                },
            )?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "run {as_of_ms}: {} viewers, {} written, {} stale, {} retried, {secs:.1} s ({:.0} writes/s)",
                rows.len(),
                r.written,
                r.stale,
                r.retried,
                (r.written + r.stale) as f64 / secs.max(1e-3)
            );
        }
        Command::Training {
            lake_dir,
            export,
            days,
        } => {
            let rows = lake::read_rows(&read(&export)?)?;
            let events = backfill::rows_to_events(&rows)?;
            let titles = lake::read_titles(&read(&lake_dir.join(CATALOGUE_FILE))?)?;
            let catalogue = Catalogue::new(titles);
            let history = runs::load_history(&lake_dir)?;
            let examples = playback_domain::training::training_rows(
                events.iter().map(|e| (&e.event, &e.position)),
                &catalogue,
                &history,
            );
            let written = training::write_days(
                &lake_dir,
                &examples,
                &history,
                (!days.is_empty()).then_some(days.as_slice()),
            )?;
            for (day, n) in &written {
                println!(
                    "{}: {n} rows",
                    training::partition_dir(&lake_dir, day).display()
                );
            }
            println!(
                "{} events, {} published runs, {} training rows in {:.1} s",
                events.len(),
                history.runs().len(),
                written.values().sum::<usize>(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// The catalogue in a local lake (pipeline.json's catalogue prefix).
const CATALOGUE_FILE: &str = "catalogue/titles/part-0.parquet";

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("offline-features: {e:#}");
        std::process::exit(1);
    }
}

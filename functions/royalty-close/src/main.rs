//! royalty-close: the daily royalty close (crates/royalty does the work).
//!
//! On AWS (AWS_LAMBDA_RUNTIME_API set) it is a Lambda run daily by
//! EventBridge: it closes the day before the event's time (UTC) on Athena,
//! first closing any missed day; `{"date": "YYYY-MM-DD"}` closes (or
//! re-runs) that day instead. Locally, `royalty-close --date YYYY-MM-DD`
//! closes the day with DuckDB over the emulator's lake (AWS_ENDPOINT_URL) and
//! prints the report CSV. functions/royalty-close/README.md lists the settings.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use clap::Parser;
use lambda_runtime::{service_fn, LambdaEvent};
use playback_topology::Topology;
use royalty::params::parse_day;
use royalty::{catch_up, close_day, AthenaEngine, CloseConfig, CloseOutcome, DuckDbEngine, Store};
use serde_json::{json, Value};

/// Most days one invocation closes when catching up (Lambda timeout: 15 min).
const MAX_CATCH_UP_DAYS: u32 = 7;

#[derive(Parser, Debug)]
#[command(about = "Close a royalty day (UTC) and print its report")]
struct Cli {
    /// UTC day to close, YYYY-MM-DD
    #[arg(long)]
    date: String,
    /// duckdb (local, the lake on AWS_ENDPOINT_URL's S3) or athena
    #[arg(long, default_value = "duckdb")]
    engine: String,
}

/// Settings from the environment; unset ones default to infra/pipeline.json.
struct Settings {
    cfg: CloseConfig,
    lake_prefix: String,
    database: String,
    workgroup: String,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn env_num(name: &str, default: u32) -> Result<u32> {
    let v = env_or(name, &default.to_string());
    v.trim()
        .parse()
        .with_context(|| format!("{name}={v:?} is not a whole number"))
}

fn settings() -> Result<Settings> {
    let lake = Topology::embedded()?.lake;
    let reports_prefix = env_or("REPORTS_PREFIX", &lake.reports_prefix);
    let ledger_default = format!("{reports_prefix}ledger/");
    let database = env_or("GLUE_DATABASE", &lake.glue_database);
    let mut cfg = CloseConfig::new(
        &env_or("LAKE_BUCKET", &lake.bucket),
        &reports_prefix,
        &env_or("LEDGER_PREFIX", &ledger_default),
    );
    cfg.events_table = format!(
        "{database}.{}",
        env_or("CANONICAL_TABLE", "events_canonical")
    );
    cfg.ledger_table = format!("{database}.{}", env_or("LEDGER_TABLE", "royalty_ledger"));
    cfg.grace_hours = env_num("GRACE_HOURS", 1)?;
    cfg.lookback_days = env_num("LOOKBACK_DAYS", 1)?;
    cfg.ledger_days = match env_num("LEDGER_DAYS", 0)? {
        0 => None,
        n => Some(n),
    };
    for (name, p) in [
        ("REPORTS_PREFIX", &cfg.reports_prefix),
        ("LEDGER_PREFIX", &cfg.ledger_prefix),
    ] {
        if !p.ends_with('/') {
            bail!("{name}={p:?} must end with '/'");
        }
    }
    Ok(Settings {
        cfg,
        lake_prefix: env_or("LAKE_PREFIX", &lake.prefix),
        database,
        workgroup: env_or("ATHENA_WORKGROUP", &lake.athena_workgroup),
    })
}

async fn clients() -> (aws_sdk_s3::Client, aws_sdk_athena::Client) {
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    (
        playback_aws::s3_client(&shared),
        aws_sdk_athena::Client::new(&shared),
    )
}

/// The day a Lambda event asks to close: `date`, else the day before the
/// scheduled event's `time`, else yesterday (UTC).
fn target_day(event: &Value, now: DateTime<Utc>) -> Result<NaiveDate> {
    if let Some(d) = event.get("date").and_then(Value::as_str) {
        return Ok(parse_day(d)?);
    }
    let at = match event.get("time").and_then(Value::as_str) {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .with_context(|| format!("event time {t:?}"))?
            .with_timezone(&Utc),
        None => now,
    };
    Ok(at.date_naive() - Duration::days(1))
}

fn summary(o: &CloseOutcome) -> Value {
    json!({
        "close_id": o.report.close_id.to_string(),
        "rerun": o.rerun,
        "rows": o.report.rows.len(),
        "events": o.report.total_events(),
        "watched_ms": o.report.total_watched_ms(),
        "report": o.csv_key,
    })
}

async fn lambda() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let s = settings()?;
    let (s3, athena) = clients().await;
    let store = Store::new(s3, &s.cfg.bucket);
    let engine = AthenaEngine::new(athena, &s.workgroup, &s.database);
    let (store, engine, cfg) = (&store, &engine, &s.cfg);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let target = target_day(&event.payload, Utc::now())?;
        let explicit = event.payload.get("date").is_some();
        let done = if explicit {
            vec![close_day(engine, store, cfg, target).await?]
        } else {
            catch_up(engine, store, cfg, target, MAX_CATCH_UP_DAYS).await?
        };
        Ok::<_, lambda_runtime::Error>(
            json!({ "closed": done.iter().map(summary).collect::<Vec<_>>() }),
        )
    }))
    .await
}

async fn local(cli: Cli) -> Result<()> {
    let day = parse_day(&cli.date)?;
    let s = settings()?;
    let (s3, athena) = clients().await;
    let store = Store::new(s3, &s.cfg.bucket);
    let out = match cli.engine.as_str() {
        "duckdb" => {
            if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
                bail!(
                    "no emulator: set AWS_ENDPOINT_URL (make emulator-up) or use --engine athena"
                );
            }
            let root = std::env::current_dir()?;
            let engine = DuckDbEngine::in_workspace(
                &root,
                &s.cfg.bucket,
                &s.lake_prefix,
                &s.cfg.ledger_prefix,
            );
            close_day(&engine, &store, &s.cfg, day).await?
        }
        "athena" => {
            let engine = AthenaEngine::new(athena, &s.workgroup, &s.database);
            close_day(&engine, &store, &s.cfg, day).await?
        }
        other => bail!("--engine {other:?}: expected duckdb or athena"),
    };
    print!("{}", out.report.to_csv());
    eprintln!(
        "closed {day}{}: {} rows, {} events, {} minutes -> s3://{}/{}",
        if out.rerun { " (re-run)" } else { "" },
        out.report.rows.len(),
        out.report.total_events(),
        royalty::report::format_minutes(out.report.total_watched_ms()),
        s.cfg.bucket,
        out.csv_key
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        if let Err(e) = lambda().await {
            eprintln!("royalty-close: {e}");
            std::process::exit(1);
        }
        return;
    }
    let cli = Cli::parse();
    if let Err(e) = local(cli).await {
        eprintln!("royalty-close: {}", format!("{e:#}").replace('\n', " "));
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_day_from_event() {
        let now = DateTime::parse_from_rfc3339("2026-03-05T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let d = |s| parse_day(s).unwrap();
        assert_eq!(target_day(&json!({}), now).unwrap(), d("2026-03-04"));
        let scheduled = json!({"source": "aws.events", "time": "2026-03-03T02:00:00Z"});
        assert_eq!(target_day(&scheduled, now).unwrap(), d("2026-03-02"));
        assert_eq!(
            target_day(&json!({"date": "2026-02-01"}), now).unwrap(),
            d("2026-02-01")
        );
        assert!(target_day(&json!({"date": "2026-02-30"}), now).is_err());
    }
}

//! One invocation: "merge" (ensure the table, read the watermark, MERGE the
//! window (watermark, horizon]), "optimize" (bin-pack recent days) or
//! "vacuum" (expire snapshots past the retention, remove orphans).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use playback_aws::emf::Metrics;
use serde_json::{json, Value};

use crate::{hot, sql, Answer, Config, JobError, SqlEngine};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Merge,
    Optimize,
    Vacuum,
}

impl Action {
    /// `{"action": "merge" | "optimize" | "vacuum"}`; absent (EventBridge's
    /// scheduled event) = merge.
    pub fn from_event(event: &Value) -> Result<Self, JobError> {
        match event.get("action") {
            None | Some(Value::Null) => Ok(Action::Merge),
            Some(Value::String(s)) => match s.as_str() {
                "merge" => Ok(Action::Merge),
                "optimize" => Ok(Action::Optimize),
                "vacuum" => Ok(Action::Vacuum),
                other => Err(JobError::Event(format!("unknown action {other:?}"))),
            },
            Some(v) => Err(JobError::Event(format!("action must be a string, got {v}"))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Merge => "merge",
            Action::Optimize => "optimize",
            Action::Vacuum => "vacuum",
        }
    }
}

/// What an invocation did (also its Lambda response).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub watermark: Option<DateTime<Utc>>,
    pub horizon: Option<DateTime<Utc>>,
    pub days: Vec<NaiveDate>,
    pub merged: bool,
    /// Hot-tier rollups merged (after the canonical MERGE) or expired (optimize).
    pub hot: u32,
    pub statements: u32,
    pub bytes_scanned: u64,
}

impl Report {
    pub fn to_json(&self, action: Action) -> Value {
        json!({
            "action": action.name(),
            "watermark": self.watermark.map(sql::ts),
            "horizon": self.horizon.map(sql::ts),
            "event_days": self.days.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "merged": self.merged,
            "hot_rollups": self.hot,
            "statements": self.statements,
            "bytes_scanned": self.bytes_scanned,
        })
    }
}

async fn exec<E: SqlEngine>(
    engine: &E,
    report: &mut Report,
    stmt: &str,
) -> Result<Answer, JobError> {
    let a = engine.run(stmt).await?;
    report.statements += 1;
    report.bytes_scanned += a.bytes_scanned;
    Ok(a)
}

/// Athena's `CAST(timestamp AS varchar)`: `YYYY-MM-DD HH:MM:SS[.fff]` (UTC).
pub fn parse_ts(text: &str) -> Result<DateTime<Utc>, JobError> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f")
        .map(|t| t.and_utc())
        .map_err(|e| JobError::Answer(format!("timestamp {text:?}: {e}")))
}

fn single(a: &Answer) -> Option<&str> {
    a.rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.as_deref())
}

/// The run's window: horizon = now - settle; the watermark is read from the table.
pub fn horizon(cfg: &Config, now: DateTime<Utc>) -> DateTime<Utc> {
    now - cfg.settle
}

/// The watermark read horizon - lookback days back (event days, for cost).
pub fn watermark_since(cfg: &Config, horizon: DateTime<Utc>) -> DateTime<Utc> {
    let day = (horizon - Duration::days(i64::from(cfg.lookback_days))).date_naive();
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

pub async fn run<E: SqlEngine>(
    engine: &E,
    cfg: &Config,
    action: Action,
    now: DateTime<Utc>,
    metrics: &Metrics,
) -> Result<Report, JobError> {
    let mut report = Report::default();
    let result = match action {
        Action::Merge => match merge(engine, cfg, now, &mut report).await {
            Ok(()) => refresh_hot(engine, cfg, now, &mut report).await,
            err => err,
        },
        Action::Optimize => optimize(engine, cfg, now, &mut report).await,
        Action::Vacuum => exec(engine, &mut report, &sql::vacuum_sql(&cfg.table))
            .await
            .map(|_| ()),
    };
    let dims = [("Function", "canonical-merge"), ("Action", action.name())];
    let mut m: Vec<(&str, f64, &str)> = vec![
        (
            "CanonicalBytesScanned",
            report.bytes_scanned as f64,
            "Bytes",
        ),
        ("CanonicalStatements", f64::from(report.statements), "Count"),
        (
            "CanonicalFailures",
            if result.is_err() { 1.0 } else { 0.0 },
            "Count",
        ),
    ];
    if let (Action::Merge, Ok(()), Some(h)) = (action, &result, report.horizon) {
        // A run that succeeded has committed every row that arrived up to
        // max(watermark, horizon): the lag is now - that.
        let reached = report.watermark.map_or(h, |w| w.max(h));
        let lag = (now - reached).num_milliseconds() as f64 / 1000.0;
        m.push(("CanonicalWatermarkLagSeconds", lag, "Seconds"));
        m.push(("CanonicalEventDays", report.days.len() as f64, "Count"));
    }
    metrics.emit(&dims, &m);
    result.map(|()| report)
}

/// Schema evolution: a table created by an older release lacks the columns
/// added to the contract since (startup_ms in v2); Iceberg adds them in place.
async fn add_missing_columns<E: SqlEngine>(
    engine: &E,
    cfg: &Config,
    report: &mut Report,
) -> Result<(), JobError> {
    let got = exec(engine, report, &sql::columns_sql(&cfg.table)?).await?;
    let have: Vec<String> = (got.rows.iter())
        .filter_map(|r| r.first().cloned().flatten())
        .map(|c| c.trim().to_lowercase())
        .collect();
    if have.is_empty() {
        // Not an answer to act on: adding every column would fail anyway.
        return Err(JobError::Answer(format!(
            "{}: no columns listed",
            cfg.table
        )));
    }
    let missing: Vec<_> = (sql::table_columns()?.into_iter())
        .filter(|(n, _)| !have.iter().any(|h| h == n))
        .collect();
    if !missing.is_empty() {
        tracing::info!(?missing, table = %cfg.table, "adding columns (schema evolution)");
        exec(engine, report, &sql::add_columns_sql(&missing)?).await?;
    }
    Ok(())
}

async fn merge<E: SqlEngine>(
    engine: &E,
    cfg: &Config,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), JobError> {
    let ddl = sql::table_sql(
        &cfg.bucket,
        &cfg.canonical_prefix,
        u64::from(cfg.retention_days) * 86_400,
    )?;
    exec(engine, report, &ddl).await?;
    add_missing_columns(engine, cfg, report).await?;
    let horizon = horizon(cfg, now);
    report.horizon = Some(horizon);
    // The recent arrivals first (cheap); the whole lookback only if none.
    let since = watermark_since(cfg, horizon);
    let mut watermark = None;
    for recent in [horizon - cfg.watermark_recent, DateTime::<Utc>::UNIX_EPOCH] {
        let got = exec(engine, report, &sql::watermark_sql(since, recent)?).await?;
        if let Some(t) = single(&got) {
            watermark = Some(parse_ts(t)?);
            break;
        }
    }
    let watermark = watermark.unwrap_or(cfg.start);
    report.watermark = Some(watermark);
    if horizon <= watermark {
        tracing::info!(%watermark, %horizon, "nothing due: horizon <= watermark");
        return Ok(());
    }
    let got = exec(engine, report, &sql::days_sql(watermark, horizon)?).await?;
    let mut days = Vec::new();
    for row in &got.rows {
        let Some(Some(d)) = row.first() else { continue };
        let day = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .map_err(|e| JobError::Answer(format!("event day {d:?}: {e}")))?;
        days.push(day);
    }
    days.sort();
    days.dedup();
    report.days = days;
    if report.days.is_empty() {
        tracing::info!(%watermark, %horizon, "no new rows in the window");
        return Ok(());
    }
    exec(
        engine,
        report,
        &sql::merge_sql(watermark, horizon, &report.days)?,
    )
    .await?;
    report.merged = true;
    Ok(())
}

/// Every rollup brought up to the canonical table, also when the merge had
/// nothing new (a run that died after its merge left the rollups behind).
async fn refresh_hot<E: SqlEngine>(
    engine: &E,
    cfg: &Config,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), JobError> {
    for ddl in hot::tables_sql(&cfg.bucket, &cfg.hot_prefix)? {
        exec(engine, report, &ddl).await?;
    }
    for (table, merge) in hot::ROLLUPS {
        let since = hot_watermark(engine, table, report).await?;
        exec(engine, report, &hot::merge_sql(merge, since, now)?).await?;
        report.hot += 1;
    }
    Ok(())
}

async fn hot_watermark<E: SqlEngine>(
    engine: &E,
    table: &str,
    report: &mut Report,
) -> Result<DateTime<Utc>, JobError> {
    let got = exec(engine, report, &hot::watermark_sql(table)?).await?;
    match single(&got) {
        Some(t) => parse_ts(t),
        None => Ok(DateTime::<Utc>::UNIX_EPOCH),
    }
}

async fn optimize<E: SqlEngine>(
    engine: &E,
    cfg: &Config,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), JobError> {
    let since = (now - Duration::days(i64::from(cfg.optimize_days))).date_naive();
    exec(engine, report, &sql::optimize_sql(&cfg.table, since)).await?;
    for (table, _) in hot::ROLLUPS {
        let watermark = hot_watermark(engine, table, report).await?;
        exec(engine, report, &hot::expire_sql(table, watermark, now)?).await?;
        report.hot += 1;
    }
    Ok(())
}

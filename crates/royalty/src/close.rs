//! The close of one UTC day, and the catch-up of missed days.
//!
//! 1. check order: a new close needs the previous day closed (or no close yet)
//!    and no later close; re-running an existing close is always allowed;
//! 2. the canonical table's snapshot: the current one for a first close, the
//!    one its close.json recorded for a re-run (time travel: same rows);
//! 3. empty the close's ledger partition and write it from royalty_close.sql
//!    (scope, anti-join with EARLIER closes' ledger entries);
//! 4. aggregate that partition with royalty_report.sql;
//! 5. write close.json, report.csv and report.parquet (overwrite), drop any
//!    other object there. The report is written last: it marks the close as done.

use chrono::{Duration, NaiveDate};

use crate::engine::QueryEngine;
use crate::params::{day, CloseParams};
use crate::report::Report;
use crate::sql::{self, render, with_tables};
use crate::store::{ledger_partition, report_dir, Store};
use crate::RoyaltyError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseConfig {
    pub bucket: String,
    /// `royalty/`: reports go to `<reports_prefix>reports/close_id=.../`.
    pub reports_prefix: String,
    /// `royalty/ledger/`: one partition per close.
    pub ledger_prefix: String,
    /// `database.table` of the raw events and of the ledger.
    pub events_table: String,
    pub ledger_table: String,
    pub grace_hours: u32,
    pub lookback_days: u32,
    pub ledger_days: Option<u32>,
}

impl CloseConfig {
    /// Defaults: tables as the SQL files name them, 1 h grace, 1 day lookback.
    pub fn new(bucket: &str, reports_prefix: &str, ledger_prefix: &str) -> Self {
        CloseConfig {
            bucket: bucket.into(),
            reports_prefix: reports_prefix.into(),
            ledger_prefix: ledger_prefix.into(),
            events_table: sql::EVENTS_TABLE.into(),
            ledger_table: sql::LEDGER_TABLE.into(),
            grace_hours: 1,
            lookback_days: 1,
            ledger_days: None,
        }
    }

    pub fn params(&self, close_date: NaiveDate) -> CloseParams {
        CloseParams {
            close_date,
            grace_hours: self.grace_hours,
            lookback_days: self.lookback_days,
            ledger_days: self.ledger_days,
        }
    }

    fn sql(&self, template: &str, params: &[(&str, String)]) -> Result<String, RoyaltyError> {
        Ok(with_tables(
            &render(template, params)?,
            &self.events_table,
            &self.ledger_table,
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseOutcome {
    pub report: Report,
    /// The close had run before (its report existed).
    pub rerun: bool,
    pub csv_key: String,
    pub parquet_key: String,
    pub ledger_prefix: String,
    /// The canonical table's snapshot the close read (recorded in close.json).
    pub snapshot_id: String,
}

/// close.json: what a re-run or an auditor needs to read the same rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CloseRecord {
    pub close_id: String,
    pub canonical_table: String,
    pub snapshot_id: String,
}

/// The snapshot a close of `day_` reads: the recorded one on a re-run (so the
/// re-run pays exactly what the first run paid), else the table's current one.
async fn snapshot_for<E: QueryEngine>(
    engine: &E,
    store: &Store,
    cfg: &CloseConfig,
    record_key: &str,
    rerun: bool,
) -> Result<String, RoyaltyError> {
    if rerun {
        if let Ok(body) = store.get(record_key).await {
            let rec: CloseRecord = serde_json::from_slice(&body)
                .map_err(|e| RoyaltyError::Report(format!("{record_key}: {e}")))?;
            return Ok(rec.snapshot_id);
        }
        tracing::warn!(%record_key, "re-run of a close without close.json: reading the current snapshot");
    }
    let sql = sql::CANONICAL_SNAPSHOT_SQL.replace(
        "playback.\"events_canonical$snapshots\"",
        &snapshots_table(&cfg.events_table),
    );
    let rows = engine.query(&sql).await?;
    match rows.rows.first().and_then(|r| r.first()).cloned().flatten() {
        Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        Some(id) => Err(RoyaltyError::Report(format!(
            "snapshot id {id:?} is not a number"
        ))),
        None => Err(RoyaltyError::Order(format!(
            "{} has no snapshot yet: run the canonical job first",
            cfg.events_table
        ))),
    }
}

/// `db."table$snapshots"`, Athena's metadata table of `db.table`.
fn snapshots_table(table: &str) -> String {
    let (db, name) = table.split_once('.').unwrap_or(("playback", table));
    format!("{db}.\"{name}$snapshots\"")
}

/// Whether closing `day` now keeps the ledger's order (see module doc).
pub fn check_order(closed: &[NaiveDate], day_: NaiveDate) -> Result<bool, RoyaltyError> {
    if closed.contains(&day_) {
        return Ok(true);
    }
    match closed.iter().max() {
        None => Ok(false),
        Some(&last) if last > day_ => Err(RoyaltyError::Order(format!(
            "{} is after {}: a new close may not run once a later day is closed",
            day(last),
            day(day_)
        ))),
        Some(&last) if last + Duration::days(1) != day_ => {
            let (from, to) = (last + Duration::days(1), day_ - Duration::days(1));
            let missing = if from == to {
                day(from)
            } else {
                format!("{} .. {}", day(from), day(to))
            };
            Err(RoyaltyError::Order(format!(
                "last close is {}; close {missing} first",
                day(last)
            )))
        }
        Some(_) => Ok(false),
    }
}

pub async fn close_day<E: QueryEngine>(
    engine: &E,
    store: &Store,
    cfg: &CloseConfig,
    close_date: NaiveDate,
) -> Result<CloseOutcome, RoyaltyError> {
    let params = cfg.params(close_date);
    params.validate()?;
    let rerun = check_order(&store.closed_days(&cfg.reports_prefix).await?, close_date)?;
    let location = format!("s3://{}/{}", cfg.bucket, cfg.ledger_prefix);
    let ddl = cfg.sql(
        sql::ROYALTY_LEDGER_TABLE_SQL,
        &[("ledger_location", location)],
    )?;
    engine.ensure_ledger_table(&ddl).await?;

    let dir = report_dir(&cfg.reports_prefix, close_date);
    let record_key = format!("{dir}close.json");
    let snapshot_id = snapshot_for(engine, store, cfg, &record_key, rerun).await?;
    let partition = ledger_partition(&cfg.ledger_prefix, close_date);
    store.delete_prefix(&partition).await?;
    let mut close_params = params.close_sql_params();
    close_params.push(("snapshot_id", snapshot_id.clone()));
    let close_sql = cfg.sql(sql::ROYALTY_CLOSE_SQL, &close_params)?;
    engine
        .write_parquet(&close_sql, &cfg.bucket, &partition)
        .await?;

    let report_sql = cfg.sql(sql::ROYALTY_REPORT_SQL, &params.report_sql_params())?;
    let report = Report::from_query(close_date, &engine.query(&report_sql).await?)?;

    let (csv_key, parquet_key) = (format!("{dir}report.csv"), format!("{dir}report.parquet"));
    let record = CloseRecord {
        close_id: day(close_date),
        canonical_table: cfg.events_table.clone(),
        snapshot_id: snapshot_id.clone(),
    };
    let record_json = serde_json::to_vec_pretty(&record)
        .map_err(|e| RoyaltyError::Report(format!("close.json: {e}")))?;
    store
        .put(&record_key, record_json, "application/json")
        .await?;
    store
        .put(
            &parquet_key,
            report.to_parquet()?,
            "application/vnd.apache.parquet",
        )
        .await?;
    store
        .put(&csv_key, report.to_csv().into_bytes(), "text/csv")
        .await?;
    for stale in store.list(&dir).await? {
        if stale != csv_key && stale != parquet_key && stale != record_key {
            store.delete_prefix(&stale).await?;
        }
    }
    tracing::info!(
        engine = engine.name(),
        close_id = %day(close_date),
        rerun,
        snapshot_id = %snapshot_id,
        rows = report.rows.len(),
        events = report.total_events(),
        watched_ms = report.total_watched_ms(),
        "royalty close done"
    );
    Ok(CloseOutcome {
        report,
        rerun,
        csv_key,
        parquet_key,
        ledger_prefix: partition,
        snapshot_id,
    })
}

/// Closes every day after the last close up to `target` in order (at most
/// `max_days`), or re-runs `target` if it is already closed. The first close
/// ever is `target` alone.
pub async fn catch_up<E: QueryEngine>(
    engine: &E,
    store: &Store,
    cfg: &CloseConfig,
    target: NaiveDate,
    max_days: u32,
) -> Result<Vec<CloseOutcome>, RoyaltyError> {
    let days = days_to_close(&store.closed_days(&cfg.reports_prefix).await?, target);
    if days.len() > max_days as usize {
        return Err(RoyaltyError::Order(format!(
            "{} days to close up to {} (more than {max_days}); close them explicitly",
            days.len(),
            day(target)
        )));
    }
    let mut out = Vec::new();
    for d in days {
        out.push(close_day(engine, store, cfg, d).await?);
    }
    Ok(out)
}

/// The days `catch_up` closes, in order.
pub fn days_to_close(closed: &[NaiveDate], target: NaiveDate) -> Vec<NaiveDate> {
    match closed.iter().max() {
        Some(&last) if last < target => {
            let n = (target - last).num_days();
            (1..=n).map(|i| last + Duration::days(i)).collect()
        }
        _ => vec![target],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::parse_day;

    fn d(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    #[test]
    fn closes_run_in_day_order() {
        let closed = [d("2026-03-01"), d("2026-03-02")];
        assert!(!check_order(&[], d("2026-03-01")).unwrap());
        assert!(!check_order(&closed, d("2026-03-03")).unwrap());
        assert!(check_order(&closed, d("2026-03-01")).unwrap()); // re-run
        let gap = check_order(&closed, d("2026-03-05"))
            .unwrap_err()
            .to_string();
        assert!(
            gap.contains("close 2026-03-03 .. 2026-03-04 first"),
            "{gap}"
        );
        assert!(check_order(&closed, d("2026-02-28")).is_err());
    }

    #[test]
    fn catch_up_closes_the_missing_days() {
        let closed = [d("2026-03-01")];
        assert_eq!(days_to_close(&[], d("2026-03-05")), vec![d("2026-03-05")]);
        assert_eq!(
            days_to_close(&closed, d("2026-03-03")),
            vec![d("2026-03-02"), d("2026-03-03")]
        );
        assert_eq!(
            days_to_close(&closed, d("2026-03-01")),
            vec![d("2026-03-01")]
        );
    }
}

//! The hot tier on Athena: after each merge, every rollup of
//! infra/athena/hot/ is brought up to the canonical table (its watermark is the
//! latest arrival its rows reflect; the MERGE recomputes the hours touched since,
//! so a crash anywhere only means recomputing). The daily optimize drops hours
//! older than the hot window. scripts/hot_tier.py runs the same files locally.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::sql::{render, ts};
use crate::JobError;

pub const TABLES_SQL: &str = include_str!("../../../infra/athena/hot/tables.sql");
pub const WATERMARK_SQL: &str = include_str!("../../../infra/athena/hot/watermark.sql");
/// (table, its MERGE).
pub const ROLLUPS: [(&str, &str); 3] = [
    (
        "hot_title_region_hour",
        include_str!("../../../infra/athena/hot/title_region_hour.sql"),
    ),
    (
        "hot_viewers_hour",
        include_str!("../../../infra/athena/hot/viewers_hour.sql"),
    ),
    (
        "hot_errors_hour",
        include_str!("../../../infra/athena/hot/errors_hour.sql"),
    ),
];
/// Days the hot tier holds (the hot_*.sql named queries read the last 7).
pub const HOT_DAYS: i64 = 7;

/// The first hour of the hot window: midnight UTC, HOT_DAYS before today.
pub fn hot_from(now: DateTime<Utc>) -> NaiveDateTime {
    (now.date_naive() - Duration::days(HOT_DAYS)).and_time(chrono::NaiveTime::MIN)
}

/// One CREATE TABLE IF NOT EXISTS per rollup.
pub fn tables_sql(bucket: &str, hot_prefix: &str) -> Result<Vec<String>, JobError> {
    let all = render(
        TABLES_SQL,
        &[("bucket", bucket), ("hot_prefix", hot_prefix)],
    )?;
    Ok(all
        .split("\n;\n")
        .map(|s| s.trim().to_string())
        .filter(|s| s.contains("CREATE TABLE"))
        .collect())
}

pub fn watermark_sql(table: &str) -> Result<String, JobError> {
    render(WATERMARK_SQL, &[("rollup", table)])
}

pub fn merge_sql(
    merge: &str,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<String, JobError> {
    let from = hot_from(now).format("%Y-%m-%d %H:%M:%S").to_string();
    render(merge, &[("since", &ts(since)), ("hot_from", &from)])
}

/// Hours that left the hot window.
pub fn expire_sql(database: &str, table: &str, now: DateTime<Utc>) -> String {
    format!(
        "DELETE FROM {database}.{table} WHERE event_hour < TIMESTAMP '{}'",
        hot_from(now).format("%Y-%m-%d %H:%M:%S")
    )
}
